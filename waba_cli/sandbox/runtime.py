"""The running sandbox as its endpoints see it: the state, the options, the webhook emitter, the
timers for what Meta does later, the send counters and throughput buckets; and the request an
endpoint answers (``Call``).

``core.Sandbox`` is a ``Runtime`` plus the route table and dispatch. Endpoints, controls and the
inbound simulator work on a ``Runtime``, so none of them imports the dispatcher that imports them.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from waba_cli.sandbox.rules.throughput import Pacer
from waba_cli.sandbox.state import PhoneNumber, State, Token
from waba_cli.sandbox.webhooks import Emitter


@dataclass
class Options:
    """How the sandbox behaves (``waba sandbox serve`` flags)."""

    webhook_url: str | None = None
    throttle_rate: float = 0.0  # share of sends answered 130429 on top of the real limits
    error_rate: float = 0.0  # share of all requests answered 5xx
    latency_ms: int = 0
    status_failure_rate: float = 0.0  # share of accepted messages whose delivery fails
    bench: bool = False
    review_delay: float = 2.0  # seconds until a submitted template is decided
    status_delay: float = 0.2  # sent after 1x, delivered after 2x, read after 4x
    seed: int | None = None


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    origin: str  # scheme://host:port, for paging links and media URLs

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


@dataclass(slots=True)
class Raw:
    """A non-JSON answer (media downloads, Flow JSON)."""

    body: bytes
    content_type: str


Answer = tuple[int, dict[str, Any] | Raw]


@dataclass(slots=True)
class Call:
    """One authenticated Graph request about one object."""

    request: Request
    version: str
    obj: Any
    params: dict[str, Any]
    token: Token | None  # None for an app token
    path: str  # the path after the version, for paging links

    def link(self) -> str:
        """The absolute URL of the requested edge, without query (paging links start from it)."""
        return f"{self.request.origin}/{self.version}/{self.path}"


Route = tuple[str, str | None, str]  # (object kind, edge or None, HTTP method)
Handler = Callable[["Runtime", Call], Awaitable[dict[str, Any] | Raw]]


@dataclass
class Counters:
    """Accepted send requests (``GET /_sandbox/sent``), kept even with ``--bench``."""

    total: int = 0
    by_recipient: dict[str, int] = field(default_factory=dict)


class Runtime:
    """One sandbox's world and what acts on it outside a request: timers and webhooks."""

    def __init__(self, state: State, options: Options, *, log: Callable[[str], None] = lambda _line: None) -> None:
        self.state = state
        self.options = options
        self.log = log
        self.random = random.Random(options.seed)  # noqa: S311 - fault injection, not security
        self.emitter = Emitter(state.app.secret, describe=log)
        self.sent = Counters()
        self.pacer = Pacer()

    def later(self, delay: float, callback: Callable[..., None], *args: Any) -> None:
        """Run ``callback(*args)`` on the running event loop ``delay`` seconds from now."""
        asyncio.get_running_loop().call_later(delay, callback, *args)

    def messages_url(self, number: PhoneNumber) -> str | None:
        """Where ``messages`` webhooks of this number go (§5.2): flag, number, WABA, app; None if unsubscribed."""
        waba = self.state.wabas.get(number.waba_id)
        if waba is None or not waba.subscribed or not self._app_wants("messages"):
            return None
        return (
            self.options.webhook_url
            or number.webhook_override
            or waba.override_callback_uri
            or self.state.app.callback_url
        )

    def management_url(self, waba_id: str, field_name: str) -> str | None:
        waba = self.state.wabas.get(waba_id)
        if waba is None or not waba.subscribed or not self._app_wants(field_name):
            return None
        return self.options.webhook_url or self.state.app.callback_url

    def _app_wants(self, field_name: str) -> bool:
        return self.state.app.fields is None or field_name in self.state.app.fields

    def emit_management(self, waba_id: str, field_name: str, value: dict[str, Any]) -> None:
        url = self.management_url(waba_id, field_name)
        if url is not None:
            self.emitter.emit(url, waba_id, field_name, value, at=int(time.time()))
