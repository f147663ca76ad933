"""An httpx transport that sends through aiohttp, for high request rates.

The Graph client stays an httpx client (one API for the code, and tests inject respx's mock
transport), but httpx's own connection pool rescans every connection per request and costs about
1.2 ms of CPU per call; with 100-300 ms round trips, holding 1,000 sends/s needs ~200 requests in
flight, exactly where it degrades. aiohttp's connector costs ~0.25 ms per call. Campaigns and other
bulk paths pass ``AiohttpTransport()`` to ``GraphClient``; single commands use httpx's default.

Even over this transport, building an ``httpx.Request`` and ``httpx.Response`` around each call
(URL parsing, header models, byte streams) costs as much CPU again as aiohttp itself, so
``GraphClient`` hands its plain requests straight to ``exchange`` and keeps the httpx path for the
rest (uploads, odd bodies). Both go through ``exchange``: one error mapping for both.

Errors are mapped to httpx's exception types so the client's retry rules apply unchanged: failures
before the whole request was handed to the socket become ``httpx.ConnectError`` (no connection) or
``httpx.WriteError`` (the connection broke while the request was being written, e.g. a connection
the server had closed): an HTTP server does not act on part of a request, so a send is safe to
retry. Everything after the request was written is a read error (not retried for POSTs: Meta may
have acted on it). Which side of that line a broken connection fell on is known from the request's
body writer (``_Write``), not from the error, which aiohttp reports alike on both sides.

Idle pooled connections are dropped after ``KEEPALIVE_TIMEOUT`` s, before servers close them
(uvicorn after 5 s, nginx after 75 s): a request written onto a connection the server is closing
fails in a way that cannot be told from a lost answer, and would be in doubt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

import httpx

if TYPE_CHECKING:
    import aiohttp
    from multidict import CIMultiDictProxy

# hop-by-hop or computed by aiohttp itself
_SKIP_REQUEST_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
KEEPALIVE_TIMEOUT = 4.0  # s an idle connection is kept for reuse: under common servers' idle timeouts


class _Write:
    """Whether the current request's body writer has handed the whole request to the socket."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = False


# the exchange in progress in this task; the body writer's task inherits it
_WRITE: ContextVar[_Write | None] = ContextVar("waba_transport_write", default=None)


@cache
def _request_class() -> type[aiohttp.ClientRequest]:
    """aiohttp's request, noting in ``_WRITE`` when its headers and body were written whole.

    aiohttp writes them in a task of their own while it awaits the answer; a connection that
    breaks first (the server closed it, or reset it while bytes still waited to be written) fails
    the answer while the writer is unfinished, or leaves the failure on the connection.
    """
    import aiohttp

    class Request(aiohttp.ClientRequest):
        async def write_bytes(self, writer: Any, conn: Any, *args: Any) -> None:
            write = _WRITE.get()
            protocol = conn.protocol
            await super().write_bytes(writer, conn, *args)
            if write is not None and protocol is not None and protocol.exception() is None:
                write.done = True

    return Request


def _as_httpx(exc: Exception, write: _Write | None = None) -> httpx.RequestError | None:  # noqa: PLR0911 - one per kind
    """The httpx exception for an aiohttp failure (None: not one); ``write``: how far the request got."""
    import aiohttp

    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(str(exc))
    if isinstance(exc, aiohttp.ClientConnectionResetError) or (
        write is not None and not write.done and isinstance(exc, aiohttp.ClientConnectionError)
    ):  # aiohttp raises ClientConnectionResetError only from writes
        return httpx.WriteError(f"{type(exc).__name__}: {exc} (while writing the request)")
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(str(exc) or "connect timeout")
    if isinstance(exc, TimeoutError | aiohttp.SocketTimeoutError):
        return httpx.ReadTimeout(str(exc) or "read timeout")
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(str(exc) or "server disconnected")
    if isinstance(exc, aiohttp.ClientError):
        return httpx.ReadError(f"{type(exc).__name__}: {exc}")
    return None


class Answer(NamedTuple):
    """What came back: status, headers (case-insensitive) as parsed and as sent, the raw body."""

    status: int
    headers: CIMultiDictProxy[str]
    raw_headers: tuple[tuple[bytes, bytes], ...]
    content: bytes  # still content-encoded, if the server encoded it


class AiohttpTransport(httpx.AsyncBaseTransport):
    """``httpx.AsyncBaseTransport`` over one ``aiohttp.ClientSession`` (created in the running loop)."""

    def __init__(
        self, *, max_connections: int = 256, max_per_host: int = 0, keepalive_timeout: float = KEEPALIVE_TIMEOUT
    ) -> None:
        self._max_connections = max_connections
        self._max_per_host = max_per_host
        self._keepalive_timeout = keepalive_timeout
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}

    def _get_session(self) -> aiohttp.ClientSession:
        import aiohttp

        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections,
                limit_per_host=self._max_per_host,
                ttl_dns_cache=300,
                keepalive_timeout=self._keepalive_timeout,
            )
            # httpx decodes content-encoding itself; aiohttp must hand over the raw bytes
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding"),
                request_class=_request_class(),
            )
        return self._session

    def _timeout(self, pool: float | None, connect: float | None, read: float | None) -> aiohttp.ClientTimeout:
        key = (pool, connect, read)
        timeout = self._timeouts.get(key)
        if timeout is None:
            import aiohttp

            timeout = aiohttp.ClientTimeout(total=None, connect=pool, sock_connect=connect, sock_read=read)
            self._timeouts[key] = timeout
        return timeout

    async def exchange(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | Sequence[tuple[str, str]],
        body: bytes | None,
        timeout: httpx.Timeout,
    ) -> Answer:
        """One request and its whole answer; failures raised as httpx's exceptions (see the module docstring)."""
        session = self._session
        if session is None or session.closed:
            session = self._get_session()
        # a request without a body is written at once, without a writer to tell: counted as written
        write = _Write() if body else None
        writing = _WRITE.set(write)
        try:
            async with session.request(
                method,
                url,
                headers=headers,
                data=body,
                timeout=self._timeout(timeout.pool, timeout.connect, timeout.read),
                allow_redirects=False,
            ) as response:
                content = await response.read()
                return Answer(response.status, response.headers, response.raw_headers, content)
        except Exception as exc:
            mapped = _as_httpx(exc, write)
            if mapped is None:
                raise
            raise mapped from exc
        finally:
            _WRITE.reset(writing)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        timeout = httpx.Timeout(
            connect=timeouts.get("connect"), read=timeouts.get("read"), write=None, pool=timeouts.get("pool")
        )
        headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() not in _SKIP_REQUEST_HEADERS]
        body = await request.aread()
        try:
            answer = await self.exchange(request.method, str(request.url), headers, body or None, timeout)
        except httpx.RequestError as exc:
            exc.request = request
            raise
        return httpx.Response(
            status_code=answer.status,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in answer.raw_headers],
            content=answer.content,
            request=request,
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
