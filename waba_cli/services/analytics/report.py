"""`waba analytics report`: the figures of a window of days, in total, per day and per group.

Days are whole days in each account's ``business_timezone``: ``--since 30d`` starts at the
beginning of the day 30 days ago, ``--until`` ends with the day it falls on; a bare date
(``2026-03-07``) is that day in the account's time zone. Figures come from the
daily rows ``rollup`` keeps up to date (brought up to date first), so a report over a million
messages costs milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import col

from waba_cli.db.models.accounts import Account
from waba_cli.domain import analytics as figures_of
from waba_cli.domain.analytics import Figures, RateCard
from waba_cli.errors import UsageError, ValidationError
from waba_cli.services.analytics.rollup import DAY, bring_all_up_to_date

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from waba_cli.services.context import CommandContext


@dataclass(frozen=True)
class ReportRequest:
    """What `analytics report` asks for, as given."""

    all_accounts: bool = False
    since: str = "30d"
    until: str | None = None
    by: str = "day"
    rate_card: Path | None = None
    source: str = "local"  # "meta": Meta's synced figures beside the local ones


@dataclass
class Group:
    """One row of a report: a day, a week, a template, a number, a campaign, a country or a category."""

    key: str
    figures: Figures = field(default_factory=Figures)


@dataclass
class Report:
    since: datetime
    until: datetime
    by: str
    accounts: list[str]
    timezones: list[str]
    totals: Figures
    rows: list[Group]
    daily: list[tuple[date, Figures]]  # every day of the window, for charts
    rate_card: RateCard | None = None
    recounted_days: int = 0
    meta: dict[str, Any] | None = None  # with --source meta: the comparison (``compare_with_meta``)

    def as_dict(self) -> dict[str, Any]:
        """The `--json` document (spec: since, until, totals, delivery_rate, read_rate, rows)."""
        totals = self.totals
        return {
            "since": self.since,
            "until": self.until,
            "by": self.by,
            "first_day": self.daily[0][0].isoformat() if self.daily else None,
            "last_day": self.daily[-1][0].isoformat() if self.daily else None,
            "accounts": self.accounts,
            "timezones": self.timezones,
            "totals": {
                "sent": totals.sent,
                "delivered": totals.delivered,
                "read": totals.read,
                "failed": totals.failed,
                "inbound": totals.inbound,
            },
            "delivery_rate": figures_of.rate(totals.delivered, totals.sent),
            "read_rate": figures_of.rate(totals.read, totals.delivered),
            "failure_rate": figures_of.rate(totals.failed, totals.sent),
            "summary": row_dict("total", totals, self.rate_card),
            "currency": self.rate_card.currency if self.rate_card else None,
            "rows": [row_dict(group.key, group.figures, self.rate_card) for group in self.rows],
            "meta": self.meta,
        }


def row_dict(key: str, figures: Figures, card: RateCard | None) -> dict[str, Any]:
    """One report row with its rates, costs, failure reasons and response times."""
    cost, unpriced = figures_of.cost_of(figures.billed, card)
    return {
        "key": key,
        "sent": figures.sent,
        "delivered": figures.delivered,
        "read": figures.read,
        "failed": figures.failed,
        "delivery_rate": figures_of.rate(figures.delivered, figures.sent),
        "read_rate": figures_of.rate(figures.read, figures.delivered),
        "failure_rate": figures_of.rate(figures.failed, figures.sent),
        "inbound": figures.inbound,
        "replied": figures.replied,
        "clicks": figures.clicks,
        "contacts": figures.contacts,
        "billable": figures.billable,
        "free": figures.free,
        "by_category": figures_of.by_category(figures.billed, figures.freed),
        "cost": cost,
        "unpriced": unpriced if card else None,
        "top_errors": figures_of.top_errors(figures.errors),
        "response_median_s": figures_of.percentile(figures.responses, 0.5),
        "response_p90_s": figures_of.percentile(figures.responses, 0.9),
    }


def analytics_report(ctx: CommandContext, request: ReportRequest, now: datetime | None = None) -> Report:
    """`waba analytics report`: bring the accounts' days up to date, then add them up."""
    from waba_cli.services.messages import since as moment_of

    if request.source not in ("local", "meta"):
        raise ValidationError("--source", f"{request.source!r} is not local or meta")
    if request.by not in figures_of.GROUPINGS:
        raise ValidationError("--by", f"{request.by!r} is not one of {', '.join(figures_of.GROUPINGS)}")
    now = now or datetime.now(UTC)
    since = moment_of(request.since, now)
    until = moment_of(request.until, now, "--until") if request.until else now
    if until < since:
        raise ValidationError("--until", "comes before --since")
    card = None
    if request.rate_card is not None:
        from waba_cli.services.analytics.rates import read_rate_card

        card = read_rate_card(request.rate_card)
    accounts = accounts_of(ctx, request.all_accounts)
    totals = Figures()
    groups: dict[str, Group] = {}
    daily: dict[date, Figures] = {}
    recounted = bring_all_up_to_date(ctx.db, accounts, now)
    with ctx.db.engine.connect() as conn:
        for account in accounts:
            _add_account(conn, account, request, since, until, totals, groups, daily)
    rows = sorted(groups.values(), key=_order(request.by))
    meta = compare_with_meta(ctx, accounts, daily, card) if request.source == "meta" else None
    return Report(
        meta=meta,
        since=since,
        until=until,
        by=request.by,
        accounts=[a.name for a in accounts],
        timezones=sorted({a.business_timezone for a in accounts}),
        totals=totals,
        rows=rows,
        daily=sorted(daily.items()),
        rate_card=card,
        recounted_days=recounted,
    )


