"""Timestamps as the database keeps them: aware UTC in, aware UTC out.

Every timestamp column stores UTC. PostgreSQL gives aware values back; SQLite gives naive ones
(its text carries no zone), which ``aware`` marks as the UTC they are before they are compared
with ``utcnow()``. No SQLAlchemy here: serve-webhook's HTTP process stamps deliveries with
``utcnow`` without loading the database stack.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


def utcnow() -> datetime:
    """Now, in UTC, as every timestamp column stores it."""
    return datetime.now(UTC)


@overload
def aware(value: datetime) -> datetime: ...
@overload
def aware(value: datetime | None) -> datetime | None: ...
def aware(value: datetime | None) -> datetime | None:
    """``value`` with its zone: a naive value read back from SQLite is UTC (None stays None)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
