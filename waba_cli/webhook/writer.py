"""The webhook store's own process: it stores and applies deliveries, one group commit at a time.

``waba serve-webhook`` runs two processes. The server (``server.py``: uvicorn, signatures, JSON
checks) hands every verified delivery to this one over a socket pair; this process stores and
applies whatever has queued up in one transaction (``services.webhooks.store.commit_batch``) and answers
with one acknowledgement per delivery, after the commit. The server's 200 waits for it.

Why a process and not a thread: storing a delivery costs about three times what answering its
HTTP request does, and in one process the two halves took turns on the GIL. Measured on 2 cores
(``tests/benchmarks/webhook_load.py``), each with a core of its own is what lifts serve-webhook
past 5,000 deliveries/s.

The socket's frames are in ``wire.py``. Besides the acknowledgements, the writer tells the server
the app secrets and verify tokens it must check requests with (decrypted here, at start and when
they change) and when auto-replies are waiting: the HTTP process holds no database connection and
loads none of the database stack unless it has replies to send.

The writer exits when its input ends (the server closed its side, or died): it stores and
acknowledges what it has read first. It ignores SIGINT and SIGTERM, which a terminal or systemd
sends to the whole process group: the server shuts down gracefully and then closes the socket.
"""

from __future__ import annotations

import contextlib
import pickle
import select
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from waba_cli.errors import OperationError
from waba_cli.services.webhooks.apply import Directory, Outcome
from waba_cli.services.webhooks.parse import Delivery, Keys, fields_of, one_line
from waba_cli.services.webhooks.store import (
    apply_stored,
    commit_batch,
    load_keys,
    open_store,
    replies_pending,
    unapplied_events,
)
from waba_cli.webhook import wire

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from waba_cli.db.engine import Database
    from waba_cli.services.context import CommandContext
    from waba_cli.settings import Settings
    from waba_cli.webhook.server import DeliveryLog

# the writer stores at most this many deliveries per transaction (Meta's batches are separate POSTs)
MAX_BATCH = 1000
# accounts, numbers, app secrets and verify tokens changed by other commands are picked up this often
REFRESH_SECONDS = 30.0
# how often the writer looks for auto-replies left pending (a failed send, another instance's crash)
REPLY_POLL_SECONDS = 5.0
CHECKPOINT_SECONDS = 1.0
READ_SIZE = 1 << 20

# -- the writer process ------------------------------------------------------------------------


@dataclass
class _Queued:
    seq: int
    delivery: Delivery | None


