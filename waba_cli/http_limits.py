"""Bounds on every request a waba HTTP server reads: ``serve-webhook`` and ``sandbox serve`` share them.

uvicorn's httptools protocol reads a request head of any size for as long as the client likes, and a
connection that never sends a byte stays open forever. ``LimitedProtocol`` is that protocol with:

- the request line and headers together at most ``max_header_bytes`` (431 beyond, and the connection
  closed: no byte past the limit is handed to the parser), at most ``max_headers`` headers (431);
- the whole head within ``header_timeout`` seconds of its first byte, the body within
  ``body_timeout + declared size / body_min_rate`` seconds of the head (408, connection closed);
- a new connection that sends nothing, like one idle between requests, closed after
  ``keep_alive_timeout`` seconds (uvicorn's ``timeout_keep_alive`` covers the latter);
- above ``max_connections`` open connections (per process) a new one is answered 503 and closed at
  once, so the connections already open keep being served.

The common request, whose head and body arrive in one read, pays for no timer: a deadline is armed
only when a read ends with a request half-received. ``uvicorn_options`` gives the keyword arguments
for ``uvicorn.Config``. This module imports no other part of waba.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

if TYPE_CHECKING:
    import asyncio

KIB = 1024


@dataclass(frozen=True)
class Limits:
    """What one request and one process may take (``[webhook]`` in the config file; see README "Limits")."""

    max_header_bytes: int = 64 * KIB
    max_headers: int = 100
    header_timeout: float = 10.0  # s from the head's first byte to its end
    body_timeout: float = 10.0  # s for any body, plus its size at body_min_rate
    body_min_rate: float = 16 * KIB  # bytes per second a body must at least arrive at
    keep_alive_timeout: float = 5.0  # s a connection may sit idle before (or between) requests
    max_connections: int = 1000  # open connections per process; more are answered 503 and closed
    max_body_bytes: int = 3 * 1024 * KIB  # the deadline of a chunked body (no declared size) assumes this

    def body_seconds(self, size: int) -> float:
        """How long a body of ``size`` bytes may take to arrive."""
        return self.body_timeout + size / self.body_min_rate


class _TooManyHeadersError(Exception):
    pass


def _answer(status: int, text: bytes, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    parts = [STATUS_LINE[status]]
    for name, value in default_headers:
        parts.extend([name, b": ", value, b"\r\n"])
    parts.extend(
        [
            b"content-type: text/plain; charset=utf-8\r\ncontent-length: ",
            str(len(text)).encode(),
            b"\r\nconnection: close\r\n\r\n",
            text,
        ]
    )
    return b"".join(parts)


class LimitedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the bounds of ``Limits`` (see the module's docstring).

    uvicorn builds one per connection; ``uvicorn_options`` passes it as a ``functools.partial`` that
    carries the limits (picklable, so ``--workers`` children get them too).
    """

    def __init__(self, *args: Any, limits: Limits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self._head_bytes = 0  # bytes received since the current head may have begun
        self._in_head = True  # the next bytes belong to a request head (between requests too)
        self._head_begun = False  # the parser has started a request and not finished its headers
        self._in_body = False  # headers done, body not complete
        self._heads = 0  # heads completed (so a feed can tell whether it finished one)
        self._too_many_headers = False
        self._deadline: asyncio.TimerHandle | None = None

    # -- connections -----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.limits.max_connections:
            self.transport = transport
            transport.write(_answer(503, b"too many connections\n", self.server_state.default_headers))
            transport.close()
            return
        super().connection_made(transport)
        # uvicorn arms its keep-alive timer only after a response: a connection that never sends
        # a byte would stay open forever
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    # -- reading ---------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self.parser is None or self.transport.is_closing():
            return  # refused or closed: read nothing more
        self._unset_keepalive_if_required()
        if len(data) <= self.limits.max_header_bytes:
            self._receive(data)  # the common read: one piece
        else:
            self._receive_all(data)

    def _receive_all(self, data: bytes | memoryview) -> bool:
        """Parse ``data`` in pieces of at most ``max_header_bytes``; False once the connection is answered.

        A read holds one or more requests. A head that begins in the middle of a piece (a pipelined
        request after another) is counted as the whole piece: its start within it is not known.
        Pieces keep that guess, and so what the parser holds of such a head, within the limit.
        """
        step = self.limits.max_header_bytes
        if len(data) <= step:
            return self._receive(data)
        view = memoryview(data)
        return all(self._receive(view[start : start + step]) for start in range(0, len(view), step))

    def _receive(self, data: bytes | memoryview) -> bool:
        started_in_head = self._in_head
        heads = self._heads
        if started_in_head:
            size = self._head_bytes + len(data)
            if size > self.limits.max_header_bytes:
                return self._over_the_limit(data)
            self._head_bytes = size
        if not self._feed(data):
            return False
        if self._head_begun and (self._heads != heads or not started_in_head):
            self._head_bytes = len(data)  # a head began within this piece: count all of it
        if self._deadline is None:
            if self._head_begun or (self._in_head and self._head_bytes):
                self._arm(self.limits.header_timeout)
            elif self._in_body:
                self._arm(self.limits.body_seconds(self._declared_size()))
        return True

    def _over_the_limit(self, data: bytes | memoryview) -> bool:
        """Feed only what the limit allows; unless that finishes the head, answer 431."""
        allowed = self.limits.max_header_bytes - self._head_bytes
        self._head_bytes = self.limits.max_header_bytes
        heads = self._heads
        if allowed > 0 and not self._feed(data[:allowed]):
            return False
        if self._heads == heads:
            self._refuse(431, b"request header fields too large\n")
            return False
        return self._receive_all(data[allowed:])  # the rest is body, or the next request

    def _feed(self, data: bytes | memoryview) -> bool:
        """Parse ``data``; False when the connection was answered and is closing."""
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self._too_many_headers:  # raised by on_header, through the parser
                self._refuse(431, b"too many header fields\n")
                return False
            self.logger.warning("Invalid HTTP request received.")
            self.send_400_response("Invalid HTTP request received.")
            return False
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return False
        return True

    def _declared_size(self) -> int:
        for name, value in self.headers:
            if name == b"content-length" and value.isdigit():
                return int(value)
        return self.limits.max_body_bytes

    # -- parser callbacks ------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._head_begun = True
        self._in_head = True
        super().on_message_begin()

    def on_header(self, name: bytes, value: bytes) -> None:
        # uvicorn's, plus the count (one method call per header, not two)
        if len(self.headers) >= self.limits.max_headers:
            self._too_many_headers = True
            raise _TooManyHeadersError
        name = name.lower()
        value = value.rstrip(b" \t")
        if name == b"expect" and value.lower() == b"100-continue":
            self.expect_100_continue = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._heads += 1
        self._head_begun = self._in_head = False
        self._head_bytes = 0
        self._in_body = True
        if self._deadline is not None:
            self._cancel_deadline()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_body = False
        self._in_head = True
        if self._deadline is not None:
            self._cancel_deadline()
        super().on_message_complete()

    # -- deadlines -------------------------------------------------------------------------------

    def _arm(self, seconds: float) -> None:
        self._deadline = self.loop.call_later(seconds, self._expired)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and cycle.response_started and not cycle.response_complete:
            self.transport.close()  # an answer is going out: cut it off, nothing more can be said
            return
        if self._in_body and cycle is not None and cycle.response_complete:
            self.transport.close()  # answered early (413 ...), the body still trickling in
            return
        self._refuse(408, b"request timeout\n")

    def _refuse(self, status: int, text: bytes) -> None:
        """Answer ``status``, close, and stop the request being read (its app sees a disconnect)."""
        self._cancel_deadline()
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True  # the app's receive() gets http.disconnect, its send() writes nothing
            cycle.keep_alive = False
            cycle.message_event.set()
        self.pipeline.clear()
        self.transport.write(_answer(status, text, self.server_state.default_headers))
        self.transport.close()


def uvicorn_options(limits: Limits) -> dict[str, Any]:
    """The keyword arguments for ``uvicorn.Config`` that put ``limits`` in force."""
    return {
        "http": functools.partial(LimitedProtocol, limits=limits),
        "timeout_keep_alive": limits.keep_alive_timeout,
    }
