"""The operator's world for campaign tests: CSV files, numbers, a fake Meta and a fake clock, and what
a run leaves in the database. The fixtures that build it are in tests/unit/services/campaigns/conftest.py."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import select

from waba_cli.db.engine import Database
from waba_cli.db.models.campaigns import Campaign, CampaignRecipient

ORDER_UPDATE = [
    {"type": "HEADER", "format": "TEXT", "text": "Order update"},
    {"type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped."},
]
WELCOME_NAMED = [{"type": "BODY", "text": "Welcome {{first_name}}! Use {{code}} at checkout."}]


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


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def order_csv(tmp_path: Path, numbers: list[str], name: str = "customers.csv") -> Path:
    """A CSV for ``order_update``: one row per number, with its two values."""
    return write_csv(tmp_path / name, "phone,1,2", [f"{n},Ana{i},88{i}" for i, n in enumerate(numbers)])


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


def statuses_webhook(*items: tuple[str, str, str] | tuple[str, str, str, int, str]) -> dict[str, Any]:
    """A status delivery as Meta batches it: ``(wamid, status, recipient)``, or with ``code, title``
    for a failure (what serve-webhook applies with ``tests.support.messaging.apply_webhook``)."""
    statuses = []
    for i, (wamid, status, to, *error) in enumerate(items):
        item: dict[str, Any] = {
            "id": wamid,
            "status": status,
            "timestamp": str(1_750_030_073 + i),
            "recipient_id": to.lstrip("+"),
        }
        if error:
            code, title = error
            item["errors"] = [{"code": code, "title": title, "message": title, "error_data": {"details": title}}]
        statuses.append(item)
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550134567", "phone_number_id": "109283746501928"},
        "statuses": statuses,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "123456789012345", "changes": [{"field": "messages", "value": value}]}],
    }


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
