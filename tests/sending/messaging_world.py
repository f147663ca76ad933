"""The operator's world for sending tests: a set-up account, contacts inside the window, templates."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from waba_cli.db.engine import Database, open_database
from waba_cli.db.models.accounts import Account
from waba_cli.db.models.messages import Message
from waba_cli.db.models.templates import MessageTemplate

PNID = "109283746501928"
BUSINESS = "+15550134567"
CONTACT = "+16505550123"
MESSAGES_URL = f"{PNID}/messages"
_inbound_ids = itertools.count(1)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def account_id(account: dict[str, Any], db: Database) -> int:
    with db.session() as session:
        row = session.exec(select(Account)).one()
        assert row.id is not None
        return row.id


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


def messages(db: Database) -> list[Message]:
    with db.session() as session:
        return list(session.exec(select(Message).where(Message.direction == "out").order_by(Message.id)).all())  # type: ignore[arg-type]


def accepted(wamid: str = "wamid.OUT1") -> dict[str, Any]:
    """Meta's answer to a send (§2.2)."""
    return {
        "messaging_product": "whatsapp",
        "contacts": [{"input": CONTACT, "wa_id": CONTACT.lstrip("+")}],
        "messages": [{"id": wamid}],
    }
