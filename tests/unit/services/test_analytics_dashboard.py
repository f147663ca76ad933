"""`analytics dashboard` of the hand-built week: health, today against the limit, rates and their
trend, failing templates, campaigns in doubt, webhook freshness; and as a command."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from tests.support import analytics as week
from waba_cli.db.engine import Database
from waba_cli.db.models.accounts import Account
from waba_cli.db.models.campaigns import Campaign, CampaignRecipient
from waba_cli.db.models.health import HealthResult, HealthRun
from waba_cli.services.analytics.dashboard import analytics_dashboard


@pytest.fixture
def built(account: Any, db: Database) -> Database:
    week.build(db)
    week.webhook_statuses(db)
    week.late_status(db)
    with db.transaction() as session:
        found = session.exec(select(Account)).one()
        found.daily_limit = 1000
        session.add(found)
        run = HealthRun(started_at=week.NOW, status="WARNING")
        session.add(run)
        session.flush()
        for check, status in (("token", "OK"), ("number", "WARNING")):
            session.add(
                HealthResult(
                    run_id=run.id, account_id=found.id, account_name=found.name, check=check, status=status, at=week.NOW
                )
            )
        campaign = Campaign(name="spring", account_id=found.id, phone_number_id=week.PNID, kind="template")
        campaign.status = "stopped"
        session.add(campaign)
        session.flush()
        session.add(CampaignRecipient(campaign_id=campaign.id, line=2, phone=week.US_B, state="in_doubt"))
    return db


def _dashboard() -> dict[str, Any]:
    from waba_cli.services.context import CommandContext
    from waba_cli.settings import load_settings

    ctx = CommandContext(load_settings())
    try:
        return analytics_dashboard(ctx, all_accounts=False, now=week.NOW).as_dict()
    finally:
        ctx.close()


def test_the_board_of_the_week(built: Database) -> None:
    document = _dashboard()
    assert document["webhook"]["last_event_at"] is not None  # the statuses came by webhook
    board = document["accounts"][0]
    assert board["health"]["status"] == "WARNING"
    assert board["today"] == {"sent": 1, "daily_limit": 1000}
    week_rates = board["rates"]["7d"]
    assert week_rates["sent"] == 6
    assert week_rates["delivery_rate"] == round(5 / 6, 4)
    assert week_rates["read_rate"] == round(2 / 5, 4)
    assert week_rates["delivery_change"] is None  # nothing was sent the week before
    assert board["volume"][-3:] == [1, 4, 1]
    assert len(board["volume"]) == 30
    assert board["failing_templates"] == [{"template": "promo", "failed": 1, "sent": 3}]
    assert board["campaigns"] == [{"name": "spring", "status": "stopped", "in_doubt": 1}]


def test_the_command(waba: Any, built: Database) -> None:
    result = waba("analytics", "dashboard", "--json")
    assert result.code == 0, result.err
    assert result.json()["accounts"][0]["health"]["status"] == "WARNING"
    text = waba("analytics", "dashboard")
    assert text.code == 0, text.err
    assert "WARNING" in text.out and "spring (stopped, 1 in doubt)" in text.out
    assert "webhooks: last delivery" in text.out


def test_watch_stops_on_ctrl_c(waba: Any, built: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(time, "sleep", interrupted)
    result = waba("analytics", "dashboard", "--watch")
    assert result.code == 130
    assert "waba dashboard" in result.out
