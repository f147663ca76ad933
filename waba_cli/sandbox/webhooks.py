"""The webhooks the sandbox sends: Meta's shapes (§8), signed like Meta (§8.3), batched and retried.

Bodies are written the way Meta writes them: compact JSON with non-ASCII escaped as ``\\uXXXX``,
signed with ``X-Hub-Signature-256: sha256=<hmac of the raw bytes with the app secret>``. Changes
queued within a few milliseconds of each other go out in one delivery (Meta batches too: up to
1,000 updates per POST), statuses of one number merged into one change. A delivery that does not
get a 2xx is retried with backoff (Meta retries for days; the sandbox for about half a minute).
Before a callback URL is accepted, Meta's verification request must get the challenge back.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from waba_cli.sandbox.errors import GraphFailure

OBJECT = "whatsapp_business_account"
MAX_BATCH = 1000
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)


def encode(payload: dict[str, Any]) -> bytes:
    """The raw body as Meta sends it: compact, non-ASCII as lowercase ``\\uXXXX`` escapes."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode()


def signature(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` value for ``body``."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def envelope(waba_id: str, changes: list[dict[str, Any]], *, at: int | None = None) -> dict[str, Any]:
    """One delivery with one entry; ``at`` (entry.time) only on business-management fields (§8.4)."""
    entry: dict[str, Any] = {"id": waba_id}
    if at is not None:
        entry["time"] = at
    entry["changes"] = changes
    return {"object": OBJECT, "entry": [entry]}


def messages_value(display_digits: str, phone_number_id: str, **items: Any) -> dict[str, Any]:
    """A ``messages`` field value: metadata plus ``contacts``/``messages``/``statuses``/``errors``."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": display_digits, "phone_number_id": phone_number_id},
    }
    value.update({key: item for key, item in items.items() if item is not None})
    return value


async def post_signed(client: httpx.AsyncClient, url: str, payload: dict[str, Any], app_secret: str) -> httpx.Response:
    """POST one signed delivery (no retry)."""
    body = encode(payload)
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature(body, app_secret)}
    return await client.post(url, content=body, headers=headers)


async def send_once(url: str, payload: dict[str, Any], app_secret: str, *, timeout: float = 10.0) -> int:
    """Deliver ``payload`` to ``url`` once, signed; the HTTP status of the answer."""
    async with httpx.AsyncClient(timeout=timeout) as client:
        response = await post_signed(client, url, payload, app_secret)
        return response.status_code


async def verify_callback(url: str, verify_token: Any) -> None:
    """Meta's verification request (§8.2): the URL must echo the challenge."""
    challenge = str(secrets.randbelow(10**9))
    query = {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": str(verify_token or "")}
    problem = None
    try:
        async with httpx.AsyncClient(timeout=5.0) as client:
            response = await client.get(url, params=query)
        if response.status_code != 200 or response.text.strip() != challenge:
            problem = f"The URL answered HTTP {response.status_code} without the challenge"
    except httpx.HTTPError as exc:
        problem = f"The URL could not be reached ({type(exc).__name__})"
    if problem:
        raise GraphFailure(
            2200,
            message=f"(#2200) Callback verification failed with the following errors: {problem}",
        )


@dataclass(slots=True)
class _Change:
    url: str
    waba_id: str
    field: str
    value: dict[str, Any]
    at: int | None  # entry.time


@dataclass
class Emitter:
    """Queues changes and delivers them, batched, in the background of the running event loop.

    ``describe`` receives one line per delivery (what went where and the answer), for the log.
    """

    app_secret: str
    describe: Callable[[str], None] = lambda _line: None
    linger: float = 0.02
    retry_delays: tuple[float, ...] = RETRY_DELAYS
    delivered: int = 0
    failed: int = 0
    _queue: asyncio.Queue[_Change] = field(default_factory=asyncio.Queue)
    _worker: asyncio.Task[None] | None = None
    _client: httpx.AsyncClient | None = None

    def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=10.0)
        self._worker = asyncio.get_running_loop().create_task(self._run())

    async def stop(self, *, drain: float = 2.0) -> None:
        """Deliver what is queued (for at most ``drain`` seconds), then stop."""
        deadline = time.monotonic() + drain
        while not self._queue.empty() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        if self._client is not None:
            await self._client.aclose()

    def emit(self, url: str, waba_id: str, field_name: str, value: dict[str, Any], *, at: int | None = None) -> None:
        self._queue.put_nowait(_Change(url, waba_id, field_name, value, at))

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            await asyncio.sleep(self.linger)
            batch = [first]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                for url, payload, summary in _group(batch):
                    await self._deliver(url, payload, summary)
            except Exception as exc:  # noqa: BLE001 - one bad batch must not stop every later webhook
                self.failed += 1
                self.describe(f"--> a webhook batch could not be sent: {type(exc).__name__}: {exc}")

    async def _deliver(self, url: str, payload: dict[str, Any], summary: str) -> None:
        assert self._client is not None
        for attempt, delay in enumerate((0.0, *self.retry_delays)):
            if delay:
                await asyncio.sleep(delay)
            try:
                response = await post_signed(self._client, url, payload, self.app_secret)
            except httpx.HTTPError as exc:
                outcome = f"no answer ({type(exc).__name__})"
            else:
                outcome = str(response.status_code)
                if response.is_success:
                    self.delivered += 1
                    self.describe(f"--> {summary} {url} [{outcome}]")
                    return
            retry = " (will retry)" if attempt < len(self.retry_delays) else " (giving up)"
            self.describe(f"--> {summary} {url} [{outcome}]{retry}")
        self.failed += 1


def _group(batch: list[_Change]) -> list[tuple[str, dict[str, Any], str]]:
    """Deliveries for a batch: per URL one payload, entries per WABA, statuses of a number merged."""
    by_url: dict[str, dict[str, dict[str, Any]]] = {}
    merged: dict[tuple[str, str, str], dict[str, Any]] = {}
    counts: dict[str, dict[str, int]] = {}
    for change in batch:
        entries = by_url.setdefault(change.url, {})
        entry = entries.get(change.waba_id)
        if entry is None:
            entry = entries[change.waba_id] = {"id": change.waba_id, "changes": []}
        if change.at is not None:
            entry["time"] = change.at
        tally = counts.setdefault(change.url, {})
        statuses = change.value.get("statuses") if change.field == "messages" else None
        if statuses is not None and "messages" not in change.value:
            tally["statuses"] = tally.get("statuses", 0) + len(statuses)
            phone_number_id = change.value["metadata"]["phone_number_id"]
            key = (change.url, change.waba_id, phone_number_id)
            if key in merged:
                merged[key]["statuses"].extend(statuses)
                continue
            value = {**change.value, "statuses": list(statuses)}
            merged[key] = value
            entry["changes"].append({"value": value, "field": change.field})
            continue
        label = "messages" if change.field == "messages" else change.field
        tally[label] = tally.get(label, 0) + 1
        entry["changes"].append({"value": change.value, "field": change.field})
    deliveries = []
    for url, entries in by_url.items():
        payload = {"object": OBJECT, "entry": list(entries.values())}
        summary = ", ".join(f"{n} {label}" if label == "statuses" else label for label, n in counts[url].items())
        deliveries.append((url, payload, summary))
    return deliveries
