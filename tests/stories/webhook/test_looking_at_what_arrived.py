"""The operator looks at what arrived: events list, show, tail, replay, prune."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from tests.support.webhook import Receiver, fixture_bytes
from waba_cli.db.models.webhooks import WebhookEvent

EVENTS = WebhookEvent.__table__  # type: ignore[attr-defined]


def post_samples(receiver: Receiver, *names: str) -> None:
    for name in names:
        assert receiver.post(fixture_bytes(name)).status_code == 200


def test_events_list_shows_deliveries_newest_first_as_json(receiver: Receiver, waba: Any) -> None:
    post_samples(receiver, "01-text.json", "17-template-events.json", "15-statuses-lifecycle.json")
    result = waba("events", "list", "--json")
    assert result.code == 0, result.err
    listed = result.json()
    assert [e["field"] for e in listed] == [
        "messages",
        "message_template_status_update,message_template_quality_update,template_category_update,message_template_components_update",
        "messages",
    ]
    assert set(listed[0]) >= {"id", "field", "received_at", "status"}
    assert listed[0]["id"] > listed[-1]["id"]
    templates = waba("events", "list", "--field", "template_category_update", "--json").json()
    assert len(templates) == 1
    assert len(waba("events", "list", "--limit", "1", "--json").json()) == 1
    assert waba("events", "list", "--since", "1h", "--json").json() == listed
    assert waba("events", "list", "--since", "yesterday-ish").code == 2


def test_events_show_prints_the_body_as_pretty_json(receiver: Receiver, waba: Any) -> None:
    post_samples(receiver, "03-text-unicode-wire-escaped.json")
    event_id = waba("events", "list", "--json").json()[0]["id"]
    shown = waba("events", "show", str(event_id))
    assert shown.code == 0
    assert json.loads(shown.out) == json.loads(fixture_bytes("03-text-unicode-wire-escaped.json"))
    assert "Crème brûlée" in shown.out  # escapes shown as the characters they stand for
    detail = waba("events", "show", str(event_id), "--json").json()
    assert detail["status"] == "applied"
    assert "x-hub-signature-256" in detail["headers"]
    assert waba("events", "show", "999999").code == 2


def test_events_tail_prints_ndjson_when_piped(receiver: Receiver, waba: Any) -> None:
    post_samples(receiver, "01-text.json", "15-statuses-lifecycle.json", "18-account-and-phone-events.json")
    result = waba("events", "tail", "-n", "2")
    assert result.code == 0
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert len(lines) == 2
    assert lines[0]["id"] < lines[1]["id"]  # oldest first, like tail


def test_replay_applies_a_failed_event_again_once_the_cause_is_fixed(receiver: Receiver, waba: Any) -> None:
    post_samples(receiver, "01-text.json")
    event_id = waba("events", "list", "--json").json()[0]["id"]
    with receiver.connect() as conn, conn.begin():
        conn.execute(update(EVENTS).where(EVENTS.c.id == event_id).values(status="failed", error="boom"))
    assert [e["id"] for e in waba("events", "list", "--failed", "--json").json()] == [event_id]
    replayed = waba("events", "replay", "--failed", "--json")
    assert replayed.code == 0, replayed.err
    assert [(r["id"], r["status"]) for r in replayed.json()] == [(event_id, "applied")]
    assert waba("events", "list", "--failed", "--json").json() == []
    # replaying an applied event changes nothing
    again = waba("events", "replay", str(event_id), "--json").json()
    assert again[0]["status"] == "applied"
    assert waba("message", "list", "--json").json().__len__() == 1


def test_replay_needs_an_id_or_failed(waba: Any, receiver: Receiver) -> None:
    assert waba("events", "replay").code == 2
    assert waba("events", "replay", "1", "--failed").code == 2


def test_prune_deletes_old_applied_events_and_keeps_failed_ones_and_messages(receiver: Receiver, waba: Any) -> None:
    post_samples(receiver, "01-text.json", "02-text-unicode.json", "04-image-forwarded.json")
    ids = sorted(e["id"] for e in waba("events", "list", "--json").json())
    old = datetime.now(UTC) - timedelta(days=40)
    with receiver.connect() as conn, conn.begin():
        conn.execute(update(EVENTS).where(EVENTS.c.id.in_(ids[:2])).values(received_at=old))
        conn.execute(update(EVENTS).where(EVENTS.c.id == ids[1]).values(status="failed"))
    assert waba("events", "prune", "--older-than", "30d").code == 2  # destructive: --yes without a terminal
    pruned = waba("events", "prune", "--older-than", "30d", "--yes", "--json")
    assert pruned.code == 0, pruned.err
    assert (pruned.json()["deleted"], pruned.json()["kept_unapplied"]) == (1, 1)
    assert sorted(e["id"] for e in waba("events", "list", "--json").json()) == ids[1:]
    assert len(waba("message", "list", "--json").json()) == 3
    assert waba("events", "prune", "--older-than", "2024-01-01", "--yes").code == 2


def test_events_tail_follow_prints_new_deliveries_as_they_arrive(receiver: Receiver) -> None:
    import os
    import subprocess
    import sys

    post_samples(receiver, "01-text.json")
    tail = subprocess.Popen(
        [sys.executable, "-m", "waba_cli", "events", "tail", "--follow", "-n", "1"],
        stdout=subprocess.PIPE,
        env=os.environ.copy(),
        text=True,
    )
    try:
        assert tail.stdout is not None
        first = json.loads(tail.stdout.readline())
        post_samples(receiver, "15-statuses-lifecycle.json")
        second = json.loads(tail.stdout.readline())
    finally:
        tail.terminate()
        tail.wait(timeout=10)
    assert (first["field"], second["field"]) == ("messages", "messages")
    assert second["id"] > first["id"]
    assert second["summary"].startswith("4 statuses")


def test_events_tail_on_a_terminal_shows_who_wrote_what_and_whom_statuses_reached(receiver: Receiver) -> None:
    import os
    import sys

    import pexpect

    post_samples(receiver, "01-text.json")
    tail = pexpect.spawn(
        sys.executable,
        ["-m", "waba_cli", "events", "tail", "--follow", "-n", "1"],
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
        encoding="utf-8",
        timeout=20,
    )
    try:
        tail.expect(r"#\d+  messages  applied  1 inbound message")
        tail.expect_exact('    Jordan Lee +16505550123: "Hi! Do you ship to Canada?"')
        post_samples(receiver, "16-status-failed-and-system-error.json")
        tail.expect_exact("    failed +33612345678: 131049 Message not delivered (ecosystem engagement protection)")
        tail.expect_exact("    failed +819012345678: 131026 Message undeliverable")
        # a customer's words cannot rewrite the operator's terminal, and a long text is cut short
        text = json.loads(fixture_bytes("01-text.json"))
        message = text["entry"][0]["changes"][0]["value"]["messages"][0]
        message["id"] = "wamid.tail-escape-test"
        message["text"]["body"] = "\x1b[2J\x1b[31mboo\r\nforged line " + "x" * 80
        assert receiver.post(json.dumps(text).encode()).status_code == 200
        tail.expect(r'Jordan Lee \+16505550123: "\\x1b\[2J\\x1b\[31mboo forged line x+…"')
    finally:
        tail.terminate(force=True)
    assert "\x1b[2J" not in (tail.before or "")
