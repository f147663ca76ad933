"""POSTing a JSON document to an operator's URL (a Slack incoming webhook, a monitoring hook).

The one HTTP request waba makes that is not to Meta: `waba health check --notify URL`. It lives
beside the Graph client so that httpx stays in ``graph/``. A notification must never hang or fail
the command that sends it: one short timeout per attempt, a bounded number of attempts (network
errors, 429 and 5xx are tried again after 0.5 s, 1 s, ...; any other answer is final), and the
outcome is returned, never raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from waba_cli import __version__


@dataclass(frozen=True)
class Delivery:
    """How the POST went: ``ok`` on a 2xx answer; ``error`` says why not."""

    ok: bool
    attempts: int
    status_code: int | None = None
    error: str | None = None


async def post_json(
    url: str,
    document: Mapping[str, Any],
    *,
    timeout: float = 5.0,
    attempts: int = 3,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Delivery:
    """POST ``document`` as JSON to ``url``, at most ``attempts`` times; never raises for HTTP."""
    body = orjson.dumps(dict(document))
    headers = {"Content-Type": "application/json", "User-Agent": f"waba-cli/{__version__}"}
    error = "not attempted"
    status: int | None = None
    tries = max(1, attempts)
    async with httpx.AsyncClient(timeout=httpx.Timeout(timeout), transport=transport) as client:
        for attempt in range(1, tries + 1):
            try:
                response = await client.post(url, content=body, headers=headers)
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                status, error = None, " ".join(f"{type(exc).__name__}: {exc}".split()).rstrip(":")
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return Delivery(ok=True, attempts=attempt, status_code=status)
                error = f"HTTP {status}"
                if status != 429 and status < 500:
                    return Delivery(ok=False, attempts=attempt, status_code=status, error=error)
            if attempt < tries:
                await sleep(0.5 * 2 ** (attempt - 1))
    return Delivery(ok=False, attempts=tries, status_code=status, error=error)
