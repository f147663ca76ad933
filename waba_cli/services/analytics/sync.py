"""`waba analytics sync`: Meta's own figures of each account, fetched into ``analytics_meta``.

Per account, for the UTC days of the window: the ``analytics`` field (sent and delivered per day),
``pricing_analytics`` (volume and cost per day, country, pricing category, type and tier) and
``template_analytics`` (sent, delivered, read, clicked and cost per template and day, for the
templates waba knows the id of, 10 per call, every page). Meta's practical limits (§5.4) are kept:
``end`` clamped to now, daily granularity, template figures only for the last 90 days, costs in the
WABA's ``currency`` (read once). A sync replaces the window's rows of each source, so running it
twice stores the same figures once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select

from waba_cli.db.models.analytics import AnalyticsMeta
from waba_cli.db.models.base import table_of
from waba_cli.db.models.templates import MessageTemplate
from waba_cli.services.analytics.report import accounts_of

if TYPE_CHECKING:
    from waba_cli.db.models.accounts import Account
    from waba_cli.graph.api import GraphAPI
    from waba_cli.services.context import CommandContext

META = table_of(AnalyticsMeta)
TEMPLATE_LOOKBACK = timedelta(days=90)
TEMPLATES_PER_CALL = 10
TEMPLATE_METRICS = ("SENT", "DELIVERED", "READ", "CLICKED", "COST")


@dataclass(frozen=True)
class Synced:
    account: str
    currency: str | None
    days: int
    messages: int  # data points stored per source
    pricing: int
    templates: int


def analytics_sync(ctx: CommandContext, since: str, *, all_accounts: bool, now: datetime | None = None) -> list[Synced]:
    """`waba analytics sync`: fetch and store Meta's figures since ``since`` for the accounts."""
    from waba_cli.services.context import run
    from waba_cli.services.messages import since as moment_of

    now = now or datetime.now(UTC)
    start_day = moment_of(since, now).astimezone(UTC).date()
    start = int(datetime.combine(start_day, datetime.min.time(), tzinfo=UTC).timestamp())
    end = int(now.timestamp())  # Meta refuses an end in the future
    results = []
    for account in accounts_of(ctx, all_accounts):
        fetched = run(lambda account=account: _fetch_account(ctx, account, start, end, now))  # type: ignore[misc]
        results.append(_store(ctx, account, fetched, start_day, now))
    return results


async def _fetch_account(ctx: CommandContext, account: Account, start: int, end: int, now: datetime) -> dict[str, Any]:
    template_ids = _template_ids(ctx, account)
    async with ctx.graph(ctx.credentials(account), account.id) as api:
        return await _fetch(api, account.waba_id, template_ids, start, end, now)


async def _fetch(
    api: GraphAPI, waba_id: str, template_ids: Sequence[str], start: int, end: int, now: datetime
) -> dict[str, Any]:
    waba = await api.get_waba(waba_id, fields=("currency",))
    messages = await api.messaging_analytics(waba_id, start, end, "DAY")
    pricing = await api.pricing_analytics(waba_id, start, end, "DAILY")
    template_start = max(start, int((now - TEMPLATE_LOOKBACK).timestamp()))
    templates: list[Any] = []
    for at in range(0, len(template_ids), TEMPLATES_PER_CALL):
        batch = template_ids[at : at + TEMPLATES_PER_CALL]
        templates += await api.template_analytics(waba_id, batch, template_start, end, TEMPLATE_METRICS)
    return {
        "currency": waba.get("currency"),
        "messages": messages.get("data_points") or [],
        "pricing": pricing,
        "templates": templates,
    }


def _template_ids(ctx: CommandContext, account: Account) -> list[str]:
    t = table_of(MessageTemplate).c
    with ctx.db.engine.connect() as conn:
        rows = conn.execute(
            select(t.template_id).where(t.account_id == account.id, t.template_id.is_not(None)).distinct()
        )
        return sorted(str(row[0]) for row in rows)


def _day(point: dict[str, Any]) -> date | None:
    try:
        return datetime.fromtimestamp(int(point["start"]), UTC).date()
    except (KeyError, TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _cost(value: Any) -> float | None:
    """A cost as Meta gives it: a number, or template analytics' list with ``amount_spent``."""
    if isinstance(value, list):
        spent = [item.get("value") for item in value if isinstance(item, dict) and item.get("type") == "amount_spent"]
        value = spent[0] if spent else None
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _store(ctx: CommandContext, account: Account, fetched: dict[str, Any], start_day: date, now: datetime) -> Synced:
    currency = fetched["currency"]
    rows: dict[tuple[str, date, str], dict[str, Any]] = {}

    def row(source: str, day: date, key: str) -> dict[str, Any]:
        found = rows.get((source, day, key))
        if found is None:
            found = rows[(source, day, key)] = {
                "account_id": account.id,
                "source": source,
                "day": day,
                "key": key[:255],
                "currency": currency,
                "fetched_at": now,
            }
        return found

    def add(target: dict[str, Any], name: str, value: int | float | None) -> None:
        if value is not None:
            target[name] = (target.get(name) or 0) + value

    counts = {"messages": 0, "pricing": 0, "template": 0}
    for point in fetched["messages"]:
        day = _day(point)
        if day is not None:
            target = row("messages", day, "")
            add(target, "sent", _int(point.get("sent")))
            add(target, "delivered", _int(point.get("delivered")))
            counts["messages"] += 1
    for point in fetched["pricing"]:
        day = _day(point)
        if day is not None:
            parts = ("country", "pricing_category", "pricing_type", "tier")
            key = "|".join(str(point.get(p) or "") for p in parts)
            target = row("pricing", day, key)
            add(target, "volume", _int(point.get("volume")))
            add(target, "cost", _cost(point.get("cost")))
            counts["pricing"] += 1
    for point in fetched["templates"]:
        day = _day(point)
        if day is not None and point.get("template_id"):
            target = row("template", day, str(point["template_id"]))
            for name in ("sent", "delivered", "read"):
                add(target, name, _int(point.get(name)))
            clicks = point.get("clicked")
            if isinstance(clicks, list):
                add(target, "clicked", sum(_int(c.get("count")) or 0 for c in clicks if isinstance(c, dict)))
            add(target, "cost", _cost(point.get("cost")))
            counts["template"] += 1
    with ctx.db.engine.begin() as conn:
        for source in ("messages", "pricing", "template"):
            conn.execute(
                delete(META).where(META.c.account_id == account.id, META.c.source == source, META.c.day >= start_day)
            )
        if rows:
            columns = ("sent", "delivered", "read", "clicked", "volume", "cost")
            conn.execute(insert(META), [{**dict.fromkeys(columns), **r} for r in rows.values()])
    return Synced(
        account=account.name,
        currency=currency,
        days=len({day for _, day, _ in rows}),
        messages=counts["messages"],
        pricing=counts["pricing"],
        templates=counts["template"],
    )
