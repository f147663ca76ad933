"""`send bulk` with a template whose FLOW button opens a flow: every recipient gets a token of
their own (the attempt's callback data), recorded, so each completion names its campaign."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import respx
from sqlmodel import select

from tests.support.campaigns import FakeMeta
from tests.support.flows import BOOKING_ID, WABA, completion, meta_flow
from tests.support.messaging import MESSAGES_URL, add_template, apply_webhook
from waba_cli.db.engine import Database
from waba_cli.db.models.flows import FlowToken

FLOW_TEMPLATE = [
    {"type": "BODY", "text": "Hi {{1}}, book your visit"},
    {
        "type": "BUTTONS",
        "buttons": [
            {"type": "QUICK_REPLY", "text": "Not now"},
            {"type": "FLOW", "text": "Book", "flow_id": BOOKING_ID, "navigate_screen": "APPOINTMENT"},
        ],
    },
]


def test_each_recipient_gets_a_recorded_token_and_completions_name_the_campaign(
    waba: Any, account: Any, account_id: int, graph: respx.MockRouter, db: Database, tmp_path: Path
) -> None:
    graph.get(f"/{WABA}/flows").mock(
        return_value=httpx.Response(200, json={"data": [meta_flow(BOOKING_ID, "booking", "PUBLISHED")]})
    )
    assert waba("flow", "sync").code == 0
    add_template(db, account_id, "book_visit", FLOW_TEMPLATE, category="MARKETING")
    meta = FakeMeta()
    graph.post(f"/{MESSAGES_URL}").mock(side_effect=meta.handle)
    path = tmp_path / "visits.csv"
    path.write_text("phone,1\n+16505550101,Ana\n+16505550102,Bea\n", encoding="utf-8")

    result = waba("send", "bulk", "--csv", str(path), "--template", "book_visit", "--campaign", "visits", "--json")

    assert result.code == 0, result.err
    assert result.json()["sent"] == 2
    tokens = []
    for request in meta.requests:
        [button] = [c for c in request["template"]["components"] if c.get("sub_type") == "flow"]
        assert button["index"] == "1"
        token = button["parameters"][0]["action"]["flow_token"]
        assert token == request["biz_opaque_callback_data"]
        tokens.append(token)
    assert len(set(tokens)) == 2
    with db.session() as session:
        stored = {t.token: t for t in session.exec(select(FlowToken)).all()}
    assert set(stored) == set(tokens)
    assert {t.campaign for t in stored.values()} == {"visits"}
    assert {t.contact for t in stored.values()} == {"+16505550101", "+16505550102"}

    apply_webhook(db, completion("wamid.IN-V1", {"slot": "09:00"}, token=tokens[0], sender="16505550101"))
    [answer] = waba("flow", "responses", "booking", "--json").json()
    assert (answer["campaign"], answer["token_known"], answer["from"]) == ("visits", True, "+16505550101")
