"""Pacing per number and the account's daily / monthly / per-minute limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from waba_cli.db.engine import open_database
from waba_cli.db.models.accounts import Account
from waba_cli.db.models.messages import Message
from waba_cli.errors import UsageError
from waba_cli.services.ratelimit import check_limits, throughput_of, usage

# the pacer itself (steady spacing, unpaced, AIMD after 130429) is tested in tests/unit/services/test_pacer.py


@pytest.mark.parametrize(
    ("level", "coexistence", "rate"),
    [("STANDARD", False, 80), ("HIGH", False, 1000), (None, False, 80), ("STANDARD", True, 20), ("weird", False, 80)],
)
def test_default_rate_follows_the_numbers_throughput(level: str | None, coexistence: bool, rate: float) -> None:
    assert throughput_of(level, coexistence=coexistence) == rate


def _seed(database_url: str, account_name: str, times: list[datetime], *, accepted: bool = True) -> Account:
    db = open_database(database_url)
    with db.transaction() as session:
        account = session.exec(select(Account).where(Account.name == account_name)).one()
        for i, at in enumerate(times):
            session.add(
                Message(
                    account_id=account.id,
                    direction="out",
                    contact="+15550001111",
                    type="text",
                    status="accepted" if accepted else "queued",
                    wamid=f"wamid.{account_name[:3]}{i}{at.timestamp()}" if accepted else None,
                    created_at=at,
                )
            )
    db.dispose()
    return account


def test_usage_counts_days_and_months_in_the_accounts_time_zone(waba: Any, account: Any, database_url: str) -> None:
    assert waba("account", "update", account["name"], "--set", "business_timezone=Asia/Tokyo").code == 0
    now = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)  # 23:00 on 1 March in Tokyo
    _seed(
        database_url,
        account["name"],
        [
            now - timedelta(seconds=10),  # this minute
            now - timedelta(hours=10),  # 13:00 Tokyo, 1 March: today
            now - timedelta(hours=15),  # 08:00 Tokyo, 1 March: today
            now - timedelta(hours=16),  # 07:00 Tokyo, 1 March: today (still 28 Feb in UTC)
            now - timedelta(hours=24),  # 28 Feb in Tokyo: last month
        ],
    )
    _seed(database_url, account["name"], [now], accepted=False)  # never accepted: not counted
    db = open_database(database_url)
    with db.session() as session:
        acc = session.exec(select(Account)).one()
        counted = usage(session, acc, now)
    db.dispose()
    assert (counted.last_minute, counted.today, counted.month) == (1, 4, 4)


def test_limits_refuse_before_sending(waba: Any, account: Any, database_url: str) -> None:
    waba("account", "update", account["name"], "--set", "daily_limit=3")
    # noon: minutes before `now` are the same day whenever the test runs (it failed just after midnight)
    now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    _seed(database_url, account["name"], [now - timedelta(minutes=5), now - timedelta(minutes=4)])
    db = open_database(database_url)
    with db.session() as session:
        acc = session.exec(select(Account)).one()
        assert check_limits(session, acc, now=now).today == 2
        with pytest.raises(UsageError, match="daily limit of 3"):
            check_limits(session, acc, planned=2, now=now)
    db.dispose()

    waba("account", "update", account["name"], "--set", "per_minute_limit=1", "--set", "daily_limit=")
    _seed(database_url, account["name"], [now - timedelta(seconds=5)])
    db = open_database(database_url)
    with db.session() as session:
        acc = session.exec(select(Account)).one()
        with pytest.raises(UsageError, match="per-minute limit of 1"):
            check_limits(session, acc, now=now)
        assert check_limits(session, acc, now=now + timedelta(seconds=61)).last_minute == 0
    db.dispose()


def test_usage_command_shows_counts_against_limits(waba: Any, account: Any, database_url: str) -> None:
    waba("account", "update", account["name"], "--set", "daily_limit=100", "--set", "monthly_limit=2000")
    _seed(database_url, account["name"], [datetime.now(UTC) - timedelta(seconds=1)])

    result = waba("usage", "--json")

    assert result.code == 0, result.err
    data = result.json()
    assert {k: data[k] for k in ("account", "today", "month")} == {"account": account["name"], "today": 1, "month": 1}
    assert data["limits"] == {"daily": 100, "monthly": 2000, "per_minute": None}
    assert "1 of 100 (1%)" in waba("usage").out
