"""Health observations, usage roll-ups and the Graph API call log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

import waba_cli.db.models.accounts  # noqa: F401 - the account table that foreign keys name
from waba_cli.db.models.base import foreign_key, json_column
from waba_cli.db.timestamps import utcnow


class AccountHealthLog(SQLModel, table=True):
    """A health observation: a check's result, a health-relevant webhook, or a change `waba number
    sync` saw; ``phone_number_id`` (Meta's) when it is about one number."""

    __tablename__ = "account_health_log"
    __table_args__ = (
        Index("ix_account_health_log_account_checked", "account_id", "checked_at"),
        Index("ix_account_health_log_number_checked", "phone_number_id", "checked_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = foreign_key("account")
    checked_at: datetime = Field(default_factory=utcnow)
    source: str = Field(default="check", max_length=16)  # check | webhook | sync
    phone_number_id: str | None = Field(default=None, max_length=32)
    check: str = Field(max_length=64)
    status: str = Field(max_length=16)  # OK | WARNING | CRITICAL | UNKNOWN
    detail: str | None = None
    data: dict[str, Any] | None = json_column()


class AccountUsageLog(SQLModel, table=True):
    """Usage of an account in one day or month (rolled up from messages and API calls)."""

    __tablename__ = "account_usage_log"
    __table_args__ = (UniqueConstraint("account_id", "granularity", "period_start", name="uq_account_usage_period"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = foreign_key("account")
    granularity: str = Field(max_length=8)  # day | month
    period_start: date
    messages_sent: int = 0
    messages_delivered: int = 0
    messages_read: int = 0
    messages_failed: int = 0
    messages_received: int = 0
    api_calls: int = 0
    api_errors: int = 0
    avg_response_ms: float | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class ApiCall(SQLModel, table=True):
    """One Graph API request: what, when, how it went. Never bodies, query strings or tokens."""

    __tablename__ = "api_call"
    __table_args__ = (Index("ix_api_call_account_at", "account_id", "at"),)

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    )
    account_id: int | None = foreign_key("account", nullable=True, on_delete="SET NULL")
    at: datetime = Field(default_factory=utcnow, index=True)
    method: str = Field(max_length=8)
    endpoint: str = Field(max_length=255)  # path with ids replaced by {id}
    status_code: int | None = None
    latency_ms: float
    error_code: int | None = None
    attempt: int = 1
