"""The ASGI app behind ``waba serve-webhook``, and how uvicorn serves it.

A raw ASGI app rather than a framework: the hot path is one POST shape, and every microsecond
spent routing is taken from the group commit (measured: ~8,700 requests/s raw, ~6,600 with
Starlette). The path of a POST:

1. the body is read up to ``webhook.max_body_bytes`` (413 beyond), the signature checked against
   every configured app secret (401), the JSON parsed (400);
2. the delivery goes over a socket to the writer process (``writer.py``), which stores and applies
   everything queued in one transaction (``services.webhooks.store.commit_batch``): a group commit, so
   one fsync covers every delivery that arrived while the previous one ran;
3. the 200 goes out only when the writer acknowledges the commit containing the delivery. If the
   store fails, or the writer dies first, the answer is 503 and Meta delivers again later.

Before any of this, uvicorn's protocol bounds the request (``waba_cli.http_limits``: head size and
count, head and body deadlines, idle connections, the connection cap; ``[webhook]`` in the config).
Auto-replies are sent by their own thread (``Replier``) after the commit, never on the request path.
Several instances (``--workers``, or other hosts on one PostgreSQL database) can run at once:
every "apply once" rule is a unique key in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pickle
import socket
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Generator, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn, TextIO
from urllib.parse import parse_qs

import orjson

from waba_cli.domain.text import printable
from waba_cli.errors import OperationError
from waba_cli.services.webhooks.parse import Delivery, Keys, headers_to_store, one_line, parse_body
from waba_cli.webhook import wire

if TYPE_CHECKING:
    from waba_cli.http_limits import Limits
    from waba_cli.services.context import CommandContext
    from waba_cli.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

GRACEFUL_SHUTDOWN_SECONDS = 30
_DEADLINE_GRAIN = 0.25  # s: deliveries sent within this of each other share one deadline entry
_OPTIONS_ENV = "WABA_SERVE_WEBHOOK_OPTIONS"  # how --workers children learn the command's options
_TEXT = [(b"content-type", b"text/plain; charset=utf-8")]
_JSON_LINE = json.JSONEncoder(ensure_ascii=False)  # json.dumps with an option builds an encoder per call


@dataclass(frozen=True)
class Options:
    path: str = "/webhook"
    json_logs: bool = False


# -- the log: one line per delivery ------------------------------------------------------------


class DeliveryLog:
    """One line per delivery, like ``stripe listen``: time, field, ids, then the answer and result."""

    def __init__(self, stream: TextIO, *, json_lines: bool) -> None:
        self._stream = stream
        self.json_lines = json_lines
        self._lock = threading.Lock()
        self._second = -1
        self._stamp = ""

    def write(self, lines: list[str]) -> None:
        if not lines:
            return
        with self._lock:
            try:
                self._stream.write("\n".join(lines) + "\n")
                self._stream.flush()
            except (OSError, ValueError):  # a closed or full stdout must never stop the intake
                pass

    def line(
        self,
        status: int,
        result: str,
        *,
        field: str | None = None,
        ids: list[str] | None = None,
        event_id: int | None = None,
        detail: str = "",
    ) -> str:
        now = datetime.now(UTC)
        if self.json_lines:
            return _JSON_LINE.encode(
                {
                    "time": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    "event_id": event_id,
                    "field": field,
                    "ids": ids or [],
                    "status": status,
                    "result": result,
                    "detail": detail,
                }
            )
        second = int(now.timestamp())
        if second != self._second:  # formatting the time is the dearest part of a line; once a second
            self._second, self._stamp = second, f"{now:%Y-%m-%d %H:%M:%S}"
        shown = ids or []
        id_text = f" [{', '.join(shown[:3])}{f', +{len(shown) - 3} more' if len(shown) > 3 else ''}]" if shown else ""
        event = f" event {event_id}" if event_id is not None else ""
        # field, ids and details come from the delivery: escaped, they cannot forge a log line
        return printable(
            f"{self._stamp}  --> {field or '-'}{id_text}  <-- [{status}] {result}{event}"
            + (f": {detail}" if detail else "")
        )


# -- the writer process: group commit -----------------------------------------------------------


class NotStoredError(OperationError):
    """The writer answered that it could not store a delivery (it logged why)."""


class Intake:
    """The server's side of the writer process (``writer.py``): deliveries out, acknowledgements back.

    ``submit`` returns a future that resolves once the delivery is committed (or fails, and the
    request is answered 503). If the writer process dies, what it had not acknowledged fails and a
    new one is started (after 1 s, then 2, 4 ... up to 30 s while it keeps failing). A writer that
    stalls (a locked database) cannot hold requests forever: each waits at most ``SUBMIT_TIMEOUT``
    seconds, and above ``MAX_PENDING`` unacknowledged deliveries new ones are refused at once; both
    answer 503, and Meta delivers again.
    """

    RESTART_SECONDS = 1.0
    RESTART_MAX_SECONDS = 30.0
    SUBMIT_TIMEOUT = 10.0
    MAX_PENDING = 10_000
    MAX_BUFFERED = 64 * 1024 * 1024  # bytes written to the writer's socket and not yet read by it
    REFRESH_MIN_SECONDS = 5.0  # an unknown signature asks the writer to read the secrets again, this seldom
    REFRESH_WAIT = 2.0

    def __init__(self, settings: Settings, log: DeliveryLog, on_replies: Callable[[], None]) -> None:
        self._settings = settings
        self._log = log
        self._on_replies = on_replies
        # the app secrets and verify tokens, decrypted by the writer (no key or database here)
        self.keys = Keys({}, [])
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: dict[int, asyncio.Future[None]] = {}
        self._seq = 0
        self._transport: asyncio.Transport | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._ready: asyncio.Future[None] | None = None
        self._closed: asyncio.Future[None] | None = None
        self._spawning: asyncio.Task[None] | None = None
        self._stopping = False
        self._failures = 0
        # (when, the last seq sent before it): every seq up to it and above _swept expires then
        self._deadlines: deque[tuple[float, int]] = deque()
        self._swept = 0
        self._expiring: asyncio.Task[None] | None = None
        self._refreshing: asyncio.Future[None] | None = None
        self._refresh_asked = float("-inf")
        self.stored = 0

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._spawn()
        self._expiring = self._loop.create_task(self._expire())

    async def _spawn(self) -> None:
        assert self._loop is not None
        ours, theirs = socket.socketpair()
        try:
            self._process = subprocess.Popen(  # noqa: S603 - this interpreter, this package
                # -P: the working directory is not put on sys.path (a stray json.py there is not imported)
                [sys.executable, "-P", "-m", "waba_cli.webhook.writer", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # a terminal's Ctrl-C reaches the server, which then closes the socket
            )
        finally:
            theirs.close()
        self._ready = self._loop.create_future()
        self._closed = self._loop.create_future()
        self._transport, _ = await self._loop.connect_accepted_socket(lambda: _WriterProtocol(self), ours)
        self._transport.write(wire.frame(pickle.dumps((self._settings, self._log.json_lines))))
        await self._ready
        self._failures = 0

    async def submit(self, delivery: Delivery) -> None:
        """Return once the delivery is committed; OperationError when it was not (answer 503)."""
        assert self._loop is not None
        transport = self._transport
        if transport is None or transport.is_closing() or not self._ready or not self._ready.done():
            raise OperationError("the writer process is not running")
        if len(self._pending) >= self.MAX_PENDING or transport.get_write_buffer_size() > self.MAX_BUFFERED:
            raise OperationError("the writer process is behind")
        future: asyncio.Future[None] = self._loop.create_future()
        self._seq += 1
        self._pending[self._seq] = future
        when = self._loop.time() + self.SUBMIT_TIMEOUT
        if self._deadlines and when - self._deadlines[-1][0] < _DEADLINE_GRAIN:
            self._deadlines[-1] = (self._deadlines[-1][0], self._seq)  # one entry per 1/4 s, not per request
        else:
            self._deadlines.append((when, self._seq))
        transport.write(wire.delivery_frame(self._seq, delivery))
        await future

    async def refresh_keys(self) -> bool:
        """Have the writer read the app secrets and verify tokens again, now (True once it has).

        For a signature or verify token no known one matches: it may have changed since the last
        refresh (`waba account update`, `waba secrets rotate-key`). At most once per
        REFRESH_MIN_SECONDS, so that unsigned requests cannot keep the writer reading; False when
        not asked (too soon, no writer) or not answered within REFRESH_WAIT.
        """
        assert self._loop is not None
        waiting = self._refreshing
        if waiting is None or waiting.done():
            transport = self._transport
            now = self._loop.time()
            if transport is None or transport.is_closing() or now - self._refresh_asked < self.REFRESH_MIN_SECONDS:
                return False
            self._refresh_asked = now
            waiting = self._refreshing = self._loop.create_future()
            transport.write(wire.frame(wire.REFRESH))
        try:
            await asyncio.wait_for(asyncio.shield(waiting), self.REFRESH_WAIT)
        except TimeoutError:
            return False
        return True

    async def _expire(self) -> None:
        """Fail deliveries unacknowledged for SUBMIT_TIMEOUT (one sweep a second, not a timer per request)."""
        assert self._loop is not None
        while True:
            await asyncio.sleep(min(1.0, self.SUBMIT_TIMEOUT / 2))
            now = self._loop.time()
            while self._deadlines and self._deadlines[0][0] <= now:
                _, last = self._deadlines.popleft()
                for seq in range(self._swept + 1, last + 1):
                    future = self._pending.pop(seq, None)
                    if future is not None and not future.done():  # a late acknowledgement is ignored
                        future.set_exception(OperationError(f"not stored within {self.SUBMIT_TIMEOUT:g} s"))
                self._swept = last

    async def close(self) -> None:
        """Let the writer store and acknowledge everything sent, then wait for it to exit (bounded)."""
        self._stopping = True
        if self._expiring is not None:
            self._expiring.cancel()
        if self._spawning is not None:
            self._spawning.cancel()
            with contextlib.suppress(BaseException):
                await self._spawning
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write_eof()
        if self._closed is not None and not self._closed.done():
            # what is still unacknowledged after this was never answered 200: nothing is lost
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._closed), GRACEFUL_SHUTDOWN_SECONDS)
        if self._transport is not None:
            self._transport.abort()
        if self._process is not None:
            await asyncio.to_thread(self._wait_for_exit, self._process)

    @staticmethod
    def _wait_for_exit(process: subprocess.Popen[bytes]) -> int:
        try:
            return process.wait(timeout=GRACEFUL_SHUTDOWN_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()

    # what the writer says

    def received(self, message: dict[str, Any]) -> None:
        if "keys" in message:
            self.keys = Keys.from_wire(message["keys"])
        if message.get("refreshed") and self._refreshing is not None and not self._refreshing.done():
            self._refreshing.set_result(None)
        lines = message.get("lines")
        if lines:
            self._log.write(lines)
        for seq, status, reason in message.get("acks", ()):
            future = self._pending.pop(seq, None)
            if future is None or future.done():
                continue
            if status == 200:
                self.stored += 1
                future.set_result(None)
            else:
                future.set_exception(NotStoredError(reason or "not stored"))
        if message.get("replies"):
            self._on_replies()
        if message.get("ready") and self._ready is not None and not self._ready.done():
            self._ready.set_result(None)

    def lost(self) -> None:
        """The writer's socket closed: fail what it did not acknowledge; start another unless stopping."""
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(OperationError("the writer process stopped before storing it"))
        self._transport = None
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(OperationError("the writer process stopped while starting"))
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)
        if self._stopping or self._loop is None or self._spawning is not None:
            return  # stopping, or a start in progress failed: _restart goes on
        self._spawning = self._loop.create_task(self._restart())

    async def _restart(self) -> None:
        """Replace a writer that stopped, with a growing pause while it keeps failing."""
        try:
            while not self._stopping:
                code = await asyncio.to_thread(self._wait_for_exit, self._process) if self._process else None
                self._failures += 1
                pause = min(self.RESTART_MAX_SECONDS, self.RESTART_SECONDS * 2 ** (self._failures - 1))
                self._log.write(
                    [self._log.line(0, "writer process stopped", detail=f"exit code {code}; another in {pause:g} s")]
                )
                await asyncio.sleep(pause)
                if self._stopping:
                    return
                try:
                    await self._spawn()
                except Exception as exc:  # noqa: BLE001 - try again, after a longer pause
                    self._log.write([self._log.line(0, "writer process failed to start", detail=one_line(exc))])
                    continue
                return
        finally:
            self._spawning = None


