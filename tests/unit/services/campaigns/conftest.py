"""The campaign tests' fixtures: an account with its approved templates, a Graph that answers sends
like Meta, backoffs of milliseconds and, when asked for, a fake clock."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.campaigns import ORDER_UPDATE, WELCOME_NAMED, FakeMeta, FakeTime
from tests.support.messaging import MESSAGES_URL, add_template
from waba_cli.db.engine import Database
from waba_cli.services.campaigns import runner


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoffs of seconds in production; milliseconds here."""
    monkeypatch.setattr(runner, "RETRY_DELAY", 0.001)
    monkeypatch.setattr(runner, "PAIR_BACKOFF_UNIT", 0.001)
    monkeypatch.setattr(runner, "WRITE_INTERVAL", 0.001)


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


@pytest.fixture
def meta(graph: Any) -> FakeMeta:
    fake = FakeMeta()
    graph.post(MESSAGES_URL).mock(side_effect=fake.handle)
    return fake
