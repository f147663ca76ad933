"""Template webhooks (reference §8.7) update the same rows `template show` reads, with history."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.templates import ORDER_UPDATE_FLAGS, TEMPLATES, shown
from tests.support.world import FIXTURES
from waba_cli.db.engine import Database
from waba_cli.services.templates.events import apply_template_webhook

FIXTURE = FIXTURES / "webhooks" / "17-template-events.json"


@pytest.fixture
def submitted(waba: Any, account: dict[str, Any], graph: Any) -> int:
    """order_update, submitted and PENDING under Meta's id 1689556908129832; the account's row id."""
    graph.post(TEMPLATES).respond(200, json={"id": "1689556908129832", "status": "PENDING", "category": "UTILITY"})
    assert waba("template", "create", *ORDER_UPDATE_FLAGS, "--submit").code == 0
    account_id: int = account["id"]
    return account_id


def deliver(db: Database, account_id: int, field: str, value: dict[str, Any]) -> str:
    with db.transaction() as session:
        return apply_template_webhook(session, account_id, field, value)


def status_update(event: str, **extra: Any) -> dict[str, Any]:
    # the template id arrives as a JSON number, the language sometimes as en-US (reference §8.7)
    return {
        "event": event,
        "message_template_id": 1689556908129832,
        "message_template_name": "order_update",
        "message_template_language": "en-US",
        "reason": "NONE",
        "message_template_category": "UTILITY",
        **extra,
    }


def test_status_webhook_updates_the_row_and_adds_history(waba: Any, db: Database, submitted: int) -> None:
    note = deliver(db, submitted, "message_template_status_update", status_update("APPROVED"))

    assert "PENDING -> APPROVED" in note
    template = shown(waba, "order_update")
    assert template["status"] == "APPROVED"
    assert [(e["source"], e["event"], e["status"]) for e in template["history"]][-1] == (
        "webhook",
        "APPROVED",
        "APPROVED",
    )


def test_rejection_webhook_shows_reason_and_metas_explanation(waba: Any, db: Database, submitted: int) -> None:
    info = {"reason": "Two variables are next to each other.", "recommendation": "Add text between them."}
    deliver(
        db,
        submitted,
        "message_template_status_update",
        status_update("REJECTED", reason="INVALID_FORMAT", rejection_info=info),
    )

    template = shown(waba, "order_update")
    assert (template["status"], template["rejected_reason"]) == ("REJECTED", "INVALID_FORMAT")
    assert template["rejection_detail"] == "Two variables are next to each other. — Add text between them."
    assert template["history"][-1]["reason"] == "INVALID_FORMAT"


def test_a_repeated_webhook_changes_nothing(waba: Any, db: Database, submitted: int) -> None:
    deliver(db, submitted, "message_template_status_update", status_update("APPROVED"))

    note = deliver(db, submitted, "message_template_status_update", status_update("APPROVED"))

    assert "repeated delivery" in note
    assert [e["event"] for e in shown(waba, "order_update")["history"]] == ["DRAFT_SAVED", "SUBMITTED", "APPROVED"]


def test_every_template_event_of_the_sample_delivery_lands_on_its_row(waba: Any, db: Database, submitted: int) -> None:
    changes = json.loads(FIXTURE.read_text())["entry"][0]["changes"]

    for change in changes:
        deliver(db, submitted, change["field"], change["value"])

    template = shown(waba, "order_update")
    assert template["status"] == "APPROVED"
    assert template["components"][0] == {"type": "HEADER", "format": "TEXT", "text": "Order update"}
    assert template["components"][1]["text"] == "Hi {{1}}, your order {{2}} has shipped."
    assert [e["event"] for e in template["history"]][-2:] == ["APPROVED", "COMPONENTS_CHANGE"]
    paused = shown(waba, "summer_sale")
    assert (paused["status"], paused["quality_score"]) == ("PAUSED", "YELLOW")
    assert shown(waba, "welcome_template")["correct_category"] == "MARKETING"
    assert shown(waba, "loyalty_points")["category"] == "MARKETING"
