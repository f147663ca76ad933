"""Each account's daily figures (``analytics_day``), brought up to date before they are read.

Nothing is counted on the webhook's path: a report first finds what changed since the account's
figures were last brought up to date, by ids alone (messages and status rows are numbered in the
order they were written), and recounts only those days:

- a new message: its day (and, for an outbound one, the day before: it may answer a message that
  waited since then); a new inbound reply: the day of the message it quotes;
- a new status row (a webhook, however late or out of order): the day its message was sent;
- a message the sender had not settled yet (queued, no wamid) at the last count, under an hour
  old: its day again, as the sender's own writes leave no status row (the account's mark stays
  below such a message until it is settled or an hour old);
- a row that committed after a higher id was already counted (PostgreSQL hands out ids before
  commit, so concurrent writers may commit out of order): the number of rows among the last
  ``SETTLING_IDS`` ids below each mark is kept, and when it has grown those rows are read again.

A changed ``business_timezone`` or a new version of the counting recounts every day. Recounting
a day replaces its rows, so a figure is never counted twice.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select, text, update

from waba_cli.db.models.analytics import AnalyticsDay, AnalyticsState
from waba_cli.db.models.base import table_of
from waba_cli.db.models.messages import Message, MessageStatus
from waba_cli.db.timestamps import aware
from waba_cli.domain import analytics as figures_of

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from waba_cli.db.engine import Database
    from waba_cli.db.models.accounts import Account

VERSION = 1
DAY = table_of(AnalyticsDay)
STATE = table_of(AnalyticsState)
MESSAGE = table_of(Message)
STATUS = table_of(MessageStatus)
UNSETTLED_FOR = timedelta(hours=1)  # a sender's message still queued after this is in doubt: counted as it is
CHUNK_DAYS = 7  # days recounted per pass over the messages
SETTLING_IDS = 2000  # ids below each mark that a transaction still in flight may yet commit
_IN_CHUNK = 500  # wamids per IN (...) list
_LOCK_SPACE = 0x616E  # "an": PostgreSQL advisory locks of analytics, keyed by account id

_FACT_COLUMNS = (
    MESSAGE.c.id,
    MESSAGE.c.direction,
    MESSAGE.c.wamid,
    MESSAGE.c.contact,
    MESSAGE.c.phone_number_id,
    MESSAGE.c.template_name,
    MESSAGE.c.campaign,
    MESSAGE.c.status,
    MESSAGE.c.error_code,
    MESSAGE.c.error_title,
    MESSAGE.c.pricing,
    MESSAGE.c.context_wamid,
    MESSAGE.c.type,
    MESSAGE.c.created_at,
)


def bring_all_up_to_date(db: Database, accounts: Sequence[Account], now: datetime) -> int:
    """``bring_up_to_date`` for each of ``accounts``; returns how many days were recounted in all.

    Most reports find nothing new. That is decided for every account at once, in a handful of
    queries and without a lock (on PostgreSQL every query is a round trip); only an account that
    may have changed takes the locked path of ``bring_up_to_date``. A recount running elsewhere at
    that moment has not yet moved the account's marks, so the account is not taken for current.
    """
    stale = [account for account in accounts if account.id is not None]
    if stale:
        with db.engine.connect() as conn:
            current = _current_accounts(conn, stale)
        stale = [account for account in stale if account.id not in current]
    return sum(bring_up_to_date(db, account, now) for account in stale)


def _current_accounts(conn: Connection, accounts: Sequence[Account]) -> set[int]:
    """The ids of those ``accounts`` whose days nothing changed since they were last counted: their
    marks are the newest ids (a message still being sent keeps its account's mark below it)."""
    m, s = MESSAGE.c, STATUS.c
    tops = select(
        select(func.coalesce(func.max(m.id), 0)).scalar_subquery(),
        select(func.coalesce(func.max(s.id), 0)).scalar_subquery(),
    )
    top_message, top_status = (int(value) for value in conn.execute(tops).one())
    zones = {account.id: account.business_timezone for account in accounts}
    settling_statuses = _settling_statuses(conn, top_status)
    states = [
        state
        for state in conn.execute(select(STATE).where(STATE.c.account_id.in_(list(zones))))
        if state.timezone == zones[state.account_id]
        and state.version == VERSION
        and state.message_id == top_message
        and state.status_id == top_status
        and state.settling_statuses == settling_statuses
    ]
    if not states:
        return set()
    ids = [state.account_id for state in states]
    settling: dict[int, int] = dict(
        conn.execute(
            select(m.account_id, func.count())
            .where(m.id > top_message - SETTLING_IDS, m.id <= top_message, _by_id_only(m.account_id).in_(ids))
            .group_by(m.account_id)
        ).all()
    )
    return {state.account_id for state in states if settling.get(state.account_id, 0) == state.settling_messages}


def bring_up_to_date(db: Database, account: Account, now: datetime) -> int:
    """Recount the days of ``account`` that changed since the last time; returns how many were."""
    assert account.id is not None
    zone = ZoneInfo(account.business_timezone)
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # two reports at once: one recounts, the other waits and then finds nothing left to do
            conn.execute(text("SELECT pg_advisory_xact_lock(:space, :id)"), {"space": _LOCK_SPACE, "id": account.id})
        state = conn.execute(select(STATE).where(STATE.c.account_id == account.id)).first()
        top_message = int(conn.scalar(select(func.coalesce(func.max(MESSAGE.c.id), 0))) or 0)
        top_status = int(conn.scalar(select(func.coalesce(func.max(STATUS.c.id), 0))) or 0)
        if state is None or state.timezone != account.business_timezone or state.version != VERSION:
            conn.execute(delete(DAY).where(DAY.c.account_id == account.id))
            days = _every_day(conn, account.id, zone)
            since_message = 0
        else:
            since_message = min(state.message_id, _first_unsettled(conn, account.id, state.message_id, now))
            since_status = state.status_id
            if _settling_messages(conn, account.id, state.message_id) != state.settling_messages:
                since_message = min(since_message, max(0, state.message_id - SETTLING_IDS))
            if _settling_statuses(conn, state.status_id) != state.settling_statuses:
                since_status = max(0, state.status_id - SETTLING_IDS)
            days = _changed_days(conn, account.id, zone, since_message, top_message, since_status, top_status)
        for run_first, run_last in figures_of.runs_of(days):
            first = run_first
            while first <= run_last:
                last = min(run_last, first + timedelta(days=CHUNK_DAYS - 1))
                _recount(conn, account.id, zone, first, last)
                first = last + timedelta(days=1)
        # a message still being sent is counted as it is now, and its id stays past the mark: the
        # next report reads it again (settling it leaves no status row to notice it by)
        mark = _first_unsettled(conn, account.id, top_message, now)
        values = {
            "timezone": account.business_timezone,
            "version": VERSION,
            "message_id": mark,
            "status_id": top_status,
            "settling_messages": _settling_messages(conn, account.id, mark),
            "settling_statuses": _settling_statuses(conn, top_status),
            "refreshed_at": now,
        }
        if state is None:
            conn.execute(insert(STATE).values(account_id=account.id, **values))
        else:
            conn.execute(update(STATE).where(STATE.c.account_id == account.id).values(values))
    return len(days)


def _by_id_only(column: Any) -> Any:
    """``column + 0``: the same value, but no index on it is used, so a query with an id range reads
    that range of rows (a few) instead of all the account's rows by its index (the planner's guess)."""
    return column + 0


def _settling_messages(conn: Connection, account_id: int, mark: int) -> int:
    """How many of the account's messages have an id among the ``SETTLING_IDS`` up to ``mark``."""
    m = MESSAGE.c
    query = select(func.count()).where(
        m.id > mark - SETTLING_IDS, m.id <= mark, _by_id_only(m.account_id) == account_id
    )
    return int(conn.scalar(query) or 0)


def _settling_statuses(conn: Connection, mark: int) -> int:
    """How many status rows have an id among the ``SETTLING_IDS`` up to ``mark``."""
    s = STATUS.c
    return int(conn.scalar(select(func.count()).where(s.id > mark - SETTLING_IDS, s.id <= mark)) or 0)


def _every_day(conn: Connection, account_id: int, zone: ZoneInfo) -> set[date]:
    m = MESSAGE.c
    first, last = conn.execute(
        select(func.min(m.created_at), func.max(m.created_at)).where(m.account_id == account_id)
    ).one()
    if first is None:
        return set()
    start, end = figures_of.local_day(aware(first), zone), figures_of.local_day(aware(last), zone)
    return {start + timedelta(days=n) for n in range((end - start).days + 1)}


def _first_unsettled(conn: Connection, account_id: int, counted_to: int, now: datetime) -> int:
    """The id of the oldest message counted last time that the sender may still change; else ``counted_to``."""
    m = MESSAGE.c
    found = conn.scalar(
        select(func.min(m.id)).where(
            m.account_id == account_id,
            m.direction == "out",
            m.wamid.is_(None),
            m.status == "queued",
            m.created_at >= now - UNSETTLED_FOR,
            m.id <= counted_to,
        )
    )
    return counted_to if found is None else int(found) - 1


def _changed_days(
    conn: Connection,
    account_id: int,
    zone: ZoneInfo,
    since_message: int,
    top_message: int,
    since_status: int,
    top_status: int,
) -> set[date]:
    m = MESSAGE.c
    days: set[date] = set()
    quoted: list[str] = []
    if top_message > since_message:
        new = conn.execute(
            select(m.created_at, m.direction, m.context_wamid).where(
                m.id > since_message, m.id <= top_message, _by_id_only(m.account_id) == account_id
            )
        )
        for created_at, direction, context in new:
            moment = aware(created_at)
            days.add(figures_of.local_day(moment, zone))
            if direction == "out":
                days.add(figures_of.local_day(moment - figures_of.RESPONSE_WINDOW, zone))
            elif context:
                quoted.append(context)
    if top_status > since_status:
        s = STATUS.c
        rows = conn.execute(
            select(m.created_at)
            .select_from(STATUS.join(MESSAGE, m.wamid == s.wamid))
            .where(s.id > since_status, s.id <= top_status, m.account_id == account_id)
        )
        days.update(figures_of.local_day(aware(created_at), zone) for (created_at,) in rows)
    for chunk in _chunks(sorted(set(quoted))):
        rows = conn.execute(select(m.created_at).where(m.wamid.in_(chunk), m.account_id == account_id))
        days.update(figures_of.local_day(aware(created_at), zone) for (created_at,) in rows)
    return days


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for at in range(0, len(items), _IN_CHUNK):
        yield items[at : at + _IN_CHUNK]


def _facts(row: Any) -> figures_of.MessageFacts:
    values = dict(row._mapping)
    values["created_at"] = aware(values["created_at"])
    return figures_of.MessageFacts(**values)


def _recount(conn: Connection, account_id: int, zone: ZoneInfo, first: date, last: date) -> None:
    """Replace the rows of the days ``first`` to ``last`` with their figures counted afresh."""
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

    start = figures_of.day_span(first, zone)[0]
    end = figures_of.day_span(last, zone)[1]
    m = MESSAGE.c
    rows = conn.execute(
        select(*_FACT_COLUMNS)
        .where(
            m.account_id == account_id,
            m.created_at >= start - figures_of.RESPONSE_WINDOW,
            m.created_at < end + figures_of.RESPONSE_WINDOW,
        )
        .order_by(m.created_at, m.id)
    )
    facts = [_facts(row) for row in rows]
    moments = [fact.created_at for fact in facts]
    sent = [f.wamid for f in facts if f.direction == "out" and f.wamid and start <= f.created_at < end]
    replies: list[figures_of.Reply] = []
    for chunk in _chunks(sent):
        found = conn.execute(
            select(m.context_wamid, m.type).where(m.context_wamid.in_(chunk), m.direction == "in").order_by(m.id)
        )
        replies.extend(figures_of.Reply(context, kind) for context, kind in found)
    conn.execute(delete(DAY).where(DAY.c.account_id == account_id, DAY.c.day >= first, DAY.c.day <= last))
    new_rows: list[dict[str, Any]] = []
    day = first
    while day <= last:
        day_start, day_end = figures_of.day_span(day, zone)
        low = bisect.bisect_left(moments, day_start - figures_of.RESPONSE_WINDOW)
        high = bisect.bisect_left(moments, day_end + figures_of.RESPONSE_WINDOW)
        groups = figures_of.day_figures(day, zone, facts[low:high], replies, COUNTRY_CODE_TO_REGION_CODE)
        for (dimension, key), figures in groups.items():
            row: dict[str, Any] = {"account_id": account_id, "day": day, "dimension": dimension, "key": key}
            row.update({name: getattr(figures, name) for name in figures_of.COUNTERS})
            row["details"] = figures.details()
            new_rows.append(row)
        day += timedelta(days=1)
    if new_rows:
        conn.execute(insert(DAY), new_rows)
