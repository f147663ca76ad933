"""Pacing and local limits.

- ``Pacer``: a token bucket per sending number. Senders take their turn on a lock, and each one's
  slot follows from the rate current at its turn, so any number of concurrent senders together keep
  to the rate exactly, and a changed rate holds for every send not yet made. 130429 halves the rate
  at most once a second; successes bring it back additively over seconds (AIMD).
- Account limits (the seed's daily / monthly / per-minute limits): outbound messages the API
  accepted (they have a wamid), auto-replies included, counted per day and month in the account's
  ``business_timezone`` and over the last 60 seconds.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from waba_cli.db.models.accounts import Account
from waba_cli.db.models.messages import Message
from waba_cli.errors import UsageError

if TYPE_CHECKING:
    from waba_cli.services.context import CommandContext

# Meta's throughput levels (reference §9.1), messages per second per business number
THROUGHPUT = {"STANDARD": 80.0, "HIGH": 1000.0, "COEXISTENCE": 20.0}
DEFAULT_THROUGHPUT = THROUGHPUT["STANDARD"]


def throughput_of(level: str | None, *, coexistence: bool = False) -> float:
    """Messages per second for a number's ``throughput.level`` (80 when unknown)."""
    if coexistence:
        return THROUGHPUT["COEXISTENCE"]
    return THROUGHPUT.get((level or "").upper(), DEFAULT_THROUGHPUT)


class Pacer:
    """Paces calls to ``rate`` per second (0 = unpaced), allowing bursts of ``burst``.

    Callers queue on a lock and each computes its slot from the rate current when its turn comes,
    so a rate lowered or raised meanwhile applies to every send not yet made. At a steady rate
    slot ``n + 1`` is slot ``n`` plus ``1 / rate``, or up to ``burst - 1`` intervals behind "now"
    when the bucket saved up (a stall is made up for, not lost).

    130429 (too fast for this number) is answered by AIMD: ``slow_down`` halves the rate, at most
    once per ``cut_every`` seconds (with 100-200 requests in flight, dozens of 130429s arrive for one
    excess), and ``recover`` adds ``target / 20`` per second of successes back, up to the target.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        cut_every: float = 1.0,
    ) -> None:
        self.target = rate
        self.rate = rate
        self.burst = max(1, burst)
        self.cut_every = cut_every
        self.step = max(1.0, rate / 20)  # per second of successes
        self.floor = min(1.0, rate)
        self._clock = clock
        self._sleep = sleep
        self._next = clock()
        self._cut_at = -math.inf  # when the rate was last halved
        self._grown_at = self._next  # when the rate last grew (or was cut)
        self._turn = asyncio.Lock() if rate > 0 else None  # unpaced: no lock at all

    async def acquire(self) -> None:
        """Wait for this call's slot."""
        if self._turn is None:
            return
        async with self._turn:
            interval = 1.0 / self.rate
            now = self._clock()
            slot = max(self._next, now - (self.burst - 1) * interval)
            if slot > now:
                await self._sleep(slot - now)
            self._next = slot + interval

    def slow_down(self) -> None:
        """Meta said 130429: halve the rate (not below 1/s), unless it was halved under ``cut_every`` s ago."""
        if self._turn is None:
            return
        now = self._clock()
        if now - self._cut_at < self.cut_every:
            return  # answers to sends made before the cut: the cut is already on its way
        self._cut_at = self._grown_at = now
        self.rate = max(self.floor, self.rate / 2)

    def recover(self) -> None:
        """A success: grow back towards the target by ``step`` per second since the last growth (or cut)."""
        if self._turn is None:
            return
        now = self._clock()
        if self.rate < self.target:
            # time without a success (a pause, a run of errors) does not count: at most a second's growth
            grown = self.step * min(1.0, now - self._grown_at)
            self.rate = min(self.target, self.rate + grown)
        self._grown_at = now


@dataclass(frozen=True)
class Usage:
    account: str
    timezone: str
    today: int
    month: int
    last_minute: int
    daily_limit: int | None
    monthly_limit: int | None
    per_minute_limit: int | None


def _period_starts(now: datetime, timezone: str) -> tuple[datetime, datetime]:
    """The start of today and of this month in ``timezone``, in UTC."""
    local = now.astimezone(ZoneInfo(timezone))
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    return day.astimezone(UTC), month.astimezone(UTC)


def accepted_since(session: Session, account: Account, start: datetime) -> int:
    """Outbound messages of ``account`` the API accepted since ``start``: what the limits count."""
    query = (
        select(func.count())
        .select_from(Message)
        .where(
            Message.account_id == account.id,
            Message.direction == "out",
            col(Message.wamid).is_not(None),
            col(Message.created_at) >= start,
        )
    )
    return int(session.exec(query).one())


def today_start(now: datetime, timezone: str) -> datetime:
    """The start of today in ``timezone``, in UTC."""
    return _period_starts(now, timezone)[0]


def usage(session: Session, account: Account, now: datetime | None = None) -> Usage:
    """Accepted outbound messages today, this month and in the last minute."""
    now = now or datetime.now(UTC)
    day_start, month_start = _period_starts(now, account.business_timezone)
    minute_start = now - timedelta(seconds=60)
    return Usage(
        account.name,
        account.business_timezone,
        accepted_since(session, account, day_start),
        accepted_since(session, account, month_start),
        accepted_since(session, account, minute_start),
        account.daily_limit,
        account.monthly_limit,
        account.per_minute_limit,
    )


def account_usage(ctx: CommandContext) -> Usage:
    """`waba usage`: the account's counts against its limits."""
    with ctx.db.session() as session:
        return usage(session, ctx.account)


def check_limits(session: Session, account: Account, *, planned: int = 1, now: datetime | None = None) -> Usage:
    """Refuse (exit 2) when ``planned`` more messages would pass one of the account's limits."""
    current = usage(session, account, now)
    for used, limit, what, wait in (
        (current.last_minute, account.per_minute_limit, "per-minute", "wait a minute"),
        (current.today, account.daily_limit, "daily", f"wait until midnight ({account.business_timezone})"),
        (current.month, account.monthly_limit, "monthly", "wait until next month"),
    ):
        if limit is not None and used + planned > limit:
            raise UsageError(
                f"account {account.name}: the {what} limit of {limit} messages would be passed "
                f"({used} sent, {planned} more planned)",
                f"{wait}, or raise it: waba account update {account.name} --set {what.replace('-', '_')}_limit=N",
            )
    return current
