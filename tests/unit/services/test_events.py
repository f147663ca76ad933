"""What `events tail` shows of a delivery on a terminal: who wrote what, which status reached whom."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.webhook import fixture_bytes
from waba_cli.services.events import gist_of


def test_a_text_shows_the_contact_name_number_and_the_start_of_the_text() -> None:
    assert gist_of(json.loads(fixture_bytes("01-text.json"))) == (
        'Jordan Lee +16505550123: "Hi! Do you ship to Canada?"',
    )


def test_failed_statuses_show_their_recipient_code_and_title() -> None:
    lines = gist_of(json.loads(fixture_bytes("16-status-failed-and-system-error.json")))
    assert lines[:2] == (
        "failed +33612345678: 131049 Message not delivered (ecosystem engagement protection)",
        "failed +819012345678: 131026 Message undeliverable",
    )


def test_every_status_of_a_batch_gets_a_line() -> None:
    lines = gist_of(json.loads(fixture_bytes("15-statuses-lifecycle.json")))
    assert len(lines) == 4
    assert all(line.split()[0] in ("sent", "delivered", "read", "played", "failed") for line in lines)


def _text(body: str, name: str | None = "Ana") -> dict[str, Any]:
    value: dict[str, Any] = {
        "messages": [{"from": "15551230001", "id": "wamid.1", "type": "text", "text": {"body": body}}],
        "contacts": [{"wa_id": "15551230001", **({"profile": {"name": name}} if name else {})}],
    }
    return {"entry": [{"changes": [{"field": "messages", "value": value}]}]}


def test_a_long_text_is_cut_short_on_one_line_and_left_raw_for_the_caller_to_escape() -> None:
    (line,) = gist_of(_text("first\nsecond \x1b[31m" + "x" * 100))
    assert line.startswith('Ana +15551230001: "first second \x1b[31mxxx')
    assert line.endswith('…"')
    assert len(line) < 100


def test_a_message_without_text_shows_its_type_and_a_contact_without_name_its_number() -> None:
    payload = _text("")
    payload["entry"][0]["changes"][0]["value"]["messages"][0] = {
        "from": "15551230001",
        "id": "wamid.2",
        "type": "image",
        "image": {"id": "1"},
    }
    payload["entry"][0]["changes"][0]["value"]["contacts"] = []
    assert gist_of(payload) == ("+15551230001: (image)",)


@pytest.mark.parametrize("payload", [None, [], {"entry": "x"}, {"entry": [{"changes": [{"value": {"messages": 3}}]}]}])
def test_anything_else_has_no_gist(payload: Any) -> None:
    assert gist_of(payload) == ()