def _add_account(
    conn: Connection,
    account: Account,
    request: ReportRequest,
    since: datetime,
    until: datetime,
    totals: Figures,
    groups: dict[str, Group],
    daily: dict[date, Figures],
) -> None:
    """Add the account's stored figures of the window to ``totals``, ``groups`` and ``daily``."""
    dimension = figures_of.dimension_for(request.by)
    zone = ZoneInfo(account.business_timezone)
    first = _bare_date(request.since) or figures_of.local_day(since, zone)
    last = _bare_date(request.until) or figures_of.local_day(until, zone)
    for day in _days(first, last):
        daily.setdefault(day, Figures())
        if request.by in ("day", "week"):  # a day without messages is a row of zeros
            name = figures_of.group_key(request.by, "", day)
            groups.setdefault(name, Group(name))
    for day, figures in read_days(conn, account, first, last):
        totals.add(figures)
        daily.setdefault(day, Figures()).add(figures)
        if dimension == "all":
            name = figures_of.group_key(request.by, "", day)
            groups.setdefault(name, Group(name)).figures.add(figures)
    if dimension != "all":
        for key, figures in read_groups(conn, account, first, last, dimension).items():
            groups.setdefault(key, Group(key)).figures.add(figures)


def compare_with_meta(
    ctx: CommandContext, accounts: list[Account], daily: dict[date, Figures], card: RateCard | None
) -> dict[str, Any]:
    """Meta's synced figures of the window's days beside waba's own, and where they differ.

    Per day: ``meta_only`` = messages Meta counted that waba has no record of (sent from another
    tool, or before waba), ``local_only`` = the reverse (not yet counted by Meta, or refused later).
    Meta's days are UTC days; waba's are the account's: with another time zone, messages near
    midnight fall on neighbouring days. Per template (``templates``): Meta's sent, delivered, read
    and clicked beside waba's (``templates_beside_meta``).
    """
    from waba_cli.db.models.analytics import AnalyticsMeta
    from waba_cli.db.models.base import table_of

    m = table_of(AnalyticsMeta).c
    first, last = min(daily), max(daily)
    meta_days: dict[date, dict[str, int]] = {}
    categories: dict[str, dict[str, Any]] = {}
    currencies: set[str] = set()
    tiered: list[tuple[date, str, int]] = []  # (day, key, volume) of points Meta gave a tier
    synced = False
    with ctx.db.engine.connect() as conn:
        query = select(m.source, m.day, m.key, m.sent, m.delivered, m.volume, m.cost, m.currency).where(
            m.account_id.in_([a.id for a in accounts]), m.day >= first, m.day <= last, m.source != "template"
        )
        for source, day, key, sent, delivered, volume, cost, currency in conn.execute(query):
            synced = True
            if currency:
                currencies.add(currency)
            if source == "messages":
                found = meta_days.setdefault(day, {"sent": 0, "delivered": 0})
                found["sent"] += sent or 0
                found["delivered"] += delivered or 0
            else:
                if key.count("|") == 3 and key.rsplit("|", 1)[1]:
                    tiered.append((day, key, volume or 0))
                category = (key.split("|")[1] if "|" in key else "").lower() or "unknown"
                entry = categories.setdefault(category, {"volume": 0, "cost": None})
                entry["volume"] += volume or 0
                if cost is not None:
                    entry["cost"] = round((entry["cost"] or 0.0) + cost, 4)
    days = []
    for day in sorted(daily):
        mine, theirs = daily[day], meta_days.get(day)
        meta_sent = None if theirs is None else theirs["sent"]
        days.append(
            {
                "day": day.isoformat(),
                "sent": mine.sent,
                "meta_sent": meta_sent,
                "delivered": mine.delivered,
                "meta_delivered": None if theirs is None else theirs["delivered"],
                "meta_only": None if meta_sent is None else max(0, meta_sent - mine.sent),
                "local_only": None if meta_sent is None else max(0, mine.sent - meta_sent),
            }
        )
    local = Figures()
    for figures in daily.values():
        local.add(figures)
    local_categories = figures_of.by_category(local.billed, local.freed)
    for category, counts in local_categories.items():
        entry = categories.setdefault(category, {"volume": 0, "cost": None})
        entry["billable"], entry["free"] = counts["billable"], counts["free"]
        if card is not None:
            billed = {slot: n for slot, n in local.billed.items() if slot.partition("|")[2] == category}
            entry["estimated_cost"] = figures_of.cost_of(billed, card)[0]
    return {
        "synced": synced,
        "currency": ", ".join(sorted(currencies)) or None,
        "days": days,
        "by_category": dict(sorted(categories.items())),
        "tiers": figures_of.tiers_left(tiered),
        "templates": templates_beside_meta(ctx, accounts, first, last),
        "meta_only": sum(d["meta_only"] or 0 for d in days),
        "local_only": sum(d["local_only"] or 0 for d in days),
    }


