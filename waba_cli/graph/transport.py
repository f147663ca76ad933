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

Errors are mapped to httpx's exception types so the client's retry rules apply unchanged; in
particular only failures before the request left this machine become ``httpx.ConnectError``
(safe to retry a send), everything after is a read error (not retried for POSTs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

import httpx

if TYPE_CHECKING:
    import aiohttp
    from multidict import CIMultiDictProxy

# hop-by-hop or computed by aiohttp itself
_SKIP_REQUEST_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


def _as_httpx(exc: Exception) -> httpx.RequestError | None:
    """The httpx exception for an aiohttp failure (None: not one)."""
    import aiohttp

    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(str(exc))
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

    def __init__(self, *, max_connections: int = 256, max_per_host: int = 0) -> None:
        self._max_connections = max_connections
        self._max_per_host = max_per_host
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}

    def _get_session(self) -> aiohttp.ClientSession:
        import aiohttp

        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections, limit_per_host=self._max_per_host, ttl_dns_cache=300
            )
            # httpx decodes content-encoding itself; aiohttp must hand over the raw bytes
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=False, skip_auto_headers=("User-Agent", "Accept-Encoding")
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
            mapped = _as_httpx(exc)
            if mapped is None:
                raise
            raise mapped from exc

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
