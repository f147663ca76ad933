"""The ASGI app behind ``waba serve-webhook``, and how uvicorn serves it.

A raw ASGI app rather than a framework: the hot path is one POST shape, and every microsecond
spent routing is taken from the group commit (measured: ~8,700 requests/s raw, ~6,600 with
Starlette). The path of a POST:

1. the body is read up to ``webhook.max_body_bytes`` (413 beyond), the signature checked against
   every configured app secret (401), the JSON parsed (400);
2. the delivery joins the queue of the writer thread, which stores and applies everything queued
   in one transaction (``services.webhooks.commit_batch``): a group commit, so one fsync covers
   every delivery that arrived while the previous one ran;
3. the 200 goes out only when the commit containing the delivery is done. If the store fails,
   the answer is 503 and Meta delivers again later.

Auto-replies are sent by their own thread (``Replier``) after the commit, never on the request path.
Several instances (``--workers``, or other hosts on one PostgreSQL database) can run at once:
every "apply once" rule is a unique key in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Generator, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import parse_qs

from waba_cli.errors import OperationError
from waba_cli.services import webhooks

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from waba_cli.db.engine import Database
    from waba_cli.services.runtime import Runtime

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# the writer stores at most this many deliveries per transaction (Meta's batches are separate POSTs)
MAX_BATCH = 1000
# accounts, numbers, app secrets and auto-reply switches changed by other commands are picked up this often
REFRESH_SECONDS = 30.0
GRACEFUL_SHUTDOWN_SECONDS = 30
CHECKPOINT_SECONDS = 1.0
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
        self._json = json_lines
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
        if self._json:
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
        return f"{self._stamp}  --> {field or '-'}{id_text}  <-- [{status}] {result}{event}" + (
            f": {detail}" if detail else ""
        )


# -- the writer: group commit ------------------------------------------------------------------


class Intake:
    """Deliveries queue here; one thread stores and applies each batch in one transaction."""

    def __init__(self, runtime: Runtime, log: DeliveryLog, on_replies: Callable[[], None]) -> None:
        self._runtime = runtime
        self._log = log
        self._on_replies = on_replies
        self._queue: deque[tuple[webhooks.Delivery, asyncio.Future[webhooks.Outcome | None]]] = deque()
        self._ready = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="waba-webhook-writer", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._store: Database = webhooks.open_store(runtime.settings)
        self.keys = webhooks.load_keys(self._store, runtime.cipher())
        with self._store.engine.connect() as conn:
            self._directory = webhooks.Directory.load(conn)
        self._refreshed = time.monotonic()
        self.stored = 0

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread.start()
        if self._store.engine.dialect.name == "sqlite":
            threading.Thread(target=self._checkpoints, name="waba-webhook-checkpoints", daemon=True).start()

    def _checkpoints(self) -> None:
        """Copy SQLite's write-ahead log into the database file beside the writer, not inside its commits.

        The writer's connection has automatic checkpoints off: a checkpoint inside a commit (with
        synchronous=FULL it fsyncs the database file too) added ~5 ms to one batch in every few.
        A passive checkpoint never blocks the writer; what it cannot copy yet, it copies next time.
        """
        while not self._stopping:
            time.sleep(CHECKPOINT_SECONDS)
            try:
                raw = self._store.engine.raw_connection()
                try:
                    raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")  # type: ignore[union-attr]
                finally:
                    raw.close()
            except Exception as exc:  # noqa: BLE001 - the next round tries again; SQLite checkpoints at close
                self._log.write([self._log.line(0, "checkpoint failed", detail=webhooks.one_line(exc))])

    def submit(self, delivery: webhooks.Delivery) -> asyncio.Future[webhooks.Outcome | None]:
        assert self._loop is not None
        future: asyncio.Future[webhooks.Outcome | None] = self._loop.create_future()
        with self._ready:
            self._queue.append((delivery, future))
            self._ready.notify()
        return future

    def close(self) -> None:
        """Store what is queued, then stop the thread."""
        with self._ready:
            self._stopping = True
            self._ready.notify()
        if self._thread.is_alive():
            self._thread.join()
        self._store.dispose()

    def _take(self) -> list[tuple[webhooks.Delivery, asyncio.Future[webhooks.Outcome | None]]]:
        with self._ready:
            while not self._queue and not self._stopping:
                self._ready.wait(timeout=REFRESH_SECONDS)
                if not self._queue:
                    return []
            count = min(len(self._queue), MAX_BATCH)
            return [self._queue.popleft() for _ in range(count)]

    def _run(self) -> None:
        conn = self._connect()
        if conn is not None:
            self._recover(conn)
        while True:
            batch = self._take()
            if not batch:
                if self._stopping:
                    break
                self._refresh(conn)
                continue
            if conn is None or conn.closed:
                conn = self._connect()
            try:
                conn = self._commit(conn, batch)
            except Exception as exc:  # noqa: BLE001 - the writer must outlive any one batch
                self._resolve([f for _, f in batch], exc)
                self._log.write([self._log.line(0, "writer error", detail=webhooks.one_line(exc))])
            self._refresh(conn)
        if conn is not None:
            conn.close()

    def _recover(self, conn: Connection) -> None:
        """Apply events stored but not applied when a previous run stopped (stored alone, then killed)."""
        try:
            with conn.begin():
                waiting = webhooks.unapplied_events(conn)
            lines = [self._describe(d, webhooks.apply_stored(conn, d, self._directory)) for d in waiting]
        except Exception as exc:  # noqa: BLE001 - they stay stored; `waba events replay --failed` applies them
            lines = [self._log.line(0, "recovery failed", detail=webhooks.one_line(exc))]
        self._log.write(lines)
        if lines:
            self._on_replies()

    def _connect(self) -> Connection | None:
        try:
            conn = self._store.engine.connect()
            if conn.dialect.name == "sqlite":
                conn.connection.driver_connection.execute("PRAGMA wal_autocheckpoint=0")  # type: ignore[union-attr]
        except Exception as exc:  # noqa: BLE001 - reported per delivery (503), retried on the next batch
            self._log.write([self._log.line(503, "database unavailable", detail=webhooks.one_line(exc))])
            return None
        return conn

    def _commit(
        self, conn: Connection | None, batch: list[tuple[webhooks.Delivery, asyncio.Future[webhooks.Outcome | None]]]
    ) -> Connection | None:
        deliveries = [d for d, _ in batch]
        futures = [f for _, f in batch]
        try:
            conn = _connected(conn)
            result = webhooks.commit_batch(conn, deliveries, self._directory)
        except Exception as exc:  # noqa: BLE001 - nothing stored: answer 503, Meta delivers again
            self._resolve(futures, exc)
            reason = webhooks.one_line(exc)
            self._log.write([self._log.line(503, "not stored", field=_fields(d), detail=reason) for d in deliveries])
            if conn is not None:
                conn.close()
            return None
        self.stored += len(deliveries)
        self._resolve(futures, result.outcomes)
        self._log.write([self._describe(d, o) for d, o in zip(deliveries, result.outcomes, strict=True)])
        if result.deferred:
            # stored, acknowledged, but the batch did not apply as a whole: apply them one by one
            lines = []
            for delivery in deliveries:
                outcome = webhooks.apply_stored(conn, delivery, self._directory)
                lines.append(self._describe(delivery, outcome))
            self._log.write(lines)
            self._on_replies()
        elif result.replies:
            self._on_replies()
        return conn

    def _describe(self, delivery: webhooks.Delivery, outcome: webhooks.Outcome | None) -> str:
        if outcome is None:
            return self._log.line(
                200, "stored, applying one by one", field=_fields(delivery), event_id=delivery.event_id
            )
        return self._log.line(
            200,
            "failed" if outcome.error else "applied",
            field=outcome.field_text,
            ids=outcome.ids,
            event_id=delivery.event_id,
            detail=outcome.summary,
        )

    def _resolve(self, futures: list[asyncio.Future[webhooks.Outcome | None]], result: Any) -> None:
        assert self._loop is not None

        def resolve() -> None:
            for index, future in enumerate(futures):
                if future.done():
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result[index])

        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits for the answers
            self._loop.call_soon_threadsafe(resolve)

    def _refresh(self, conn: Connection | None) -> None:
        if conn is None or time.monotonic() - self._refreshed < REFRESH_SECONDS:
            return
        self._refreshed = time.monotonic()
        try:
            with conn.begin():
                self._directory = webhooks.Directory.load(conn)
            self.keys = webhooks.load_keys(self._store, self._runtime.cipher())
        except Exception as exc:  # noqa: BLE001 - keep serving with what was loaded before
            self._log.write([self._log.line(0, "refresh failed", detail=webhooks.one_line(exc))])


def _connected(conn: Connection | None) -> Connection:
    if conn is None:
        raise OperationError("no database connection")
    return conn


def _fields(delivery: webhooks.Delivery) -> str | None:
    return webhooks.fields_of(delivery.payload)


# -- auto-replies, off the request path --------------------------------------------------------


class Replier:
    """Sends pending auto-replies from its own thread and event loop, woken after each commit."""

    POLL_SECONDS = 5.0

    def __init__(self, runtime: Runtime, log: DeliveryLog) -> None:
        self._runtime = runtime
        self._log = log
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="waba-auto-replies", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def close(self) -> None:
        """Finish the replies being sent, then stop."""
        self._stopping = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        from waba_cli.services import bot

        while True:
            try:
                results = await bot.send_pending_replies(self._runtime)
            except Exception as exc:  # noqa: BLE001 - the next wake-up tries again
                results = []
                self._log.write([self._log.line(0, "auto-replies failed", detail=webhooks.one_line(exc))])
            self._log.write(
                [
                    self._log.line(
                        0, f"auto-reply {r.status}", field="auto_reply", ids=[r.inbound_wamid], detail=r.detail
                    )
                    for r in results
                ]
            )
            if self._stopping:
                return
            await asyncio.to_thread(self._wake.wait, self.POLL_SECONDS)
            self._wake.clear()


# -- the ASGI app ------------------------------------------------------------------------------


class WebhookApp:
    """GET verification and signed POSTs on one path, ``/healthz`` beside it."""

    def __init__(self, runtime: Runtime, options: Options, stream: TextIO | None = None) -> None:
        self.options = options
        self.log = DeliveryLog(stream or sys.stdout, json_lines=options.json_logs)
        self.replier = Replier(runtime, self.log)
        self.intake = Intake(runtime, self.log, self.replier.wake)
        self._max_body = runtime.settings.webhook_max_body_bytes
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
                self.start(asyncio.get_running_loop())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.to_thread(self.stop)
                await send({"type": "lifespan.shutdown.complete"})
                return

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._started:
            self._started = True
            self.intake.start(loop)
            self.replier.start()

    def stop(self) -> None:
        """Flush the queue to the database, finish the auto-replies in flight."""
        if self._started:
            self.intake.close()
            self.replier.close()
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
        if mode == "subscribe" and self.intake.keys.verify_token(token):
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
        if signed_for is None:
            await self._refuse(send, 401, "invalid signature", "no configured app secret signed it")
            return
        try:
            payload = webhooks.parse_body(body)
        except ValueError as exc:
            await self._refuse(send, 400, "malformed JSON", webhooks.one_line(exc))
            return
        delivery = webhooks.Delivery(
            body=body, payload=payload, headers=webhooks.headers_to_store(raw_headers), signed_for=signed_for
        )
        try:
            await self.intake.submit(delivery)
        except Exception:  # noqa: BLE001 - logged by the writer; Meta delivers again after a non-200
            await _respond(send, 503, b"not stored, try again\n")
            return
        # no body: uvicorn writes the headers at once and skips an empty body, one send() per delivery
        await _respond(send, 200, b"")

    async def _read(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
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

        @contextlib.contextmanager
        def capture_signals(self) -> Generator[None, None, None]:
            with super().capture_signals():
                yield
                self._captured_signals.clear()

    return Server


def config(app: Any, host: str, port: int, **extra: Any) -> Any:
    """uvicorn's configuration for the webhook app (httptools and uvloop when installed)."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http="auto",
        loop="auto",
        lifespan="on",
        access_log=False,
        log_level="warning",
        server_header=False,
        proxy_headers=False,  # client addresses are neither logged nor trusted: no need to rewrite them
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        backlog=4096,
        **extra,
    )