class Writer:
    """Reads deliveries from the socket, stores each batch in one transaction, acknowledges it."""

    def __init__(self, sock: socket.socket, store: Database, context: CommandContext, log: DeliveryLog) -> None:
        self._sock = sock
        self._store = store
        self._context = context
        self._log = log
        self._send_lock = threading.Lock()
        self._buffer = wire.FrameBuffer()
        self._stopping = False
        self._eof = False
        self._orphaned = False  # the server is gone: what was read is still stored
        self._recovered = False
        with store.engine.connect() as conn:
            self._directory = Directory.load(conn)
        self._loaded = load_keys(store, context.cipher())  # as the database has them
        self._keys = self._loaded  # what the server verifies with: those, and the ones replaced lately
        self._previous: dict[str, tuple[list[int], float]] = {}  # replaced app secret -> (accounts, until)
        self._previous_tokens: dict[str, float] = {}  # replaced verify token -> until
        self._refresh_asked = False
        self._refreshed = self._polled = time.monotonic()

    # the socket

    def send(self, message: dict[str, Any]) -> None:
        """Tell the server; once it is gone, go on storing what was read (nobody hears the answers)."""
        if self._orphaned:
            return
        with self._send_lock:
            try:
                self._sock.sendall(wire.frame(orjson.dumps(message)))
            except OSError:  # BrokenPipeError, ConnectionResetError: the server died
                self._orphaned = True

    def _read(self) -> list[_Queued]:
        """Wait for the next deliveries (up to REPLY_POLL_SECONDS), then take whatever else is waiting.

        The socket stays blocking (the checkpoint thread sends on it too): the wait is a select,
        the draining reads are MSG_DONTWAIT.
        """
        frames: list[bytes] = []
        readable, _, _ = select.select([self._sock], [], [], REPLY_POLL_SECONDS)
        if not readable:
            return []
        frames += self._receive(0)
        while not self._eof and len(frames) < MAX_BATCH:
            try:
                frames += self._receive(socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
        if wire.REFRESH in frames:
            self._refresh_asked = True
            frames = [f for f in frames if f != wire.REFRESH]
        return [_Queued(*wire.read_delivery(f)) for f in frames]

    def _receive(self, flags: int) -> list[bytes]:
        try:
            data = self._sock.recv(READ_SIZE, flags)
        except ConnectionResetError:  # the server died with answers unread: the end of its input
            data = b""
        if not data:
            self._eof = True
            return []
        return self._buffer.feed(data)

    # the loop

    def run(self) -> None:
        conn = self._connect()
        if self._store.engine.dialect.name == "sqlite":
            threading.Thread(target=self._checkpoints, name="waba-webhook-checkpoints", daemon=True).start()
        recovered = self._recover(conn)
        self.send({"ready": True, "keys": self._keys.to_wire(), "replies": recovered or self._replies_pending(conn)})
        while not self._eof:
            queued = self._read()
            for start in range(0, len(queued), MAX_BATCH):
                if conn is None or conn.closed:
                    conn = self._connect()
                if not self._recovered and self._recover(conn):
                    self.send({"replies": True})
                conn = self._commit(conn, queued[start : start + MAX_BATCH])
            self._refresh(conn)
            if time.monotonic() - self._polled >= REPLY_POLL_SECONDS:
                self._polled = time.monotonic()
                if self._replies_pending(conn):
                    self.send({"replies": True})
        self._stopping = True
        if conn is not None:
            conn.close()
        self._store.dispose()

    def _connect(self) -> Connection | None:
        try:
            conn = self._store.engine.connect()
            if conn.dialect.name == "sqlite":
                # checkpoints run beside the commits (_checkpoints), never inside one
                conn.connection.driver_connection.execute("PRAGMA wal_autocheckpoint=0")  # type: ignore[union-attr]
        except Exception as exc:  # noqa: BLE001 - reported per delivery (503), retried on the next batch
            self.send({"lines": [self._log.line(503, "database unavailable", detail=one_line(exc))]})
            return None
        return conn

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
                with contextlib.suppress(OSError):
                    self.send({"lines": [self._log.line(0, "checkpoint failed", detail=one_line(exc))]})

    def _recover(self, conn: Connection | None) -> bool:
        """Apply events stored but not applied when a previous run stopped (stored alone, then killed).

        Done once, on the first connection that works; True when there was something to apply.
        """
        if conn is None or self._recovered:
            return False
        self._recovered = True
        try:
            with conn.begin():
                waiting = unapplied_events(conn)
            lines = [self._describe(d, apply_stored(conn, d, self._directory)) for d in waiting]
        except Exception as exc:  # noqa: BLE001 - they stay stored; `waba events replay --failed` applies them
            lines = [self._log.line(0, "recovery failed", detail=one_line(exc))]
        if lines:
            self.send({"lines": lines})
        return bool(lines)

    def _commit(self, conn: Connection | None, queued: list[_Queued]) -> Connection | None:
        unreadable = [q.seq for q in queued if q.delivery is None]
        batch = [q for q in queued if q.delivery is not None]
        acks: list[list[Any]] = [[seq, 503, "unreadable frame"] for seq in unreadable]
        deliveries = [q.delivery for q in batch if q.delivery is not None]
        if not deliveries:
            self.send({"acks": acks, "lines": []})
            return conn
        try:
            result = commit_batch(_connected(conn), deliveries, self._directory)
        except Exception as exc:  # noqa: BLE001 - nothing stored: answer 503, Meta delivers again
            reason = one_line(exc)
            acks += [[q.seq, 503, reason] for q in batch]
            lines = [self._log.line(503, "not stored", field=fields_of(d.payload), detail=reason) for d in deliveries]
            self.send({"acks": acks, "lines": lines})
            if conn is not None:
                conn.close()
            return None
        acks += [[q.seq, 200, None] for q in batch]
        lines = [self._describe(d, o) for d, o in zip(deliveries, result.outcomes, strict=True)]
        self.send({"acks": acks, "lines": lines, "replies": bool(result.replies)})
        if result.deferred:
            # stored, acknowledged, but the batch did not apply as a whole: apply them one by one
            live = _connected(conn)
            lines = [self._describe(d, apply_stored(live, d, self._directory)) for d in deliveries]
            self.send({"lines": lines, "replies": True})
        return conn

    def _describe(self, delivery: Delivery, outcome: Outcome | None) -> str:
        if outcome is None:
            return self._log.line(
                200,
                "stored, applying one by one",
                field=fields_of(delivery.payload),
                event_id=delivery.event_id,
            )
        return self._log.line(
            200,
            "failed" if outcome.error else "applied",
            field=outcome.field_text,
            ids=outcome.ids,
            event_id=delivery.event_id,
            detail=outcome.summary,
        )

    def _refresh(self, conn: Connection | None) -> None:
        """Every REFRESH_SECONDS, or at once when the server asks (a signature no known app secret made):
        read the accounts, app secrets and verify tokens again, and tell the server what changed."""
        asked, self._refresh_asked = self._refresh_asked, False
        if conn is None or (not asked and time.monotonic() - self._refreshed < REFRESH_SECONDS):
            if asked:
                self.send({"refreshed": True})
            return
        self._refreshed = time.monotonic()
        try:
            with conn.begin():
                self._directory = Directory.load(conn)
            loaded = self._load_keys()
        except Exception as exc:  # noqa: BLE001 - keep serving with what was loaded before
            self.send({"lines": [self._log.line(0, "refresh failed", detail=one_line(exc))], "refreshed": asked})
            return
        keys = self._with_previous(loaded)
        message: dict[str, Any] = {"refreshed": True} if asked else {}
        if keys != self._keys:
            self._keys = keys
            message["keys"] = keys.to_wire()
        if message:
            self.send(message)

    def _load_keys(self) -> Keys:
        """The app secrets and verify tokens; after `waba secrets rotate-key` the key is read again."""
        from waba_cli.errors import KeyUnavailableError

        try:
            return load_keys(self._store, self._context.cipher())
        except KeyUnavailableError:
            before = self._context.key()
            material = self._context.reload_key()
            if material.keys == before.keys:
                raise
            keys = load_keys(self._store, self._context.cipher())
            self.send({"lines": [self._log.line(0, "encryption key read again", detail=material.location)]})
            return keys

    def _with_previous(self, loaded: Keys) -> Keys:
        """``loaded``, plus the app secrets and verify tokens it replaced within the grace period
        (``webhook.previous_secret_grace``): deliveries signed before a change still verify."""
        now = time.monotonic()
        until = now + self._context.settings.webhook_previous_secret_grace
        before, after = self._loaded.to_wire(), loaded.to_wire()
        for secret, accounts in before["secrets"].items():
            if secret not in after["secrets"]:
                self._previous[secret] = (accounts, until)
        for token in before["tokens"]:
            if token not in after["tokens"]:
                self._previous_tokens[token] = until
        self._loaded = loaded
        self._previous = {s: v for s, v in self._previous.items() if v[1] > now and s not in after["secrets"]}
        self._previous_tokens = {t: u for t, u in self._previous_tokens.items() if u > now and t not in after["tokens"]}
        if not self._previous and not self._previous_tokens:
            return loaded
        secrets = {**{s: ids for s, (ids, _) in self._previous.items()}, **after["secrets"]}
        return Keys(secrets, [*after["tokens"], *self._previous_tokens])

    def _replies_pending(self, conn: Connection | None) -> bool:
        if conn is None:
            return False
        try:
            with conn.begin():
                return replies_pending(conn)
        except Exception:  # noqa: BLE001 - the next poll asks again
            return False


def _connected(conn: Connection | None) -> Connection:
    if conn is None:
        raise OperationError("no database connection")
    return conn


def _first_frame(sock: socket.socket) -> bytes:
    buffer = wire.FrameBuffer()
    while True:
        data = sock.recv(READ_SIZE)
        if not data:
            raise OperationError("the server closed the socket before sending the settings")
        frames = buffer.feed(data)
        if frames:
            if len(frames) > 1 or buffer.pending:
                raise OperationError("the server sent deliveries before the writer was ready")
            return frames[0]


def main(argv: list[str]) -> int:
    """``python -m waba_cli.webhook.writer FD``: serve the socket pair end ``FD`` until it closes."""
    # the server shuts down gracefully on these, then closes the socket: that is the writer's signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from waba_cli.webhook.server import DeliveryLog

    sock = socket.socket(fileno=int(argv[1]))
    from waba_cli.services.context import CommandContext

    settings, json_logs = pickle.loads(_first_frame(sock))  # noqa: S301 - our own parent, over a socket pair
    context = CommandContext(_settings(settings))
    store = open_store(context.settings)
    Writer(sock, store, context, DeliveryLog(sys.stderr, json_lines=json_logs)).run()
    return 0


def _settings(value: Any) -> Settings:
    from waba_cli.settings import Settings

    if not isinstance(value, Settings):
        raise OperationError("the server sent no settings")
    return value


if __name__ == "__main__":  # pragma: no cover - run as the server's child process
    sys.exit(main(sys.argv))
