"""`analytics report` against a hand-built week: totals, rates, grouping, New York days, costs, and
figures that stay exact as statuses come late and out of order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from tests.support import analytics as week
from waba_cli.db.engine import Database
from waba_cli.services.analytics.report import ReportRequest, analytics_report


def _report(by: str = "day", **fields: Any) -> Any:
    from waba_cli.services.context import CommandContext
    from waba_cli.settings import load_settings

    ctx = CommandContext(load_settings())
    try:
        request = ReportRequest(since="2026-03-07", until="2026-03-10", by=by, **fields)
        return analytics_report(ctx, request, now=week.NOW)
    finally:
        ctx.close()


@pytest.fixture
def built(account: Any, db: Database) -> Database:
    week.build(db)
    week.webhook_statuses(db)
    week.late_status(db)
    return db


def test_totals_and_rates(built: Database) -> None:
    document = _report().as_dict()
    assert document["totals"] == week.EXPECTED_TOTALS
    assert document["delivery_rate"] == round(5 / 6, 4)
    assert document["read_rate"] == round(2 / 5, 4)
    summary = document["summary"]
    assert (summary["replied"], summary["clicks"]) == (2, 1)
    assert (summary["billable"], summary["free"]) == (3, 2)
    assert summary["by_category"] == {
        "marketing": {"billable": 2, "free": 0},
        "service": {"billable": 0, "free": 2},
        "utility": {"billable": 1, "free": 0},
    }
    assert summary["top_errors"] == [{"code": 131049, "title": week.ECOSYSTEM, "count": 1}]
    assert summary["response_median_s"] == pytest.approx(120, rel=0.02)
    assert summary["response_p90_s"] == pytest.approx(1800, rel=0.02)


def test_days_are_new_york_days(built: Database) -> None:
    rows = {row["key"]: row for row in _report().as_dict()["rows"]}
    assert list(rows) == list(week.EXPECTED_DAYS)
    for day, expected in week.EXPECTED_DAYS.items():
        assert {k: rows[day][k] for k in expected} == expected, day
    assert rows["2026-03-09"]["contacts"] == 3


def test_the_same_week_in_utc_moves_the_late_evening_message(account: Any, db: Database) -> None:
    week.build(db, timezone="UTC")
    week.webhook_statuses(db)
    week.late_status(db)
    rows = {row["key"]: row for row in _report().as_dict()["rows"]}
    assert rows["2026-03-08"]["sent"] == 0
    assert rows["2026-03-09"]["sent"] == 5


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        ("template", {"promo": (3, 2, 1, 1), "order_update": (1, 1, 0, 0), "": (2, 2, 1, 0)}),
        ("campaign", {"spring": (3, 2, 1, 1), "": (3, 3, 1, 0)}),
        ("country", {"US": (4, 3, 0, 1), "GB": (1, 1, 1, 0), "": (1, 1, 1, 0)}),
        ("category", {"marketing": (2, 2, 1, 0), "service": (2, 2, 1, 0), "utility": (1, 1, 0, 0), "": (1, 0, 0, 1)}),
        ("number", {week.PNID: (6, 5, 2, 1)}),
        ("week", {"2026-03-02": (1, 1, 0, 0), "2026-03-09": (5, 4, 2, 1)}),
    ],
)
def test_grouping(built: Database, by: str, expected: dict[str, tuple[int, int, int, int]]) -> None:
    rows = {row["key"]: row for row in _report(by).as_dict()["rows"]}
    found = {key: (r["sent"], r["delivered"], r["read"], r["failed"]) for key, r in rows.items() if r["sent"]}
    assert found == expected


def test_template_performance(built: Database) -> None:
    promo = next(row for row in _report("template").as_dict()["rows"] if row["key"] == "promo")
    assert (promo["replied"], promo["clicks"], promo["contacts"]) == (2, 1, 2)


def test_cost_on_a_rate_card(built: Database, tmp_path: Path) -> None:
    card = tmp_path / "rates.csv"
    card.write_text(week.RATE_CARD_CSV, encoding="utf-8")
    document = _report(rate_card=card).as_dict()
    assert document["currency"] == "USD"
    assert document["summary"]["cost"] == pytest.approx(week.EXPECTED_COST)
    assert document["summary"]["unpriced"] == 0


def test_a_toml_rate_card_without_a_price_for_one_market(built: Database, tmp_path: Path) -> None:
    card = tmp_path / "rates.toml"
    card.write_text('currency = "USD"\n[[rate]]\ncountry = "*"\ncategory = "marketing"\nprice = 0.025\n')
    summary = _report(rate_card=card).as_dict()["summary"]
    assert summary["cost"] == pytest.approx(0.05)
    assert summary["unpriced"] == 1  # the US utility message


def test_late_and_out_of_order_statuses_change_the_day_they_were_sent(account: Any, db: Database) -> None:
    week.build(db)
    before = _report()  # W2 and W3 still accepted, W1 only sent
    days = {row["key"]: row for row in before.as_dict()["rows"]}
    assert (days["2026-03-08"]["delivered"], days["2026-03-09"]["delivered"]) == (0, 1)
    week.webhook_statuses(db)
    middle = _report()
    assert middle.recounted_days == 1  # the day W2 and W3 were sent, and no other
    week.late_status(db)
    after = _report()
    days = {row["key"]: row for row in after.as_dict()["rows"]}
    assert {k: days["2026-03-08"][k] for k in week.EXPECTED_DAYS["2026-03-08"]} == week.EXPECTED_DAYS["2026-03-08"]
    assert after.as_dict()["totals"] == week.EXPECTED_TOTALS
    # the same statuses again change nothing, and nothing is recounted
    week.webhook_statuses(db)
    again = _report()
    assert again.recounted_days == 0
    assert again.as_dict()["totals"] == week.EXPECTED_TOTALS


def test_a_changed_time_zone_recounts_every_day(built: Database) -> None:
    _report()
    from sqlmodel import select

    from waba_cli.db.models.accounts import Account

    with built.transaction() as session:
        account = session.exec(select(Account)).one()
        account.business_timezone = "UTC"
        session.add(account)
    rows = {row["key"]: row for row in _report().as_dict()["rows"]}
    assert rows["2026-03-09"]["sent"] == 5


def test_a_message_committed_after_a_higher_id_was_counted_is_counted(account: Any, db: Database) -> None:
    """PostgreSQL gives ids before commit: a row with a lower id may appear after a report saw a higher one."""
    from datetime import timedelta

    from waba_cli.db.models.messages import Message

    week.build(db)
    _report()
    with db.transaction() as session:
        top = max(m.id or 0 for m in session.exec(select(Message)).all())
        account_id = session.exec(select(Message)).first().account_id  # type: ignore[union-attr]
        session.add(Message(id=top + 10, account_id=account_id, direction="out", wamid="wamid.L1", contact=week.US_A,
                            type="text", status="sent", created_at=week.at(9, 12)))  # fmt: skip
    assert _report().as_dict()["totals"]["sent"] == 7
    with db.transaction() as session:  # committed late, with an id below the one already counted
        session.add(Message(id=top + 5, account_id=account_id, direction="out", wamid="wamid.L0", contact=week.US_A,
                            type="text", status="sent", created_at=week.at(9, 12) - timedelta(minutes=1)))  # fmt: skip
    assert _report().as_dict()["totals"]["sent"] == 8


def _second_account(waba: Any, setup_file: Any, db: Database) -> int:
    """Another account, set up beside the week's, with one message of its own on 9 March."""
    from waba_cli.db.models.accounts import Account
    from waba_cli.db.models.messages import Message

    changes = {"name": "other", "waba_id": "222222222222222", "phone_number_id": "333333333333333"}
    result = waba("account", "setup", "--from-file", str(setup_file(changes, name="other.json")), "--no-verify")
    assert result.code == 0, result.err
    with db.transaction() as session:
        other = session.exec(select(Account).where(Account.name == "other")).one()
        session.add(Message(account_id=other.id, phone_number_id="333333333333333", direction="out",
                            wamid="wamid.O1", contact=week.US_A, type="text", status="sent",
                            created_at=week.at(9, 12)))  # fmt: skip
        assert other.id is not None
        return other.id


