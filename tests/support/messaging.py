"""The operator's world for sending tests: a business number, a contact inside the 24-hour window,
templates stored locally, Meta's answers and status webhooks. Campaign tests share it."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, select

from waba_cli.db.engine import Database
from waba_cli.db.models.messages import Message
from waba_cli.db.models.templates import MessageTemplate

PNID = "109283746501928"
BUSINESS = "+15550134567"
CONTACT = "+16505550123"
MESSAGES_URL = f"{PNID}/messages"
_inbound_ids = itertools.count(1)


def add_inbound(db: Database, account_id: int, contact: str = CONTACT, *, age: timedelta = timedelta(hours=1)) -> None:
    """The contact wrote to the business number ``age`` ago (what serve-webhook stores)."""
    at = datetime.now(UTC) - age
    with db.transaction() as session:
        session.add(
            Message(
                account_id=account_id,
                phone_number_id=PNID,
                direction="in",
                wamid=f"wamid.IN{next(_inbound_ids)}",
                contact=contact,
                type="text",
                text="hello",
                status="received",
                created_at=at,
            )
        )


def add_template(db: Database, account_id: int, name: str, components: list[dict[str, Any]], **fields: Any) -> None:
    with db.transaction() as session:
        session.add(
            MessageTemplate(
                account_id=account_id,
                name=name,
                language=fields.pop("language", "en_US"),
                category=fields.pop("category", "UTILITY"),
                status=fields.pop("status", "APPROVED"),
                components=components,
                **fields,
            )
        )


def outbound(db: Database) -> list[Message]:
    """The messages waba sent (or tried to), in the order it recorded them."""
    with db.session() as session:
        query = select(Message).where(Message.direction == "out").order_by(col(Message.id))
        return list(session.exec(query).all())


def accepted(wamid: str = "wamid.OUT1") -> dict[str, Any]:
    """Meta's answer to a send (§2.2)."""
    return {
        "messaging_product": "whatsapp",
        "contacts": [{"input": CONTACT, "wa_id": CONTACT.lstrip("+")}],
        "messages": [{"id": wamid}],
    }


def status_webhook(wamid: str, *statuses: str) -> dict[str, Any]:
    pricing = {"billable": True, "pricing_model": "PMP", "type": "free_customer_service", "category": "service"}
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "123456789012345",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": BUSINESS.lstrip("+"), "phone_number_id": PNID},
                            "statuses": [
                                {
                                    "id": wamid,
                                    "status": s,
                                    "timestamp": str(1_750_030_073 + i),
                                    "recipient_id": CONTACT.lstrip("+"),
                                    "pricing": pricing,
                                }
                                for i, s in enumerate(statuses)
                            ],
                        },
                    }
                ],
            }
        ],
    }


def apply_webhook(db: Database, payload: dict[str, Any]) -> None:
    """What serve-webhook does with a delivery: store and apply it in one transaction."""
    from waba_cli.services.webhooks.apply import Directory
    from waba_cli.services.webhooks.parse import Delivery
    from waba_cli.services.webhooks.store import commit_batch

    with db.engine.connect() as conn:
        directory = Directory.load(conn)
        conn.rollback()
        commit_batch(conn, [Delivery(body=json.dumps(payload).encode(), payload=payload)], directory)


def webp(size: int, *, vp8x_flags: int | None = None, anim_chunk: bool = False) -> bytes:
    """A WebP file of exactly ``size`` bytes: RIFF header, optional VP8X and ANIM chunks, one VP8 chunk."""
    chunks = b""
    if vp8x_flags is not None:
        chunks += b"VP8X" + (10).to_bytes(4, "little") + bytes([vp8x_flags]) + b"\0" * 9
    if anim_chunk:
        chunks += b"ANIM" + (6).to_bytes(4, "little") + b"\0" * 6
    image = size - 12 - len(chunks) - 8
    chunks += b"VP8 " + image.to_bytes(4, "little") + b"\0" * image
    return b"RIFF" + (size - 8).to_bytes(4, "little") + b"WEBP" + chunks
