"""Completions (``nfm_reply``) arriving by webhook become responses of the flow whose token they
carry, and `waba flow responses` shows them as a table, JSON and CSV with one column per field."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from sqlmodel import select

from tests.support.flows import BOOKING_ID, SURVEY_ID, WABA, completion, meta_flow
from tests.support.messaging import MESSAGES_URL, accepted, add_inbound, apply_webhook
from waba_cli.db.engine import Database
from waba_cli.db.models.flows import FlowResponse, FlowToken

ANA, BEA = "+5511987654321", "+5511912345678"


@pytest.fixture
def sent(waba: Any, account: Any, account_id: int, graph: respx.MockRouter, db: Database) -> dict[str, Any]:
    """Two published flows, synced; booking sent to Ana, survey to Bea (each a generated token)."""
    listed = [meta_flow(BOOKING_ID, "booking", "PUBLISHED"), meta_flow(SURVEY_ID, "survey", "PUBLISHED")]
    graph.get(f"/{WABA}/flows").mock(return_value=httpx.Response(200, json={"data": listed}))
    assert waba("flow", "sync").code == 0
    ids = itertools.count(1)
    graph.post(f"/{MESSAGES_URL}").mock(
        side_effect=lambda _: httpx.Response(200, json=accepted(f"wamid.OUT{next(ids)}"))
    )
    for contact in (ANA, BEA):
        add_inbound(db, account_id, contact)
    booking = waba("send", "flow", "booking", "--to", ANA, "--screen", "APPOINTMENT", "--json")
    survey = waba("send", "flow", SURVEY_ID, "--to", BEA, "--token", "survey-bea", "--screen", "Q1", "--json")
    assert booking.code == 0 and survey.code == 0, booking.err + survey.err
    return {"booking": booking.json(), "survey": survey.json()}


def test_send_flow_records_each_token_with_flow_contact_and_message(sent: dict[str, Any], db: Database) -> None:
    with db.session() as session:
        tokens = {t.token: t for t in session.exec(select(FlowToken)).all()}
    assert set(tokens) == {sent["booking"]["flow_token"], "survey-bea"}
    assert tokens["survey-bea"].contact == BEA and tokens["survey-bea"].flow_ref == SURVEY_ID
    assert tokens["survey-bea"].message_id == sent["survey"]["message_id"]


def test_completions_are_tied_back_by_token_and_shown_per_field(
    waba: Any, sent: dict[str, Any], db: Database, tmp_path: Path
) -> None:
    token = sent["booking"]["flow_token"]
    nested = {
        "appointment_date": "2026-12-24",
        "address": {"city": "São Paulo", "geo": {"lat": -23.5, "lng": -46.6}},
        "extras": ["parking", "café ☕"],
        "notes": "=SUM(A1:A9)",
        "consent": True,
    }
    apply_webhook(db, completion("wamid.IN-A1", nested, token=token))
    apply_webhook(
        db, completion("wamid.IN-B1", {"rating": 5, "comment": "Ótimo 👍"}, token="survey-bea", sender="5511912345678")
    )
    # a token waba never sent, answering the booking message: kept, attributed by context, flagged
    apply_webhook(
        db, completion("wamid.IN-A2", {"appointment_date": "2026-12-31"}, token="forged", context="wamid.OUT1")
    )
    # no token and no context: kept, belongs to no flow
    apply_webhook(db, completion("wamid.IN-X", {"what": "?"}, token=None))
    apply_webhook(db, completion("wamid.IN-A1", nested, token=token))  # a repeated delivery changes nothing

    with db.session() as session:
        stored = {r.wamid: r for r in session.exec(select(FlowResponse)).all()}
    assert set(stored) == {"wamid.IN-A1", "wamid.IN-B1", "wamid.IN-A2", "wamid.IN-X"}
    assert stored["wamid.IN-X"].flow_row_id is None and not stored["wamid.IN-X"].token_known

    answers = waba("flow", "responses", "booking", "--json")
    assert answers.code == 0, answers.err
    rows = {a["wamid"]: a for a in answers.json()}
    assert set(rows) == {"wamid.IN-A1", "wamid.IN-A2"}
    assert rows["wamid.IN-A1"] | {"from": ANA, "flow_token": token, "token_known": True} == rows["wamid.IN-A1"]
    assert rows["wamid.IN-A1"]["data"] == nested
    assert rows["wamid.IN-A2"] | {"flow_token": "forged", "token_known": False} == rows["wamid.IN-A2"]
    survey = waba("flow", "responses", "survey", "--json").json()
    assert [(r["from"], r["data"]["comment"]) for r in survey] == [(BEA, "Ótimo 👍")]

    path = tmp_path / "answers.csv"
    written = waba("flow", "responses", "booking", "--csv", str(path))
    assert written.code == 0, written.err
    assert path.stat().st_mode & 0o777 == 0o600
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == [
            "wamid",
            "from",
            "received_at",
            "flow_token",
            "token_known",
            "campaign",
            "appointment_date",
            "address.city",
            "address.geo.lat",
            "address.geo.lng",
            "extras",
            "notes",
            "consent",
        ]
        first, second = list(reader)
    assert (
        first
        | {
            "wamid": "wamid.IN-A1",
            "from": "'" + ANA,  # "+..." too: a spreadsheet would take it for a formula
            "token_known": "true",
            "address.city": "São Paulo",
            "address.geo.lat": "'-23.5",  # starts with "-": neutralised like a formula
            "extras": "parking, café ☕",
            "notes": "'=SUM(A1:A9)",
            "consent": "true",
        }
        == first
    )
    assert (second["appointment_date"], second["address.city"], second["token_known"]) == ("2026-12-31", "", "false")

    table = waba("flow", "responses", "booking")
    assert table.code == 0 and "São Paulo" in table.out and "parking, café ☕" in table.out
    lines = waba("flow", "responses", "booking", "--format", "jsonl").out.splitlines()
    assert len(lines) == 2
    on_stdout = waba("flow", "responses", "booking", "--format", "csv")
    assert on_stdout.code == 0, on_stdout.err
    notes = [row["notes"] for row in csv.DictReader(on_stdout.out.splitlines())]
    assert "'=SUM(A1:A9)" in notes and "=SUM(A1:A9)" not in notes


def test_control_characters_in_answers_are_escaped_in_the_table(waba: Any, sent: dict[str, Any], db: Database) -> None:
    apply_webhook(db, completion("wamid.IN-E", {"notes": "a\x1b[2Jb\nc"}, token=sent["booking"]["flow_token"]))
    table = waba("flow", "responses", "booking")
    assert "\x1b" not in table.out and "a\\x1b[2Jb\\nc" in table.out


def test_responses_of_an_unknown_flow_or_bad_format_are_exit_2(waba: Any, sent: dict[str, Any]) -> None:
    assert waba("flow", "responses", "nope").code == 2
    assert waba("flow", "responses", "booking", "--format", "xml").code == 2


FLOW_TEMPLATE = [
    {"type": "BODY", "text": "Book your visit"},
    {
        "type": "BUTTONS",
        "buttons": [{"type": "FLOW", "text": "Book", "flow_id": BOOKING_ID, "navigate_screen": "APPOINTMENT"}],
    },
]


def test_a_templates_flow_button_carries_a_token_that_is_recorded(
    waba: Any, sent: dict[str, Any], account_id: int, graph: respx.MockRouter, db: Database
) -> None:
    from tests.support.messaging import add_template, outbound

    add_template(db, account_id, "book_visit", FLOW_TEMPLATE)

    result = waba("send", "template", "book_visit", "--to", ANA, "--flow-token", "visit-ana", "--json")

    assert result.code == 0, result.err
    assert result.json()["flow_token"] == "visit-ana"
    body = outbound(db)[-1].payload
    assert body is not None
    assert body["template"]["components"] == [
        {
            "type": "button",
            "sub_type": "flow",
            "index": "0",
            "parameters": [{"type": "action", "action": {"flow_token": "visit-ana"}}],
        }
    ]
    apply_webhook(db, completion("wamid.IN-T1", {"appointment_date": "2027-01-02"}, token="visit-ana"))
    answers = waba("flow", "responses", "booking", "--json").json()
    assert [(a["flow_token"], a["token_known"]) for a in answers] == [("visit-ana", True)]

    generated = waba("send", "template", "book_visit", "--to", BEA, "--json")
    assert generated.json()["flow_token"].startswith("waba-")
    add_template(db, account_id, "plain", [{"type": "BODY", "text": "Hi"}])
    refused = waba("send", "template", "plain", "--to", ANA, "--flow-token", "x")
    assert refused.code == 2 and "has no FLOW button" in refused.err
