"""The webhook store's own process: it stores and applies deliveries, one group commit at a time.

``waba serve-webhook`` runs two processes. The server (``server.py``: uvicorn, signatures, JSON
checks) hands every verified delivery to this one over a socket pair; this process stores and
applies whatever has queued up in one transaction (``services.webhooks.commit_batch``) and answers
with one acknowledgement per delivery, after the commit. The server's 200 waits for it.

Why a process and not a thread: storing a delivery costs about three times what answering its
HTTP request does, and in one process the two halves took turns on the GIL. Measured on 2 cores
(``tests/benchmarks/webhook_load.py``), each with a core of its own is what lifts serve-webhook
past 5,000 deliveries/s.

The wire, both ways: frames of a 4-byte little-endian length, then the payload.

- server -> writer: first one frame with the pickled ``(Settings, json_logs)``, then one frame per
  delivery: ``<QdI`` (sequence number, received-at timestamp, length of the metadata), the metadata
  as JSON (``{"h": stored headers, "s": account ids that signed it}``), then the raw body;
- writer -> server: JSON objects: ``{"ready": true}`` once it can take deliveries, then
  ``{"acks": [[seq, 200 | 503, reason], ...], "lines": [log lines], "replies": bool}``.

The writer exits when its input ends (the server closed its side, or died): it stores and
acknowledges what it has read first. It ignores SIGINT and SIGTERM, which a terminal or systemd
sends to the whole process group: the server shuts down gracefully and then closes the socket.
"""

from __future__ import annotations

import contextlib
import pickle
import signal
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from waba_cli.errors import OperationError
from waba_cli.services import webhooks

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from waba_cli.db.engine import Database
    from waba_cli.settings import Settings
    from waba_cli.webhook.server import DeliveryLog

# the writer stores at most this many deliveries per transaction (Meta's batches are separate POSTs)
MAX_BATCH = 1000
# accounts and numbers changed by other commands are picked up this often
REFRESH_SECONDS = 30.0
CHECKPOINT_SECONDS = 1.0
READ_SIZE = 1 << 20

LENGTH = struct.Struct("<I")
DELIVERY = struct.Struct("<QdI")


# -- framing -----------------------------------------------------------------------------------


def frame(payload: bytes) -> bytes:
    return LENGTH.pack(len(payload)) + payload


def delivery_frame(seq: int, delivery: webhooks.Delivery) -> bytes:
    """A delivery as the server sends it (the parsed payload stays behind: the writer parses again)."""
    meta = orjson.dumps({"h": delivery.headers, "s": sorted(delivery.signed_for or ())})
    head = DELIVERY.pack(seq, delivery.received_at.timestamp(), len(meta))
    return LENGTH.pack(len(head) + len(meta) + len(delivery.body)) + head + meta + delivery.body


def read_delivery(payload: bytes) -> tuple[int, webhooks.Delivery | None]:
    """(sequence number, delivery); None when the frame cannot be read (then it is answered 503)."""
    seq, received, meta_length = DELIVERY.unpack_from(payload)
    start = DELIVERY.size
    try:
        meta = orjson.loads(payload[start : start + meta_length])
        body = payload[start + meta_length :]
        return seq, webhooks.Delivery(
            body=body,
            payload=webhooks.parse_body(body),
            headers=meta["h"],
            signed_for=frozenset(meta["s"]),
            received_at=datetime.fromtimestamp(received, UTC),
        )
    except (ValueError, KeyError, TypeError):
        return seq, None


class FrameBuffer:
    """Bytes in, whole frames out."""

    def __init__(self) -> None:
        self._data = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._data += data
        frames: list[bytes] = []
        position = 0
        size = len(self._data)
        while size - position >= LENGTH.size:
            (length,) = LENGTH.unpack_from(self._data, position)
            end = position + LENGTH.size + length
            if end > size:
                break
            frames.append(bytes(self._data[position + LENGTH.size : end]))
            position = end
        if position:
            del self._data[:position]
        return frames

    @property
    def pending(self) -> int:
        return len(self._data)


# -- the writer process ------------------------------------------------------------------------


@dataclass
class _Queued:
    seq: int
    delivery: webhooks.Delivery | None


