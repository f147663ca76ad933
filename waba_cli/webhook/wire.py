"""The socket between serve-webhook's HTTP process and its writer process: frames both ways.

Frames are a 4-byte little-endian length, then the payload.

- server -> writer: first one frame with the pickled ``(Settings, json_logs)``, then one frame per
  delivery: ``<QdI`` (sequence number, received-at timestamp, length of the metadata), the metadata
  as JSON (``{"h": stored headers, "s": account ids that signed it}``), then the raw body; or
  ``REFRESH``: read the app secrets and verify tokens again now;
- writer -> server: JSON objects, any of ``{"ready": true}`` (it can take deliveries),
  ``"keys"`` (the app secrets and verify tokens, at start and when they change), ``"refreshed"``
  (the answer to ``REFRESH``, after any ``"keys"``), ``"acks"``
  (``[[seq, 200 | 503, reason], ...]``, after the commit), ``"lines"`` (log lines) and
  ``"replies": true`` (auto-replies are waiting to be sent).

Only this module and ``services.webhooks.parse`` are imported on the HTTP side for it: no database stack.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime

import orjson

from waba_cli.services.webhooks.parse import Delivery, parse_body

LENGTH = struct.Struct("<I")
DELIVERY = struct.Struct("<QdI")
REFRESH = b"refresh"  # shorter than any delivery frame (a DELIVERY header alone is 20 bytes)


def frame(payload: bytes) -> bytes:
    return LENGTH.pack(len(payload)) + payload


def delivery_frame(seq: int, delivery: Delivery) -> bytes:
    """A delivery as the server sends it (the parsed payload stays behind: the writer parses again)."""
    meta = orjson.dumps({"h": delivery.headers, "s": sorted(delivery.signed_for or ())})
    head = DELIVERY.pack(seq, delivery.received_at.timestamp(), len(meta))
    return LENGTH.pack(len(head) + len(meta) + len(delivery.body)) + head + meta + delivery.body


def read_delivery(payload: bytes) -> tuple[int, Delivery | None]:
    """(sequence number, delivery); None when the frame cannot be read (then it is answered 503)."""
    try:
        seq, received, meta_length = DELIVERY.unpack_from(payload)
    except struct.error:  # too short to say which delivery it is: the server times it out (503)
        return 0, None
    start = DELIVERY.size
    try:
        meta = orjson.loads(payload[start : start + meta_length])
        body = payload[start + meta_length :]
        return seq, Delivery(
            body=body,
            payload=parse_body(body),
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
