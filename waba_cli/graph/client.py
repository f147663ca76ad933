"""The async Graph API client: auth, retries (§1.7), dry run, call records and secret redaction.

One ``httpx.AsyncClient`` per ``GraphClient`` so connections are reused. The transport is injectable
(tests use a mock; the campaign sender plugs ``AiohttpTransport``), so nothing here assumes more
than httpx's transport interface, with one exception for speed: over ``AiohttpTransport``, a plain
request (default credentials, a relative path, at most a JSON body) skips httpx's request and
response models and goes through ``AiohttpTransport.exchange`` with headers and URL built once per
client. Retries, error mapping, call records and redaction are the same code for both routes.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import logging
import os
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import unquote

import httpx
import orjson

from waba_cli import __version__
from waba_cli.errors import DryRunRequest, OperationError
from waba_cli.graph.errors import GraphError, GraphNetworkError, PairRateLimited
from waba_cli.graph.transport import AiohttpTransport
from waba_cli.secrets import mask, redactor
from waba_cli.settings import Settings

log = logging.getLogger("waba.graph")

_SENSITIVE_PARAMS = ("access_token", "input_token", "appsecret_proof", "client_secret")
_SENSITIVE_QUERY = re.compile(rf"([?&](?:{'|'.join(_SENSITIVE_PARAMS)})=)([^&#\s\"'<>]*)")
_VERSION_SEGMENT = re.compile(r"^v[0-9]+\.[0-9]+$")
_IDEMPOTENT = frozenset({"GET", "HEAD", "DELETE"})
# failures before the whole request reached Meta (an HTTP server does not act on part of one):
# retrying cannot duplicate a message
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteError)
_ROUTES_KEPT = 1024  # URLs built for plain requests; more distinct paths than this start afresh


def mask_query(text: str) -> str:
    """``text`` with the values of token-bearing query parameters masked."""
    return _SENSITIVE_QUERY.sub(lambda m: m.group(1) + mask(unquote(m.group(2))), text)


class _MaskQueryFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # leave a malformed record to the handler's own error reporting
        masked = mask_query(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


# httpx logs every request URL at INFO, and debug_token puts a token in the query
logging.getLogger("httpx").addFilter(_MaskQueryFilter())


@dataclass(frozen=True)
class Credentials:
    """An access token and, when known, its app (the secret adds ``appsecret_proof``)."""

    access_token: str = field(repr=False)
    app_id: str | None = None
    app_secret: str | None = field(default=None, repr=False)

    @property
    def appsecret_proof(self) -> str | None:
        if not self.app_secret:
            return None
        return hmac.new(self.app_secret.encode(), self.access_token.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class CallRecord:
    """One HTTP attempt, safe to store: no body, no query string, no token."""

    at: datetime  # UTC
    method: str
    endpoint: str  # e.g. /{id}/messages
    status_code: int | None  # None when no answer came
    latency_ms: float
    error_code: int | None
    attempt: int


class GraphClient:
    """Talks to ``{base_url}/{api_version}/``; see the module docstring."""

    def __init__(
        self,
        credentials: Credentials | None,
        *,
        base_url: str = "https://graph.facebook.com",
        api_version: str = "v23.0",
        timeout: float = 20.0,
        connect_timeout: float = 5.0,
        deadline: float | None = None,
        max_retries: int = 5,
        retry_max_wait: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
        dry_run: bool = False,
        on_call: Callable[[CallRecord], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_connections: int = 100,
        on_retry: Callable[[Exception, int, float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``deadline``: seconds one call may keep retrying while Meta gives no answer (None: no
        limit but ``max_retries``); ``clock`` measures it (tests pass one that ``sleep`` advances)."""
        self.credentials = credentials
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.dry_run = dry_run
        self.max_retries = max_retries
        self.retry_max_wait = retry_max_wait
        self._base = httpx.URL(self.base_url)
        self._on_call = on_call
        self._sleep = sleep
        self._on_retry = on_retry  # (failure, number of the next attempt, seconds until it)
        self._clock = clock
        self.deadline = deadline
        self._user_agent = f"waba-cli/{__version__}"
        self._timeout = httpx.Timeout(timeout, connect=min(connect_timeout, timeout))
        self._http = httpx.AsyncClient(
            headers={"User-Agent": self._user_agent},
            timeout=self._timeout,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            transport=transport,
            verify=_tls_context() if transport is None else True,
        )
        self._direct = transport if isinstance(transport, AiohttpTransport) else None
        self._routes: dict[str, tuple[str, str]] = {}  # path -> (URL with appsecret_proof, endpoint)
        self._default: _Auth | None = None

    @classmethod
    def from_settings(cls, settings: Settings, credentials: Credentials | None, **kwargs: Any) -> Self:
        """A client configured from ``[graph]`` settings; ``kwargs`` override them."""
        options: dict[str, Any] = {
            "base_url": settings.graph_base_url,
            "api_version": settings.graph_api_version,
            "timeout": settings.graph_timeout,
            "connect_timeout": settings.graph_connect_timeout,
            "deadline": settings.graph_deadline,
            "max_retries": settings.graph_max_retries,
            "retry_max_wait": settings.graph_retry_max_wait,
        }
        return cls(credentials, **{**options, **kwargs})

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Any = None,
        auth: Credentials | str | None = None,
        retry: bool = True,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Send one request (retrying per §1.7 unless ``retry`` is False) and return the JSON object.

        ``path`` is relative to the versioned base URL, or an absolute URL on the same origin.
        ``content`` is a raw body and ``headers`` extra request headers (the resumable upload, §3.3).
        """
        method = method.upper()
        if (
            self._direct is not None
            and auth is None
            and not params
            and data is None
            and files is None
            and content is None
            and headers is None
            and not self.dry_run
            and "?" not in path
            and not path.startswith(("https://", "http://"))
        ):
            return await self._plain(method, path, json, retry)
        token, proof, secrets = self._auth(auth)
        query = dict(params or {})
        if proof:
            query["appsecret_proof"] = proof
        # merged here because httpx would drop the query of a paging.next URL given params
        url = httpx.URL(self._url(path)).copy_merge_params(query)
        secrets += [url.params[name] for name in _SENSITIVE_PARAMS if name in url.params]
        redact = redactor(secrets)
        extra = dict(headers or {})
        headers = {**extra, "Authorization": f"Bearer {token}"} if token else extra
        if self.dry_run and method != "GET":
            shown = {**extra, "Authorization": f"Bearer {mask(token)}"} if token else extra
            request = {
                "method": method,
                "url": redact(mask_query(str(url))),
                "headers": shown,
                "json": json,
                "data": dict(data) if data is not None else None,
            }
            if content is not None:
                request["content"] = f"<{len(content)} bytes>"
            raise DryRunRequest(request)

        async def attempt(number: int) -> dict[str, Any]:
            return await self._send(
                method,
                url,
                headers=headers,
                json=json,
                data=data,
                files=files,
                content=content,
                redact=redact,
                attempt=number,
            )

        return await self._retrying(attempt, retry)

    async def _plain(self, method: str, path: str, json: Any, retry: bool) -> dict[str, Any]:
        """``request`` over ``AiohttpTransport.exchange``: default credentials, no query, at most a JSON body."""
        assert self._direct is not None
        auth = self._default_auth()
        route = self._routes.get(path)
        if route is None:
            if len(self._routes) >= _ROUTES_KEPT:
                self._routes.clear()
            url = self._url(path)
            if auth.proof:
                url += f"?appsecret_proof={auth.proof}"
            route = self._routes[path] = (url, self._endpoint(httpx.URL(url)))
        url, endpoint = route
        if json is None:
            body, headers = None, auth.headers
        else:
            body = orjson.dumps(json)
            headers = auth.json_headers
        direct = self._direct

        async def attempt(number: int) -> dict[str, Any]:
            at, started = datetime.now(UTC), time.perf_counter()
            try:
                answer = await direct.exchange(method, url, headers, body, self._timeout)
            except httpx.RequestError as exc:
                self._report(CallRecord(at, method, endpoint, None, _since(started), None, number))
                raise _network_error(exc, method, endpoint, auth.redact, self._timeout) from None
            content = answer.content
            if "Content-Encoding" in answer.headers:  # not asked for, but decoded as httpx would
                raw = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in answer.raw_headers]
                content = httpx.Response(answer.status, headers=raw, content=content).content
            try:
                payload = _payload(answer.status, content, answer.headers.get("Content-Type"), auth.redact)
            except GraphError as exc:
                self._report(CallRecord(at, method, endpoint, answer.status, _since(started), exc.code, number))
                raise
            self._report(CallRecord(at, method, endpoint, answer.status, _since(started), None, number))
            return payload

        if not retry:  # a campaign's sends: one coroutine less per message
            return await attempt(1)
        return await self._retrying(attempt, retry)

    async def _retrying(self, attempt: Callable[[int], Awaitable[dict[str, Any]]], retry: bool) -> dict[str, Any]:
        """``attempt(1)``, then, while the failure is retryable (§1.7), up to ``max_retries`` more.

        The first attempt runs bare: nearly every call succeeds at once, and a campaign should not
        pay for retry machinery per message. Retries are tenacity's, waiting as ``_wait`` says.
        While Meta gives no answer at all, the retries also end within ``deadline`` s of the first
        attempt: a wait is shortened so that one more attempt (as long as the last one took) still
        fits, and when none fits waba gives up with one line saying what it tried
        (``GraphNetworkError``: "Meta could not be reached ...").
        """
        started = self._clock()
        try:
            return await attempt(1)
        except (GraphError, GraphNetworkError) as exc:
            if not (retry and exc.retryable and self.max_retries > 0):
                raise
            first = exc
        from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

        attempts = [1, self._clock() - started]  # made so far, and how long the last one took
        gave_up = [False]

        def fitted(failure: BaseException, delay: float) -> float:
            """``delay``, shortened to fit the deadline while Meta gives no answer (or giving up)."""
            if self.deadline is None or not isinstance(failure, GraphNetworkError):
                return delay
            left = self.deadline - (self._clock() - started) - attempts[1]
            if left <= 0:
                gave_up[0] = True
                return 0.0
            return min(delay, left)

        def wait(state: RetryCallState) -> float:
            failure = (state.outcome.exception() if state.outcome else None) or first
            return fitted(failure, self._wait(failure, state.attempt_number + 1))

        def stop(state: RetryCallState) -> bool:
            return gave_up[0] or state.attempt_number >= self.max_retries

        def before_sleep(state: RetryCallState) -> None:
            # tenacity computes a wait after the last attempt too; this runs only before a real one
            failure = state.outcome.exception() if state.outcome else None
            delay = state.next_action.sleep if state.next_action else 0.0
            self._announce(failure if isinstance(failure, Exception) else first, state.attempt_number + 2, delay)

        async def counted(number: int) -> dict[str, Any]:
            attempts[0], begun = number, self._clock()
            try:
                return await attempt(number)
            finally:
                attempts[1] = self._clock() - begun

        try:
            delay = fitted(first, self._wait(first, 1))
            if gave_up[0]:
                raise first
            await self._sleep(self._announce(first, 2, delay))
            retrying = AsyncRetrying(
                retry=retry_if_exception(lambda exc: isinstance(exc, GraphError | GraphNetworkError) and exc.retryable),
                stop=stop,
                wait=wait,
                before_sleep=before_sleep if self._on_retry is not None else None,
                sleep=self._sleep,
                reraise=True,
            )
            async for try_ in retrying:
                with try_:
                    answer = await counted(try_.retry_state.attempt_number + 1)
        except GraphNetworkError as exc:
            if not exc.retryable:  # no answer after Meta may have acted: said as it is, never retried
                raise
            raise self._unreachable(exc, int(attempts[0]), self._clock() - started) from exc
        return answer

    def _unreachable(self, last: GraphNetworkError, attempts: int, seconds: float) -> GraphNetworkError:
        """The one line for a call that got no answer however often it was tried."""
        call = last.message.split(" for ", 1)[1].split(":", 1)[0] if " for " in last.message else "the call"
        why = ": ".join(part for part in (last.kind, last.reason) if part)
        reason = f" ({why})" if why else ""
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''} in {seconds:.1f} s"
        return GraphNetworkError(
            f"Meta could not be reached: {call} at {self.base_url} got no answer, {tries}{reason}",
            retryable=last.retryable,
            request_sent=last.request_sent,
            reason=last.reason,
            kind=last.kind,
            hint="check the network connection and graph.base_url (WABA_GRAPH_BASE_URL); "
            "graph.deadline_seconds (WABA_GRAPH_DEADLINE) is how long waba keeps trying",
        )

    def _announce(self, failure: Exception, attempt: int, delay: float) -> float:
        """Tell ``on_retry`` that attempt number ``attempt`` follows ``failure`` in ``delay`` s; return ``delay``."""
        if self._on_retry is not None:
            self._on_retry(failure, attempt, delay)
        return delay

    def _wait(self, failure: BaseException, attempt: int) -> float:
        """Seconds before the next attempt: 4^X after a pair rate limit (§9.2), else 2^X plus up to 1 s."""
        ceiling = self.retry_max_wait
        if isinstance(failure, PairRateLimited):
            return min(4.0 ** min(attempt - 1, 64), ceiling)  # 1, 4, 16 ... s
        return min(2.0 ** min(attempt - 1, 64) + random.uniform(0, 1), ceiling)  # noqa: S311 (jitter, not a secret)

    def _default_auth(self) -> _Auth:
        """What every request with the client's own credentials shares, built once."""
        if self._default is None or self._default.credentials is not self.credentials:
            token, proof, secrets = self._auth(None)
            base = {"User-Agent": self._user_agent}
            if token:
                base["Authorization"] = f"Bearer {token}"
            self._default = _Auth(
                credentials=self.credentials,
                proof=proof,
                headers=base,
                json_headers={**base, "Content-Type": "application/json"},
                redact=redactor([*secrets, proof]),
            )
        return self._default

    async def get(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        auth: Credentials | str | None = None,
        retry: bool = True,
    ) -> dict[str, Any]:
        return await self.request("GET", path, params=params, auth=auth, retry=retry)

    async def post(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Any = None,
        auth: Credentials | str | None = None,
        retry: bool = True,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        return await self.request(
            "POST",
            path,
            params=params,
            json=json,
            data=data,
            files=files,
            auth=auth,
            retry=retry,
            content=content,
            headers=headers,
        )

    async def delete(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        auth: Credentials | str | None = None,
        retry: bool = True,
    ) -> dict[str, Any]:
        return await self.request("DELETE", path, params=params, auth=auth, retry=retry)

    async def paginate(
        self, path: str, params: Mapping[str, Any] | None = None, *, limit: int | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield the items of every page (§1.4), at most ``limit`` in all.

        ``params["limit"]`` is the page size Meta is asked for.
        """
        query = dict(params or {})
        target, page_params = path, query
        yielded = 0
        while limit is None or yielded < limit:
            page = await self.get(target, params=page_params)
            items = page.get("data")
            for item in items if isinstance(items, list) else []:
                yield item
                yielded += 1
                if limit is not None and yielded >= limit:
                    return
            paging = page.get("paging") or {}
            next_url = paging.get("next")
            if not next_url or next_url == target:
                return
            if self._same_origin(next_url):
                target, page_params = next_url, {}
                continue
            # never send the token to another host; the cursor gets the same page from the base URL
            after = (paging.get("cursors") or {}).get("after")
            if not after or after == query.get("after"):
                raise OperationError(
                    f"the Graph API pointed the next page of {path} to another host and gave no cursor"
                )
            query["after"] = after
            target, page_params = path, query

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _url(self, path: str) -> str:
        if path.startswith(("https://", "http://")):
            if not self._same_origin(path):
                raise OperationError(
                    f"refusing to send the access token to {httpx.URL(path).host}: not the Graph API base URL"
                )
            return path
        return f"{self.base_url}/{self.api_version}/{path.lstrip('/')}"

    def _same_origin(self, url: str) -> bool:
        other = httpx.URL(url)
        return (other.scheme, other.host, other.port) == (self._base.scheme, self._base.host, self._base.port)

    def _auth(self, auth: Credentials | str | None) -> tuple[str | None, str | None, list[str | None]]:
        """The bearer token, the appsecret_proof and every secret to redact for one request."""
        secrets: list[str | None] = []
        if self.credentials is not None:
            secrets += [self.credentials.access_token, self.credentials.app_secret]
        chosen = self.credentials if auth is None else auth
        if isinstance(chosen, Credentials):
            secrets += [chosen.access_token, chosen.app_secret]
            return chosen.access_token, chosen.appsecret_proof, secrets
        if isinstance(chosen, str):
            # an app token is "app_id|app_secret": the secret half alone must not leak either
            secrets += [chosen, *chosen.split("|")[1:]]
            return chosen, None, secrets
        return None, None, secrets

    def _endpoint(self, url: httpx.URL) -> str:
        """The path of ``url`` without base path and version, numeric IDs as ``{id}``."""
        path = url.path
        base_path = self._base.path.rstrip("/")
        if base_path and path.startswith(base_path + "/"):
            path = path[len(base_path) :]
        segments = [segment for segment in path.split("/") if segment]
        if segments and _VERSION_SEGMENT.match(segments[0]):
            segments = segments[1:]
        return "/" + "/".join("{id}" if s.isascii() and s.isdigit() else s for s in segments)

    async def _send(
        self,
        method: str,
        url: httpx.URL,
        *,
        headers: Mapping[str, str],
        json: Any,
        data: Mapping[str, Any] | None,
        files: Any,
        redact: Callable[[str], str],
        attempt: int,
        content: bytes | None = None,
    ) -> dict[str, Any]:
        endpoint = self._endpoint(url)
        at = datetime.now(UTC)
        started = time.perf_counter()

        def report(status: int | None, code: int | None) -> None:
            self._report(CallRecord(at, method, endpoint, status, _since(started), code, attempt))

        try:
            response = await self._http.request(
                method, url, headers=headers, json=json, data=data, files=files, content=content
            )
        except httpx.RequestError as exc:
            report(None, None)
            raise _network_error(exc, method, endpoint, redact, self._timeout) from None
        try:
            payload = _payload(response.status_code, response.content, response.headers.get("content-type"), redact)
        except GraphError as exc:
            report(response.status_code, exc.code)
            raise
        report(response.status_code, None)
        return payload

    def _report(self, record: CallRecord) -> None:
        log.debug(
            "%s %s -> %s in %.0f ms (attempt %d)",
            record.method,
            record.endpoint,
            record.status_code if record.status_code is not None else "no answer",
            record.latency_ms,
            record.attempt,
        )
        if self._on_call is None:
            return
        try:
            self._on_call(record)
        except Exception:  # a broken metrics hook must not fail the request
            log.debug("on_call hook failed for %s %s", record.method, record.endpoint, exc_info=True)


@dataclass(frozen=True)
class _Auth:
    """Headers and redaction for requests with a client's own credentials."""

    credentials: Credentials | None
    proof: str | None = field(repr=False)
    headers: dict[str, str] = field(repr=False)
    json_headers: dict[str, str] = field(repr=False)
    redact: Callable[[str], str] = field(repr=False)


@functools.cache
def _tls_context() -> Any:
    """httpx's default TLS context, built once per process: it reads the CA bundle (~30 ms), and
    `health check --all` opens one client per account."""
    return httpx.create_ssl_context()


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _network_error(
    exc: httpx.RequestError,
    method: str,
    endpoint: str,
    redact: Callable[[str], str],
    timeout: httpx.Timeout | None = None,
) -> Exception:
    reason = redact(" ".join(f"{type(exc).__name__}: {exc}".split()).rstrip(":"))
    sent = not isinstance(exc, _NOT_SENT)
    return GraphNetworkError(
        f"no answer from the Graph API for {method} {endpoint}: {reason}",
        retryable=isinstance(exc, httpx.TransportError) and (method in _IDEMPOTENT or not sent),
        request_sent=sent,
        reason=redact(network_reason(exc, timeout)),
        kind=type(exc).__name__,
    )


def network_reason(exc: BaseException, timeout: httpx.Timeout | None = None) -> str:
    """Why no answer came, in a few words: "connection refused", "no connection within 5 s"."""
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return f"no connection within {timeout.connect:g} s" if timeout and timeout.connect else "connect timeout"
    if isinstance(exc, httpx.ReadTimeout):
        return f"no answer within {timeout.read:g} s" if timeout and timeout.read else "read timeout"
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno:
            if current.errno > 0:
                return os.strerror(current.errno).lower()
            return str(current.strerror or current).lower()  # a resolver error: "name or service not known"
        current = current.__cause__ or current.__context__
    return " ".join(str(exc).split()) or type(exc).__name__


def _payload(status: int, content: bytes, content_type: str | None, redact: Callable[[str], str]) -> dict[str, Any]:
    if not 200 <= status < 300:
        raise GraphError.from_response(status, content, redact=redact)
    if not content.strip():
        return {}
    try:
        payload = orjson.loads(content)
    except ValueError:  # orjson.JSONDecodeError is one
        payload = None
    if not isinstance(payload, dict):
        raise GraphError(
            f"the answer (HTTP {status}, {content_type or 'no content type'}) is not a JSON object",
            http_status=status,
            hint="check graph.base_url: something other than the Graph API answered",
        )
    return payload