class Writer:
    """Reads deliveries from the socket, stores each batch in one transaction, acknowledges it."""

    def __init__(self, sock: socket.socket, store: Database, log: DeliveryLog) -> None:
        self._sock = sock
        self._store = store
        self._log = log
        self._send_lock = threading.Lock()
        self._buffer = FrameBuffer()
        self._stopping = False
        self._eof = False
        with store.engine.connect() as conn:
            self._directory = webhooks.Directory.load(conn)
        self._refreshed = time.monotonic()

    # the socket

    def send(self, message: dict[str, Any]) -> None:
        with self._send_lock:
            self._sock.sendall(frame(orjson.dumps(message)))

    def _read(self) -> list[_Queued]:
        """Block for the next deliveries (up to REFRESH_SECONDS), then take whatever else is waiting."""
        frames: list[bytes] = []
        self._sock.settimeout(REFRESH_SECONDS)
        try:
            frames += self._receive()
            self._sock.settimeout(0.0)
            while not self._eof and len(frames) < MAX_BATCH:
                frames += self._receive()
        except (TimeoutError, BlockingIOError):
            pass
        finally:
            self._sock.settimeout(None)
        return [_Queued(*read_delivery(f)) for f in frames]

    def _receive(self) -> list[bytes]:
        data = self._sock.recv(READ_SIZE)
        if not data:
            self._eof = True
            return []
        return self._buffer.feed(data)

    # the loop

    def run(self) -> None:
        conn = self._connect()
        if self._store.engine.dialect.name == "sqlite":
            threading.Thread(target=self._checkpoints, name="waba-webhook-checkpoints", daemon=True).start()
        replies = self._recover(conn) if conn is not None else False
        self.send({"ready": True, "replies": replies})
        while not self._eof:
            queued = self._read()
            for start in range(0, len(queued), MAX_BATCH):
                if conn is None or conn.closed:
                    conn = self._connect()
                conn = self._commit(conn, queued[start : start + MAX_BATCH])
            self._refresh(conn)
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
            self.send({"lines": [self._log.line(503, "database unavailable", detail=webhooks.one_line(exc))]})
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
                    self.send({"lines": [self._log.line(0, "checkpoint failed", detail=webhooks.one_line(exc))]})

    def _recover(self, conn: Connection) -> bool:
        """Apply events stored but not applied when a previous run stopped (stored alone, then killed)."""
        try:
            with conn.begin():
                waiting = webhooks.unapplied_events(conn)
            lines = [self._describe(d, webhooks.apply_stored(conn, d, self._directory)) for d in waiting]
        except Exception as exc:  # noqa: BLE001 - they stay stored; `waba events replay --failed` applies them
            lines = [self._log.line(0, "recovery failed", detail=webhooks.one_line(exc))]
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
            result = webhooks.commit_batch(_connected(conn), deliveries, self._directory)
        except Exception as exc:  # noqa: BLE001 - nothing stored: answer 503, Meta delivers again
            reason = webhooks.one_line(exc)
            acks += [[q.seq, 503, reason] for q in batch]
            lines = [
                self._log.line(503, "not stored", field=webhooks.fields_of(d.payload), detail=reason)
                for d in deliveries
            ]
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
            lines = [self._describe(d, webhooks.apply_stored(live, d, self._directory)) for d in deliveries]
            self.send({"lines": lines, "replies": True})
        return conn

    def _describe(self, delivery: webhooks.Delivery, outcome: webhooks.Outcome | None) -> str:
        if outcome is None:
            return self._log.line(
                200,
                "stored, applying one by one",
                field=webhooks.fields_of(delivery.payload),
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
        if conn is None or time.monotonic() - self._refreshed < REFRESH_SECONDS:
            return
        self._refreshed = time.monotonic()
        try:
            with conn.begin():
                self._directory = webhooks.Directory.load(conn)
        except Exception as exc:  # noqa: BLE001 - keep serving with what was loaded before
            self.send({"lines": [self._log.line(0, "refresh failed", detail=webhooks.one_line(exc))]})


def _connected(conn: Connection | None) -> Connection:
    if conn is None:
        raise OperationError("no database connection")
    return conn


def _first_frame(sock: socket.socket) -> bytes:
    buffer = FrameBuffer()
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
    settings, json_logs = pickle.loads(_first_frame(sock))  # noqa: S301 - our own parent, over a socket pair
    store = webhooks.open_store(_settings(settings))
    Writer(sock, store, DeliveryLog(sys.stderr, json_lines=json_logs)).run()
    return 0


def _settings(value: Any) -> Settings:
    from waba_cli.settings import Settings

    if not isinstance(value, Settings):
        raise OperationError("the server sent no settings")
    return value


if __name__ == "__main__":  # pragma: no cover - run as the server's child process
    sys.exit(main(sys.argv))