class _WriterProtocol(asyncio.Protocol):
    def __init__(self, intake: Intake) -> None:
        self._intake = intake
        self._frames = wire.FrameBuffer()

    def data_received(self, data: bytes) -> None:
        for payload in self._frames.feed(data):
            self._intake.received(orjson.loads(payload))

    def eof_received(self) -> bool:
        return False  # close the transport: the writer has said everything

    def connection_lost(self, exc: Exception | None) -> None:
        self._intake.lost()


# -- auto-replies, off the request path --------------------------------------------------------


class Replier:
    """Sends pending auto-replies from its own thread and event loop, when the writer says some wait.

    The writer says so after a commit that planned replies, at start when replies were left
    pending, and every few seconds while any are (a failed send, another instance's crash). Until
    then nothing of the database or Graph stack is imported into the HTTP process.
    """

    def __init__(self, settings: Settings, log: DeliveryLog) -> None:
        self._settings = settings
        self._log = log
        self._wake = threading.Event()
        self._wanted = False
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="waba-auto-replies", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wanted = True
        self._wake.set()

    def close(self) -> None:
        """Finish the replies being sent, then stop."""
        self._stopping = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        # waits in this daemon thread, never in an executor's: an exit without close() must not hang
        loop: asyncio.AbstractEventLoop | None = None
        context: CommandContext | None = None
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._wanted:
                    self._wanted = False
                    from waba_cli.services import bot
                    from waba_cli.services.context import CommandContext

                    context = context or CommandContext(self._settings)
                    loop = loop or asyncio.new_event_loop()
                    loop.run_until_complete(self._send(bot, context))
                if self._stopping:
                    return
        finally:
            if context is not None:
                context.close()
            if loop is not None:
                loop.close()

    async def _send(self, bot: Any, context: CommandContext) -> None:
        try:
            results = await bot.send_pending_replies(context)
        except Exception as exc:  # noqa: BLE001 - the writer's next poll wakes this again
            results = []
            self._log.write([self._log.line(0, "auto-replies failed", detail=one_line(exc))])
        self._log.write(
            [
                self._log.line(0, f"auto-reply {r.status}", field="auto_reply", ids=[r.inbound_wamid], detail=r.detail)
                for r in results
            ]
        )


