"""The operator's world for campaign tests: an account, an approved template, CSV files, a Graph mock."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from waba_cli.db.engine import Database
from waba_cli.db.models.campaigns import Campaign, CampaignRecipient
from waba_cli.db.models.messages import Message
from waba_cli.db.models.templates import MessageTemplate
from waba_cli.services.campaigns import runner

PNID = "109283746501928"
MESSAGES_URL = f"{PNID}/messages"
ORDER_UPDATE = [
    {"type": "HEADER", "format": "TEXT", "text": "Order update"},
    {"type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped."},
]
WELCOME_NAMED = [{"type": "BODY", "text": "Welcome {{first_name}}! Use {{code}} at checkout."}]
_inbound = itertools.count(1)


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoffs of seconds in production; milliseconds here."""
    monkeypatch.setattr(runner, "RETRY_DELAY", 0.001)
    monkeypatch.setattr(runner, "PAIR_BACKOFF_UNIT", 0.001)
    monkeypatch.setattr(runner, "WRITE_INTERVAL", 0.001)


class FakeTime:
    """A clock that only moves when someone sleeps on it (sleeps wake in order of their end)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """Campaign runs pace and back off on a fake clock: timing is exact and costs no real time."""
    fake = FakeTime()
    monkeypatch.setattr(runner, "clock", fake.clock)
    monkeypatch.setattr(runner, "sleep", fake.sleep)
    return fake


@pytest.fixture
def templates(db: Database, account_id: int) -> None:
    add_template(db, account_id, "order_update", ORDER_UPDATE)
    add_template(db, account_id, "welcome", WELCOME_NAMED, parameter_format="NAMED", category="MARKETING")


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


def add_inbound(db: Database, account_id: int, contact: str, *, age: timedelta = timedelta(hours=1)) -> None:
    """The contact wrote to the business number ``age`` ago (what serve-webhook stores)."""
    with db.transaction() as session:
        session.add(
            Message(
                account_id=account_id,
                phone_number_id=PNID,
                direction="in",
                wamid=f"wamid.IN{next(_inbound)}",
                contact=contact,
                type="text",
                text="hello",
                status="received",
                created_at=datetime.now(UTC) - age,
            )
        )


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def phones(count: int, start: int = 0) -> list[str]:
    """Distinct possible numbers (Meta's +1 555 test range)."""
    return [f"+1555{start + i:07d}" for i in range(count)]


def recipients(db: Database, campaign: str) -> list[CampaignRecipient]:
    with db.session() as session:
        found = session.exec(select(Campaign).where(Campaign.name == campaign)).one()
        return list(
            session.exec(
                select(CampaignRecipient)
                .where(CampaignRecipient.campaign_id == found.id)
                .order_by(CampaignRecipient.id)  # type: ignore[arg-type]
            ).all()
        )


def outbound(db: Database) -> list[Message]:
    with db.session() as session:
        return list(session.exec(select(Message).where(Message.direction == "out").order_by(Message.id)).all())  # type: ignore[arg-type]


class FakeMeta:
    """Answers sends like Meta (§2.2), with scripted errors per recipient; records every request."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.wamids = itertools.count(1)
        self.script: dict[str, list[tuple[int, int]]] = {}  # to -> [(http status, error code)] for next calls
        self.hook: Callable[[dict[str, Any]], None] | None = None

    def fail(self, to: str, *errors: int, status: int = 400) -> None:
        self.script.setdefault(to, []).extend((status, code) for code in errors)

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append(body)
        if self.hook is not None:
            self.hook(body)
        queued = self.script.get(body["to"])
        if queued:
            status, code = queued.pop(0)
            error = {"message": f"(#{code}) scripted", "type": "OAuthException", "code": code, "fbtrace_id": "T"}
            return httpx.Response(status, json={"error": error})
        wamid = f"wamid.C{next(self.wamids)}"
        return httpx.Response(
            200,
            json={
                "messaging_product": "whatsapp",
                "contacts": [{"input": body["to"], "wa_id": body["to"].lstrip("+")}],
                "messages": [{"id": wamid}],
            },
        )

    def to(self) -> list[str]:
        return [r["to"] for r in self.requests]


@pytest.fixture
def meta(graph: Any) -> FakeMeta:
    fake = FakeMeta()
    graph.post(MESSAGES_URL).mock(side_effect=fake.handle)
    return fake
