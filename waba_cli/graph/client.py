"""The async Graph API client: auth, retries (§1.7), dry run, call records and secret redaction.

One ``httpx.AsyncClient`` per ``GraphClient`` so connections are reused. The transport is injectable
(tests use a mock; the campaign sender may plug a faster one), so nothing here assumes more than
httpx's transport interface.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import unquote

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_exponential_jitter,
)

from waba_cli import __version__
from waba_cli.errors import DryRunRequest, OperationError
from waba_cli.graph.errors import GraphError, GraphNetworkError, PairRateLimited
from waba_cli.secrets import mask, redactor
from waba_cli.settings import Settings

log = logging.getLogger("waba.graph")

_SENSITIVE_PARAMS = ("access_token", "input_token", "appsecret_proof", "client_secret")
_SENSITIVE_QUERY = re.compile(rf"([?&](?:{'|'.join(_SENSITIVE_PARAMS)})=)([^&#\s\"'<>]*)")
_VERSION_SEGMENT = re.compile(r"^v[0-9]+\.[0-9]+$")
_IDEMPOTENT = frozenset({"GET", "HEAD", "DELETE"})
# failures before any byte reached Meta: retrying cannot duplicate a message
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


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
        max_retries: int = 5,
        retry_max_wait: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
        dry_run: bool = False,
        on_call: Callable[[CallRecord], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_connections: int = 100,
    ) -> None:
        self.credentials = credentials
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.dry_run = dry_run
        self.max_retries = max_retries
        self._base = httpx.URL(self.base_url)
        self._on_call = on_call
        self._sleep = sleep
        self._backoff = wait_exponential_jitter(max=retry_max_wait)  # 1, 2, 4 ... s plus up to 1 s
        self._pair_backoff = wait_exponential(exp_base=4, max=retry_max_wait)  # 1, 4, 16 ... s (§9.2)
        self._http = httpx.AsyncClient(
            headers={"User-Agent": f"waba-cli/{__version__}"},
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            transport=transport,
        )

    @classmethod
    def from_settings(cls, settings: Settings, credentials: Credentials | None, **kwargs: Any) -> Self:
        """A client configured from ``[graph]`` settings; ``kwargs`` override them."""
        options: dict[str, Any] = {
            "base_url": settings.graph_base_url,
            "api_version": settings.graph_api_version,
            "timeout": settings.graph_timeout,
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
        attempts = 0

        async def attempt() -> dict[str, Any]:
            nonlocal attempts
            attempts += 1
            return await self._send(
                method,
                url,
                headers=headers,
                json=json,
                data=data,
                files=files,
                content=content,
                redact=redact,
                attempt=attempts,
            )

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_retries + 1 if retry else 1),
            wait=self._wait,
            retry=retry_if_exception(_is_retryable),
            sleep=self._sleep,
            reraise=True,
        )
        return await retrying(attempt)

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

    def _wait(self, state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        backoff = self._pair_backoff if isinstance(failure, PairRateLimited) else self._backoff
        return backoff(state)

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
            latency = (time.perf_counter() - started) * 1000
            self._report(CallRecord(at, method, endpoint, status, latency, code, attempt))

        try:
            response = await self._http.request(
                method, url, headers=headers, json=json, data=data, files=files, content=content
            )
        except httpx.RequestError as exc:
            report(None, None)
            reason = redact(" ".join(f"{type(exc).__name__}: {exc}".split()).rstrip(":"))
            raise GraphNetworkError(
                f"no answer from the Graph API for {method} {endpoint}: {reason}",
                retryable=isinstance(exc, httpx.TransportError)
                and (method in _IDEMPOTENT or isinstance(exc, _NOT_SENT)),
            ) from None
        try:
            payload = _parse(response, redact)
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


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, GraphError | GraphNetworkError) and exc.retryable


def _parse(response: httpx.Response, redact: Callable[[str], str]) -> dict[str, Any]:
    if not response.is_success:
        raise GraphError.from_response(response.status_code, response.content, redact=redact)
    if not response.content.strip():
        return {}
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        kind = response.headers.get("content-type", "no content type")
        raise GraphError(
            f"the answer (HTTP {response.status_code}, {kind}) is not a JSON object",
            http_status=response.status_code,
            hint="check graph.base_url: something other than the Graph API answered",
        )
    return payload