def templates_beside_meta(
    ctx: CommandContext, accounts: list[Account], first: date, last: date
) -> list[dict[str, Any]]:
    """Per template name, waba's sent, delivered, read and button clicks from ``first`` to ``last``
    beside Meta's ``template_analytics`` (synced per template id; the ids of a name's languages
    added up). ``meta_*`` is None for a template Meta gave no figures for (Meta keeps them 90 days);
    a template only Meta counted (sent from another tool) has zeros on waba's side.
    """
    from waba_cli.db.models.analytics import AnalyticsMeta
    from waba_cli.db.models.base import table_of
    from waba_cli.db.models.templates import MessageTemplate

    m, t = table_of(AnalyticsMeta).c, table_of(MessageTemplate).c
    account_ids = [a.id for a in accounts]
    theirs: dict[str, dict[str, int]] = {}
    with ctx.db.engine.connect() as conn:
        names = {
            (account_id, str(template_id)): name
            for account_id, template_id, name in conn.execute(
                select(t.account_id, t.template_id, t.name).where(
                    t.account_id.in_(account_ids), t.template_id.is_not(None)
                )
            )
        }
        query = (
            select(m.account_id, m.key, func.sum(m.sent), func.sum(m.delivered), func.sum(m.read), func.sum(m.clicked))
            .where(m.account_id.in_(account_ids), m.source == "template", m.day >= first, m.day <= last)
            .group_by(m.account_id, m.key)
        )
        for account_id, template_id, *counts in conn.execute(query):
            name = names.get((account_id, template_id), f"id {template_id}")
            entry = theirs.setdefault(name, dict.fromkeys(_META_TEMPLATE_COUNTS, 0))
            for counter, count in zip(_META_TEMPLATE_COUNTS, counts, strict=True):
                entry[counter] += int(count or 0)
    ours: dict[str, Figures] = {}
    with ctx.db.engine.connect() as conn:
        for account in accounts:
            for name, figures in read_groups(conn, account, first, last, "template").items():
                if name:  # "" is the messages sent without a template
                    ours.setdefault(name, Figures()).add(figures)
    rows = []
    for name in set(ours) | set(theirs):
        mine, meta = ours.get(name, Figures()), theirs.get(name)
        rows.append(
            {
                "template": name,
                "sent": mine.sent,
                "meta_sent": None if meta is None else meta["sent"],
                "delivered": mine.delivered,
                "meta_delivered": None if meta is None else meta["delivered"],
                "read": mine.read,
                "meta_read": None if meta is None else meta["read"],
                "clicks": mine.clicks,
                "meta_clicked": None if meta is None else meta["clicked"],
            }
        )
    return sorted(rows, key=lambda row: (-max(row["sent"], row["meta_sent"] or 0), row["template"]))