# -- the ASGI app ------------------------------------------------------------------------------


class WebhookApp:
    """GET verification and signed POSTs on one path, ``/healthz`` beside it."""

    def __init__(self, settings: Settings, options: Options, stream: TextIO | None = None) -> None:
        self.options = options
        self.log = DeliveryLog(stream or sys.stdout, json_lines=options.json_logs)
        self.replier = Replier(settings, self.log)
        self.intake = Intake(settings, self.log, self.replier.wake)
        self._max_body = settings.webhook_max_body_bytes
        self.limits = limits_for(settings)
        self._paths = {options.path, options.path.rstrip("/") or "/", options.path.rstrip("/") + "/"}
        self._started = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.start()
                except Exception as exc:  # noqa: BLE001 - uvicorn reports it and exits non-zero
                    await send({"type": "lifespan.startup.failed", "message": one_line(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def start(self) -> None:
        """Start the writer process (it applies what a previous run left unapplied first), then the replier."""
        if not self._started:
            self._started = True
            try:
                await self.intake.start()
            except BaseException:
                await self.intake.close()
                self._started = False
                raise
            self.replier.start()

    async def stop(self) -> None:
        """Let the writer store everything received, then finish the auto-replies in flight."""
        if self._started:
            try:
                await self.intake.close()
            finally:
                await asyncio.to_thread(self.replier.close)
                self._started = False

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        if path == "/healthz":
            if method in ("GET", "HEAD"):
                await _respond(send, 200, b"ok\n")
            else:
                await _respond(send, 405, b"method not allowed\n", allow=b"GET, HEAD")
            return
        if path not in self._paths:
            await _respond(send, 404, b"not found\n")
        elif method == "POST":
            # the client left mid-body, or the server cut it off (408): nobody to answer
            with contextlib.suppress(_DisconnectedError):
                await self._post(scope, receive, send)
        elif method in ("GET", "HEAD"):
            await self._verify(scope, send)
        else:
            await _respond(send, 405, b"method not allowed\n", allow=b"GET, POST")

    async def _verify(self, scope: Scope, send: Send) -> None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        mode = query.get("hub.mode", [""])[0]
        token = query.get("hub.verify_token", [""])[0]
        challenge = query.get("hub.challenge", [""])[0]
        known = self.intake.keys.verify_token(token)
        if mode == "subscribe" and not known and token and await self.intake.refresh_keys():
            known = self.intake.keys.verify_token(token)
        if mode == "subscribe" and known:
            self.log.write([self.log.line(200, "verified", field="verification")])
            await _respond(send, 200, challenge.encode("utf-8"))
            return
        self.log.write([self.log.line(403, "verification refused", field="verification")])
        await _respond(send, 403, b"verify token mismatch\n")

    async def _post(self, scope: Scope, receive: Receive, send: Send) -> None:
        signature = None
        declared = 0
        raw_headers = scope["headers"]
        for name, value in raw_headers:
            if name == b"x-hub-signature-256":
                signature = value
            elif name == b"content-length" and value.isdigit():
                declared = int(value)
        if declared > self._max_body:
            await self._refuse(send, 413, "too large", f"{declared} bytes")
            return
        body = await self._read(receive)
        if body is None:
            await self._refuse(send, 413, "too large", f"over {self._max_body} bytes")
            return
        signed_for = self.intake.keys.verify(body, signature)
        if signed_for is None and signature and await self.intake.refresh_keys():
            signed_for = self.intake.keys.verify(body, signature)  # an app secret changed since the last refresh
        if signed_for is None:
            await self._refuse(send, 401, "invalid signature", "no configured app secret signed it")
            return
        try:
            payload = parse_body(body)
        except ValueError as exc:
            await self._refuse(send, 400, "malformed JSON", one_line(exc))
            return
        delivery = Delivery(body=body, payload=payload, headers=headers_to_store(raw_headers), signed_for=signed_for)
        try:
            await self.intake.submit(delivery)
        except NotStoredError:  # the writer logged it; Meta delivers again after a non-200
            await _respond(send, 503, b"not stored, try again\n")
            return
        except OperationError as exc:
            await self._refuse(send, 503, "not stored", one_line(exc))
            return
        # no body: uvicorn writes the headers at once and skips an empty body, one send() per delivery
        await _respond(send, 200, b"")

    async def _read(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _DisconnectedError
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    async def _refuse(self, send: Send, status: int, result: str, detail: str) -> None:
        self.log.write([self.log.line(status, result, detail=detail)])
        await _respond(send, status, result.encode() + b"\n")


class _DisconnectedError(Exception):
    pass


async def _respond(send: Send, status: int, body: bytes, *, allow: bytes | None = None) -> None:
    headers = [*_TEXT, (b"content-length", str(len(body)).encode())]
    if allow:
        headers.append((b"allow", allow))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# -- serving -----------------------------------------------------------------------------------


def _server_class() -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, except that a SIGTERM/SIGINT it shut down for gracefully ends in exit 0.

        uvicorn re-raises the captured signal after its shutdown, which would make the process die
        of it (exit 143/130) although everything was flushed.
        """

        on_ready: Callable[[str, int], None] | None = None  # called once the port accepts connections

        @contextlib.contextmanager
        def capture_signals(self) -> Generator[None, None, None]:
            with super().capture_signals():
                yield
                self._captured_signals.clear()

        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.started and self.on_ready is not None and self.servers:
                host, port = self.servers[0].sockets[0].getsockname()[:2]
                self.on_ready(self.config.host or host, port)

    return Server


def limits_for(settings: Settings) -> Limits:
    """The ``[webhook]`` bounds on each request and connection (README "Limits")."""
    from waba_cli.http_limits import Limits

    return Limits(
        max_header_bytes=settings.webhook_max_header_bytes,
        max_headers=settings.webhook_max_headers,
        header_timeout=settings.webhook_header_timeout,
        body_timeout=settings.webhook_body_timeout,
        body_min_rate=settings.webhook_body_min_rate,
        keep_alive_timeout=settings.webhook_keep_alive_timeout,
        max_connections=settings.webhook_max_connections,
        max_body_bytes=settings.webhook_max_body_bytes,
    )


def config(app: Any, host: str, port: int, limits: Limits, **extra: Any) -> Any:
    """uvicorn's configuration for the webhook app: httptools with ``limits`` (``http_limits``), uvloop."""
    import uvicorn

    from waba_cli.http_limits import uvicorn_options

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="auto",
        lifespan="on",
        access_log=False,
        log_level="warning",
        server_header=False,
        proxy_headers=False,  # client addresses are neither logged nor trusted: no need to rewrite them
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        backlog=4096,
        **uvicorn_options(limits),
        **extra,
    )


def server(
    app: WebhookApp,
    host: str,
    port: int,
    on_ready: Callable[[str, int], None] | None = None,
    *,
    limits: Limits | None = None,
) -> Any:
    """A uvicorn server for ``app`` (tests run it in a thread); ``on_ready(host, port)`` once it listens;
    ``limits``: other than the settings'."""
    running = _server_class()(config(app, host, port, limits or app.limits))
    running.on_ready = on_ready
    return running


def serve(
    settings: Settings,
    options: Options,
    *,
    host: str,
    port: int,
    workers: int = 1,
    debug: bool = False,
    detail: str | None = None,
    ready_file: str | None = None,
) -> NoReturn:
    """Replace this process (the CLI, its checks done) by the lean server: ``python -m waba_cli.webhook.server``.

    The CLI has imported the database stack, the models and Typer; the HTTP side needs none of them
    (the writer process owns the database), and an imported module cannot be unloaded. exec keeps
    the process id, so a supervisor's signals and a shell's ``$!`` still reach the server.
    """
    os.environ[_OPTIONS_ENV] = json.dumps(
        {
            "path": options.path,
            "json_logs": options.json_logs,
            "config": str(settings.config_path),
            "debug": debug,
            "host": host,
            "port": port,
            "workers": workers,
            "detail": detail,  # for the "listening" line (waba_cli.webhook.ready)
            "ready_file": ready_file,
        }
    )
    sys.stdout.flush()
    sys.stderr.flush()
    # -P: the working directory is not put on sys.path, so a stray json.py there is never imported
    os.execv(sys.executable, [sys.executable, "-P", "-m", "waba_cli.webhook.server"])  # noqa: S606


def _options_from_env() -> tuple[Settings, Options, dict[str, Any]]:
    from pathlib import Path

    from waba_cli.settings import load_settings

    given = json.loads(os.environ[_OPTIONS_ENV])
    settings = load_settings(config_path=Path(given["config"]), debug=bool(given.get("debug")))
    return settings, Options(path=given["path"], json_logs=given["json_logs"]), given


def worker_app() -> WebhookApp:
    """The app in a ``--workers`` child process (uvicorn imports this factory)."""
    settings, options, _ = _options_from_env()
    return WebhookApp(settings, options)


def main() -> int:
    """Serve until SIGTERM/SIGINT. Exit 0 after a graceful stop, 1 when the server could not start."""
    from waba_cli.webhook.ready import Readiness

    settings, options, given = _options_from_env()
    readiness = Readiness(path=options.path, detail=given.get("detail"), ready_file=given.get("ready_file"))
    try:
        return _run(settings, options, given, readiness)
    finally:
        readiness.stopped()


def _run(settings: Settings, options: Options, given: dict[str, Any], readiness: Any) -> int:
    if given["workers"] <= 1:
        running = server(WebhookApp(settings, options), given["host"], given["port"], on_ready=readiness.ready)
        try:
            running.run()
        except SystemExit as exc:  # uvicorn exits 3 when the port is taken or the writer did not start
            if exc.code not in (0, None):
                print("waba: serve-webhook could not start (see above)", file=sys.stderr)  # noqa: T201
                return 1
        if not running.started:
            return 1
    else:
        from uvicorn.config import STARTUP_FAILURE
        from uvicorn.supervisors import Multiprocess

        workers = config(
            "waba_cli.webhook.server:worker_app",
            given["host"],
            given["port"],
            limits_for(settings),
            factory=True,
            workers=given["workers"],
        )
        from waba_cli.webhook.ready import watch_port

        listener = workers.bind_socket()
        stop_probe = threading.Event()
        port = listener.getsockname()[1]
        watch_port(given["host"], port, lambda: readiness.ready(given["host"], port), stop_probe)
        supervisor = Multiprocess(workers, sockets=[listener])
        try:
            supervisor.run()
        finally:
            stop_probe.set()
        if any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes):
            print("waba: serve-webhook could not start (see above)", file=sys.stderr)  # noqa: T201
            return 1
    print("waba: stopped; every acknowledged delivery is stored", file=sys.stderr)  # noqa: T201
    return 0


if __name__ == "__main__":  # pragma: no cover - exec'd by `waba serve-webhook`
    sys.exit(main())
