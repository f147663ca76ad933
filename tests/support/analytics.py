"""A hand-built week of one account's messages for analytics tests: late and out-of-order statuses,
a failed-then-delivered message, free entry-point and customer-service messages, replies, a button
click, a message the API refused, contacts in two countries and one known only by its user id.

The account's days are New York's (a DST change on 8 March 2026); the figures each test expects
are worked out by hand in ``EXPECTED``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import select

from tests.support.messaging import BUSINESS, PNID, apply_webhook
from waba_cli.db.engine import Database
from waba_cli.db.models.accounts import Account
from waba_cli.db.models.messages import Message

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
ZONE = "America/New_York"
US_A, US_B, GB_C, USER_D = "+16505550123", "+16505550124", "+447700900123", "US.13491208655302741918"
UTILITY = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}
MARKETING = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"}
ENTRY_POINT = {"billable": False, "pricing_model": "PMP", "type": "free_entry_point", "category": "service"}
SERVICE = {"billable": False, "pricing_model": "PMP", "type": "free_customer_service", "category": "service"}
ECOSYSTEM = "This message was not delivered to maintain healthy ecosystem engagement."


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def build(db: Database, timezone: str = ZONE) -> int:
    """Store the week's messages in the only account (in ``timezone``); returns the account's id."""
    with db.transaction() as session:
        account = session.exec(select(Account)).one()
        account.business_timezone = timezone
        session.add(account)
        account_id = account.id
        assert account_id is not None

        def out(wamid: str | None, when: datetime, to: str, status: str, **fields: Any) -> None:
            session.add(
                Message(
                    account_id=account_id,
                    phone_number_id=PNID,
                    direction="out",
                    wamid=wamid,
                    contact=to,
                    type="template" if fields.get("template_name") else "text",
                    status=status,
                    created_at=when,
                    **fields,
                )
            )

        def inbound(wamid: str, when: datetime, frm: str, kind: str = "text", context: str | None = None) -> None:
            session.add(
                Message(
                    account_id=account_id,
                    phone_number_id=PNID,
                    direction="in",
                    wamid=wamid,
                    contact=frm,
                    type=kind,
                    status="received",
                    context_wamid=context,
                    created_at=when,
                )
            )

        # 23:30 on 8 March in New York, 9 March in UTC; its delivered status comes late (``late_status``)
        out("wamid.W1", at(9, 3, 30), US_A, "sent", template_name="order_update", pricing=UTILITY)
        # statuses come by webhook, out of order (``webhook_statuses``)
        out("wamid.W2", at(9, 15), GB_C, "accepted", template_name="promo", campaign="spring")
        out("wamid.W3", at(9, 16), US_B, "accepted", template_name="promo", campaign="spring")
        out(
            "wamid.W4",
            at(9, 17),
            US_B,
            "failed",
            template_name="promo",
            campaign="spring",
            error_code=131049,
            error_title=ECOSYSTEM,
        )
        inbound("wamid.I1", at(9, 17, 30), US_A)
        inbound("wamid.I1b", at(9, 17, 40), US_A)  # still waiting: not a second first response
        out("wamid.W5", at(9, 18), US_A, "delivered", pricing=ENTRY_POINT)  # answers I1 after 30 minutes
        out(None, at(9, 19), US_A, "failed", error_code=131030, error_title="not allowed")  # refused: not sent
        inbound("wamid.I3", at(9, 20), GB_C, "button", context="wamid.W2")  # a click on the promo
        inbound("wamid.I4", at(10, 10), US_B, "text", context="wamid.W3")  # a reply, the next day
        inbound("wamid.I2", at(10, 13, 58), USER_D)
        out("wamid.W7", at(10, 14), USER_D, "read", pricing=SERVICE)  # answers I2 after 2 minutes
    return account_id


def status_payload(wamid: str, status: str, when: datetime, pricing: dict[str, Any] | None = None) -> dict[str, Any]:
    """A status webhook (§8.6) for one message."""
    item: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(int(when.timestamp())),
        "recipient_id": "16505550124",
    }
    if pricing:
        item["pricing"] = pricing
    if status == "failed":
        item["errors"] = [{"code": 131026, "title": "Message undeliverable", "message": "Message undeliverable"}]
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": BUSINESS.lstrip("+"), "phone_number_id": PNID},
        "statuses": [item],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "123456789012345", "changes": [{"field": "messages", "value": value}]}],
    }


def webhook_statuses(db: Database) -> None:
    """W2: read, delivered, sent (out of order); W3: failed, then delivered (another device)."""
    for wamid, status, when, pricing in (
        ("wamid.W2", "read", at(9, 15, 9), None),
        ("wamid.W2", "delivered", at(9, 15, 5), MARKETING),
        ("wamid.W2", "sent", at(9, 15, 1), MARKETING),
        ("wamid.W3", "failed", at(9, 16, 1), None),
        ("wamid.W3", "delivered", at(9, 16, 8), MARKETING),
    ):
        apply_webhook(db, status_payload(wamid, status, when, pricing))


def late_status(db: Database) -> None:
    """W1's delivered, two days after it was sent."""
    apply_webhook(db, status_payload("wamid.W1", "delivered", at(11, 9), UTILITY))


# what a report of 7 to 10 March (New York days) shows once every status has come
EXPECTED_TOTALS = {"sent": 6, "delivered": 5, "read": 2, "failed": 1, "inbound": 5}
EXPECTED_DAYS = {
    "2026-03-07": {"sent": 0, "delivered": 0, "read": 0, "failed": 0, "inbound": 0},
    "2026-03-08": {"sent": 1, "delivered": 1, "read": 0, "failed": 0, "inbound": 0},
    "2026-03-09": {"sent": 4, "delivered": 3, "read": 1, "failed": 1, "inbound": 3},
    "2026-03-10": {"sent": 1, "delivered": 1, "read": 1, "failed": 0, "inbound": 2},
}
RATE_CARD_CSV = (
    "country,category,price,currency\nUS,utility,0.004,USD\nGB,marketing,0.0529,USD\n*,marketing,0.025,USD\n"
)
EXPECTED_COST = 0.0819  # US utility 0.004 + GB marketing 0.0529 + US marketing at the * price 0.025
