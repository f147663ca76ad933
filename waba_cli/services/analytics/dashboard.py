"""`waba analytics dashboard`: one screen for every account.

Per account: the last health status (`waba health check`), today's accepted messages against the
daily limit (counted as `waba usage` counts them), delivery and read rates of the last 7 and 30
days with their change from the 7 and 30 days before, the last 30 days' volume, the templates that
failed most in the last 7 days, and campaigns running or with recipients in doubt; for all of
them, how long ago the last webhook delivery came. Rates come from the daily figures ``rollup``
keeps, brought up to date first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from waba_cli.db.models.base import table_of
from waba_cli.db.timestamps import aware
from waba_cli.domain import analytics as figures_of
from waba_cli.domain.analytics import Figures
from waba_cli.services.analytics.report import accounts_of, read_days, read_groups
from waba_cli.services.analytics.rollup import bring_all_up_to_date

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from waba_cli.db.models.accounts import Account
    from waba_cli.services.context import CommandContext

TREND_WINDOWS = (7, 30)
HISTORY_DAYS = 60  # two 30-day windows


@dataclass(frozen=True)
class Rates:
    days: int
    sent: int
    delivery_rate: float | None
    read_rate: float | None
    delivery_change: float | None  # against the window before, in points of rate
    read_change: float | None


@dataclass
class AccountBoard:
    account: str
    timezone: str
    health: str | None
    health_at: datetime | None
    today: int
    daily_limit: int | None
    rates: list[Rates]
    volume: list[int]  # sent per day, the last 30 days, oldest first
    failing_templates: list[dict[str, Any]]
    campaigns: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Dashboard:
    at: datetime
    last_webhook_at: datetime | None
    accounts: list[AccountBoard]

    def as_dict(self) -> dict[str, Any]:
        age = None if self.last_webhook_at is None else round((self.at - self.last_webhook_at).total_seconds())
        return {
            "at": self.at,
            "webhook": {"last_event_at": self.last_webhook_at, "age_seconds": age},
            "accounts": [
                {
                    "account": board.account,
                    "timezone": board.timezone,
                    "health": {"status": board.health, "at": board.health_at},
                    "today": {"sent": board.today, "daily_limit": board.daily_limit},
                    "rates": {
                        f"{r.days}d": {
                            "sent": r.sent,
                            "delivery_rate": r.delivery_rate,
                            "read_rate": r.read_rate,
                            "delivery_change": r.delivery_change,
                            "read_change": r.read_change,
                        }
                        for r in board.rates
                    },
                    "volume": board.volume,
                    "failing_templates": board.failing_templates,
                    "campaigns": board.campaigns,
                }
                for board in self.accounts
            ],
        }


def analytics_dashboard(ctx: CommandContext, *, all_accounts: bool, now: datetime | None = None) -> Dashboard:
    """`waba analytics dashboard`: every account's board (with ``all_accounts``), else the current one's."""
    now = now or datetime.now(UTC)
    accounts = accounts_of(ctx, all_accounts)
    bring_all_up_to_date(ctx.db, accounts, now)
    with ctx.db.engine.connect() as conn:
        boards = [_board(conn, account, now) for account in accounts]
        return Dashboard(at=now, last_webhook_at=_last_webhook(conn), accounts=boards)


def _board(conn: Connection, account: Account, now: datetime) -> AccountBoard:
    from sqlmodel import Session

    from waba_cli.services.ratelimit import accepted_since, today_start

    zone = ZoneInfo(account.business_timezone)
    today = figures_of.local_day(now, zone)
    first = today - timedelta(days=HISTORY_DAYS - 1)
    by_day = dict(read_days(conn, account, first, today))
    rates = [_rates(by_day, today, days) for days in TREND_WINDOWS]
    volume = [by_day[d].sent if d in by_day else 0 for d in _days(today - timedelta(days=29), today)]
    templates = read_groups(conn, account, today - timedelta(days=6), today, "template")
    ranked = sorted((item for item in templates.items() if item[1].failed), key=lambda i: (-i[1].failed, i[0]))
    failing = [{"template": key, "failed": f.failed, "sent": f.sent} for key, f in ranked[:3]]
    with Session(bind=conn) as session:  # the report's own connection: no round trip to set up another
        sent_today = accepted_since(session, account, today_start(now, account.business_timezone))
    health, health_at = _health(conn, account)
    return AccountBoard(
        account=account.name,
        timezone=account.business_timezone,
        health=health,
        health_at=health_at,
        today=sent_today,
        daily_limit=account.daily_limit,
        rates=rates,
        volume=volume,
        failing_templates=failing,
        campaigns=_campaigns(conn, account),
    )


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _rates(by_day: dict[date, Figures], today: date, days: int) -> Rates:
    def window(end: date) -> Figures:
        total = Figures()
        for day in _days(end - timedelta(days=days - 1), end):
            if day in by_day:
                total.add(by_day[day])
        return total

    now, before = window(today), window(today - timedelta(days=days))
    delivery, read = figures_of.rate(now.delivered, now.sent), figures_of.rate(now.read, now.delivered)
    delivery_before = figures_of.rate(before.delivered, before.sent)
    read_before = figures_of.rate(before.read, before.delivered)
    return Rates(
        days=days,
        sent=now.sent,
        delivery_rate=delivery,
        read_rate=read,
        delivery_change=None if delivery is None or delivery_before is None else round(delivery - delivery_before, 4),
        read_change=None if read is None or read_before is None else round(read - read_before, 4),
    )


def _health(conn: Connection, account: Account) -> tuple[str | None, datetime | None]:
    """The worst status of the account's checks in the last `health check` that covered it."""
    from waba_cli.db.models.health import HealthResult
    from waba_cli.domain.health import worst

    results = table_of(HealthResult).c
    run = conn.scalar(select(func.max(results.run_id)).where(results.account_id == account.id))
    if run is None:
        return None, None
    rows = conn.execute(
        select(results.status, results.at).where(results.account_id == account.id, results.run_id == run)
    ).all()
    return worst(status for status, _ in rows), max(aware(at) for _, at in rows)


def _campaigns(conn: Connection, account: Account) -> list[dict[str, Any]]:
    """Campaigns running, and any with recipients in doubt."""
    from waba_cli.db.models.campaigns import Campaign, CampaignRecipient

    c = table_of(Campaign).c
    r = table_of(CampaignRecipient).c
    found: list[dict[str, Any]] = []
    campaigns = conn.execute(select(c.id, c.name, c.status).where(c.account_id == account.id).order_by(c.name))
    for campaign_id, name, status in campaigns.all():
        # one index range per campaign (campaign_id, state): never a scan of every recipient
        doubt = conn.scalar(select(func.count()).where(r.campaign_id == campaign_id, r.state == "in_doubt"))
        if status == "running" or doubt:
            found.append({"name": name, "status": status, "in_doubt": int(doubt or 0)})
    return found


def _last_webhook(conn: Connection) -> datetime | None:
    from waba_cli.db.models.webhooks import WebhookEvent

    events = table_of(WebhookEvent).c
    found = conn.scalar(select(func.max(events.received_at)))
    return aware(found) if found is not None else None