def server(app: WebhookApp, host: str, port: int) -> Any:
    """A uvicorn server for ``app`` (tests run it in a thread)."""
    return _server_class()(config(app, host, port))


def serve(runtime: Runtime, options: Options, *, host: str, port: int, workers: int = 1) -> None:
    """Serve until SIGTERM/SIGINT; the queue is flushed before this returns."""
    if workers <= 1:
        app = WebhookApp(runtime, options)
        server(app, host, port).run()
        return
    from uvicorn.supervisors import Multiprocess

    os.environ[_OPTIONS_ENV] = json.dumps(
        {"path": options.path, "json_logs": options.json_logs, "config": str(runtime.settings.config_path)}
    )
    settings = config("waba_cli.webhook.server:worker_app", host, port, factory=True, workers=workers)
    sock = settings.bind_socket()
    Multiprocess(settings, sockets=[sock]).run()


def worker_app() -> WebhookApp:
    """The app in a ``--workers`` child process (uvicorn imports this factory)."""
    from pathlib import Path

    from waba_cli.services.runtime import Runtime
    from waba_cli.settings import load_settings

    options = json.loads(os.environ[_OPTIONS_ENV])
    settings = load_settings(config_path=Path(options["config"]))
    return WebhookApp(Runtime(settings), Options(path=options["path"], json_logs=options["json_logs"]))
