"""The sandbox's HTTP side: a raw ASGI app (the send path pays for nothing it does not use) on uvicorn.

``serve`` binds, prints where it listens, and runs until SIGTERM or SIGINT, after which it delivers
the webhooks already queued, saves the state (``--state``) and returns normally.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import uvicorn
import uvloop

from waba_cli.http_limits import Limits, uvicorn_options
from waba_cli.sandbox.core import Sandbox
from waba_cli.sandbox.runtime import Options, Raw, Request
from waba_cli.sandbox.state import State

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
_JSON = [(b"content-type", b"application/json; charset=UTF-8")]
# the request headers the sandbox reads (ASGI servers give names in lower case)
_READ_HEADERS = frozenset({b"authorization", b"content-type", b"host", b"file_offset"})


class GraphApp:
    """ASGI: HTTP requests to ``Sandbox.handle``; lifespan starts and stops its background work."""

    def __init__(self, sandbox: Sandbox, *, state_file: Path | None = None, log_requests: bool = False) -> None:
        self.sandbox = sandbox
        self.state_file = state_file
        self.log_requests = log_requests
        self._saver: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks: list[bytes] = []
        more = True
        while more:
            event = await receive()
            chunks.append(event.get("body", b""))
            more = event.get("more_body", False)
        headers = {name.decode(): value.decode("latin-1") for name, value in scope["headers"] if name in _READ_HEADERS}
        query_string = scope.get("query_string", b"")
        query = _query(query_string.decode("latin-1")) if query_string else {}
        host = headers.get("host") or "{}:{}".format(*scope.get("server") or ("127.0.0.1", 80))
        request = Request(
            method=scope["method"],
            path=scope["path"],
            query=query,
            headers=headers,
            body=b"".join(chunks),
            origin=f"{scope.get('scheme', 'http')}://{host}",
        )
        status, answer = await self.sandbox.handle(request)
        if self.log_requests:
            error = answer.get("error") if isinstance(answer, dict) else None
            code = f" (#{error['code']})" if isinstance(error, dict) else ""
            self.sandbox.log(f"<-- {request.method} {request.path} [{status}{code}]")
        if isinstance(answer, Raw):
            body, response_headers = answer.body, [(b"content-type", answer.content_type.encode())]
        else:
            body, response_headers = json.dumps(answer, separators=(",", ":")).encode(), _JSON
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": body})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                self.sandbox.start()
                if self.state_file is not None:
                    self._saver = asyncio.get_running_loop().create_task(self._save_periodically())
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                await self.sandbox.stop()
                if self._saver is not None:
                    self._saver.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await self._saver
                self.save()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def save(self) -> None:
        if self.state_file is not None and self.sandbox.state.dirty:
            self.sandbox.state.save(self.state_file)

    async def _save_periodically(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self.save()


def _query(text: str) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(text, keep_blank_values=True))


def load_state(state_file: Path | None) -> State:
    """The saved world from ``state_file`` if it exists, else a freshly seeded one."""
    from waba_cli.sandbox.fixtures import seed_state

    if state_file is not None and state_file.exists():
        return State.load(state_file)
    state = seed_state()
    state.dirty = True
    return state


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: a free one), so the address is known before serving starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)  # noqa: FBT003 - socket's own API
    return sock


def serve(app: GraphApp, sock: socket.socket, limits: Limits | None = None) -> None:
    """Run until SIGTERM/SIGINT, then shut down gracefully and return.

    Every request is bounded like serve-webhook's (``http_limits``; the defaults unless ``limits``).
    """
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        **uvicorn_options(limits or Limits()),
        ws="none",
        proxy_headers=False,  # loopback only: no forwarded headers to trust, and one middleware less per request
        server_header=False,
        date_header=False,
        timeout_graceful_shutdown=5,
    )
    uvloop.run(_QuietServer(config).serve(sockets=[sock]))


class _QuietServer(uvicorn.Server):
    """uvicorn's server, minus re-raising the stop signal after shutdown: a stop is a normal exit (0)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def make_app(
    options: Options,
    *,
    state_file: Path | None = None,
    log: Callable[[str], None] = print,
    log_requests: bool = False,
) -> GraphApp:
    """The sandbox's ASGI app over the saved or seeded world; ``log_requests``: one line per request."""
    sandbox = Sandbox(load_state(state_file), options, log=log)
    return GraphApp(sandbox, state_file=state_file, log_requests=log_requests)
