"""A message's status only moves forward: the order of the statuses, and the one decision on it.

Meta reports each status of a sent message by webhook, in any order, sometimes more than once and
from several devices; waba's own sender writes ``queued``, ``accepted`` and ``failed``. A message
shows the furthest status known:

    queued < accepted < sent < failed < delivered < read < played

so ``failed`` replaces accepted and sent, a later delivered or read wins over failed (multi-device:
the failure stays in the status history), and a late ``sent`` changes nothing. Only ``failed``
carries an error: the message's error is the one of its status. Whatever order the statuses come
in, the message ends the same: at its furthest status, with that status's time and error.

``db.messages`` applies this rule in one conditional UPDATE; the webhook planner, the sender and
campaign runs ask ``may_replace`` and ``furthest`` in Python. Inbound messages are ``received``,
which is below every rank (a status report never names one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")

FAILED = "failed"
RECEIVED = "received"
# how far each status has got; a status moves a message only to a higher rank
STATUS_RANK: dict[str, int] = {
    "queued": 0,
    "accepted": 10,
    "sent": 20,
    FAILED: 25,
    "delivered": 30,
    "read": 40,
    "played": 50,
}
# the rank of ``received`` and of statuses waba does not know (Meta adds some): below every rank
UNRANKED = -1
# what a message's status may be: a sent message's ranks, or an inbound one
MESSAGE_STATUSES = frozenset({*STATUS_RANK, RECEIVED})


def rank(status: str | None) -> int:
    """How far ``status`` has got (``UNRANKED`` for none, ``received`` and unknown statuses)."""
    return STATUS_RANK.get(status or "", UNRANKED)


def may_replace(current: str | None, new: str) -> bool:
    """Whether a message at ``current`` (None: no status yet) moves to ``new``: only to a higher rank."""
    return new in STATUS_RANK and rank(current) < STATUS_RANK[new]


def carries_error(status: str) -> bool:
    """Whether ``status`` brings an error with it; a message's error is the one of its status."""
    return status == FAILED


def furthest(items: Iterable[T], status: Callable[[T], str]) -> T | None:
    """The item whose status ranks highest (the first of equals); None when none has a ranked status."""
    best: T | None = None
    for item in items:
        if may_replace(None if best is None else status(best), status(item)):
            best = item
    return best
