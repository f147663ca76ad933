"""A mocked Graph API, as the graph tests and the command tests read it: the base URL a client
uses, a token, the body a route received, and a sleep that does not wait."""

from __future__ import annotations

import json
from typing import Any

import respx

TOKEN = "EAAGtoken0123456789abcdefghijklmnopqrstuvwxyz"
BASE = "https://graph.facebook.com/v23.0"


def url(path: str) -> str:
    return f"{BASE}/{path}"


def body_of(route: respx.Route, index: int = -1) -> Any:
    """The JSON body of a call the route received: the last one unless ``index`` says otherwise."""
    return json.loads(route.calls[index].request.content)


async def no_sleep(seconds: float) -> None:
    """A client's backoff, without the wait."""
    return
