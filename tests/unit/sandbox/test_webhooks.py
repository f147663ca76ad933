"""The sandbox signs deliveries exactly as Meta does (§8.3): HMAC-SHA256 of the raw bytes."""

from __future__ import annotations

import json

from tests.support.world import FIXTURES
from waba_cli.sandbox.webhooks import encode, signature

WIRE_ESCAPED = FIXTURES / "webhooks" / "03-text-unicode-wire-escaped.json"


def test_signature_matches_the_reference_test_vector() -> None:
    raw = WIRE_ESCAPED.read_bytes()
    expected = "sha256=fb37d8b0043a951d294cb36623db8096b1539e132d935027370e74d23582d58c"
    assert signature(raw, "test-app-secret") == expected


def test_bodies_escape_non_ascii_like_meta() -> None:
    payload = json.loads(WIRE_ESCAPED.read_bytes())
    body = encode(payload)
    assert body.isascii()
    assert json.loads(body) == payload
    assert "\\u00e4" in body.decode() or "\\ud83d" in body.decode()