_META_TEMPLATE_COUNTS = ("sent", "delivered", "read", "clicked")


def _bare_date(value: str | None) -> date | None:
    """A plain ``YYYY-MM-DD``: a day in the account's own time zone."""
    if value is None or len(value.strip()) != len("2026-03-07"):
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def _order(by: str) -> Any:
    if by in ("day", "week"):
        return lambda group: group.key
    return lambda group: (-group.figures.sent - group.figures.inbound, group.key)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def read_days(conn: Connection, account: Account, first: date, last: date) -> list[tuple[date, Figures]]:
    """The whole account's stored figures from ``first`` to ``last``, per day."""
    d = DAY.c
    counters = [d[name] for name in figures_of.COUNTERS]
    query = select(d.day, d.details, *counters).where(
        d.account_id == account.id, d.dimension == "all", d.day >= first, d.day <= last
    )
    found: list[tuple[date, Figures]] = []
    for row in conn.execute(query):
        values = dict(zip(figures_of.COUNTERS, row[2:], strict=True))
        found.append((row[0], Figures.of(values, row[1])))
    return found


def read_groups(conn: Connection, account: Account, first: date, last: date, dimension: str) -> dict[str, Figures]:
    """The account's stored figures from ``first`` to ``last`` per key of ``dimension``: the counters
    summed by the database, the details (errors, prices, response times) merged here."""
    d = DAY.c
    where = (d.account_id == account.id, d.dimension == dimension, d.day >= first, d.day <= last)
    sums = select(d.key, *(func.sum(d[name]) for name in figures_of.COUNTERS)).where(*where).group_by(d.key)
    found: dict[str, Figures] = {}
    for row in conn.execute(sums):
        found[row[0]] = Figures.of(dict(zip(figures_of.COUNTERS, row[1:], strict=True)), None)
    for key, details in conn.execute(select(d.key, d.details).where(*where, d.details.is_not(None))):
        found[key].merge(details)
    return found


def accounts_of(ctx: CommandContext, all_accounts: bool) -> list[Account]:
    """The current account, or with ``--all`` every one (not both)."""
    if not all_accounts:
        return [ctx.account]
    if ctx.settings.account_from_flag:
        raise UsageError("give --account or --all, not both")
    from sqlmodel import select as model_select

    with ctx.db.session() as session:
        accounts = list(session.exec(model_select(Account).order_by(col(Account.name))).all())
    if not accounts:
        raise UsageError("no account is set up", "run `waba account setup`")
    return accounts
