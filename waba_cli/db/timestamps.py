"""Timestamps as the database keeps them: aware UTC in, aware UTC out.

Every timestamp column stores UTC. PostgreSQL gives aware values back; SQLite gives naive ones
(its text carries no zone), which ``aware`` marks as the UTC they are before they are compared
with ``utcnow()``. No SQLAlchemy here: serve-webhook's HTTP process stamps deliveries with
``utcnow`` without loading the database stack.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, in UTC, as every timestamp column stores it."""
    return datetime.now(UTC)


def aware(value: datetime) -> datetime:
    """``value`` with its zone: a naive value read back from SQLite is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
