"""`waba health history`: the status changes of each check over time, with how long each lasted.

Repeats are not news: a check OK for a week is one line, not ten thousand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from waba_cli.db.timestamps import utcnow
from waba_cli.domain import health as rules
from waba_cli.errors import ValidationError
from waba_cli.services.health import store
from waba_cli.settings import parse_duration

if TYPE_CHECKING:
    from datetime import datetime

    from waba_cli.services.context import CommandContext


@dataclass(frozen=True)
class History:
    since: datetime
    transitions: list[rules.Transition]


def health_history(ctx: CommandContext, since: str = "7d", check: str | None = None) -> History:
    """`waba health history`: transitions since ``since`` (``7d``, ``12h``), of one check (``number``
    covers every ``number:...``) and of the named account, else of every account."""
    try:
        window = parse_duration(since)
    except ValueError as exc:
        raise ValidationError("--since", str(exc)) from None
    if window is None:
        raise ValidationError("--since", f"{since!r} is not a duration like 7d, 12h or 30m")
    now = utcnow()
    start = now - window
    account = ctx.named_account
    with ctx.db.session() as session:
        seen = store.observations(session, start, check=check.strip() if check else None, account=account)
    return History(start, store.shown_transitions(rules.transitions(seen, now), start))