def test_a_report_of_every_account_recounts_only_the_accounts_that_changed(
    account: Any, db: Database, waba: Any, setup_file: Any
) -> None:
    week.build(db)
    _second_account(waba, setup_file, db)
    first = _report(all_accounts=True)
    assert first.as_dict()["totals"]["sent"] == 7
    assert _report(all_accounts=True).recounted_days == 0  # nothing new: no account is recounted
    week.late_status(db)  # W1 of the week's account, sent on 8 March
    after = _report(all_accounts=True)
    assert after.recounted_days == 1
    delivered = first.as_dict()["totals"]["delivered"]
    assert after.as_dict()["totals"] == {**first.as_dict()["totals"], "delivered": delivered + 1}


def test_a_message_the_sender_has_not_settled_is_counted_again_until_it_is(
    account: Any, db: Database, waba: Any, setup_file: Any
) -> None:
    """A send in progress (queued, no wamid yet) leaves no status row: its day is recounted each time."""
    from waba_cli.db.models.messages import Message

    week.build(db)
    other = _second_account(waba, setup_file, db)
    with db.transaction() as session:
        queued = Message(account_id=other, phone_number_id="333333333333333", direction="out", wamid=None,
                         contact=week.US_A, type="text", status="queued", created_at=week.NOW)  # fmt: skip
        session.add(queued)
    assert _report(all_accounts=True).as_dict()["totals"]["sent"] == 7
    with db.transaction() as session:  # the sender settles it: accepted, with its wamid (no status row)
        row = session.get(Message, queued.id)
        assert row is not None
        row.wamid, row.status = "wamid.O2", "sent"
        session.add(row)
    again = _report(all_accounts=True)
    assert again.recounted_days >= 1
    assert again.as_dict()["totals"]["sent"] == 8
