"""A real serve-webhook on 127.0.0.1 for the stories: uvicorn in a thread, httpx as Meta."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.webhook import Receiver, start_receiver


@pytest.fixture
def receiver(business: dict[str, Any]) -> Iterator[Receiver]:
    app, uvicorn_server, thread, log = start_receiver()
    port = uvicorn_server.servers[0].sockets[0].getsockname()[1]
    with httpx.Client(timeout=10) as client:
        receiver = Receiver(f"http://127.0.0.1:{port}", client, app, log)
        yield receiver
    uvicorn_server.should_exit = True
    thread.join(timeout=15)
    assert not thread.is_alive()
    if receiver.store is not None:
        receiver.store.dispose()
