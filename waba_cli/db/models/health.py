"""`waba health check`'s memory: each run, each check's result in it, and Meta's answers kept for reuse.

A run's results are what the next run compares with (what changed, what to notify) and what
`waba health history` turns into transitions. Graph answers younger than ``health.max_age`` are
reused instead of asked again: Meta allows about 200 management calls per hour per app and WABA,
and a cron job every minute must not burn them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

import waba_cli.db.models.accounts  # noqa: F401 - the account table that foreign keys name
from waba_cli.db.models.base import foreign_key, json_column
from waba_cli.db.timestamps import utcnow
from waba_cli.domain.setup_steps import BY_NAME as SETUP


class HealthRun(SQLModel, table=True):
    """One `waba health check`: when, the overall status, and whether its changes were notified."""

    __tablename__ = "health_run"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(default_factory=utcnow, index=True)
    finished_at: datetime | None = None
    status: str = Field(max_length=16)  # OK | WARNING | CRITICAL | UNKNOWN
    accounts: int = 0
    changes: int = 0  # checks whose status differs from the previous run's
    notified_at: datetime | None = None
    notify_error: str | None = None


class HealthResult(SQLModel, table=True):
    """One check of one account in one run; ``value`` is its measure (a percentage, days left)."""

    __tablename__ = "health_result"
    __table_args__ = (Index("ix_health_result_account_check", "account_id", "check", "run_id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = foreign_key("health_run")
    # covered by the index above; a removed account's history stays, under its name
    account_id: int | None = foreign_key("account", nullable=True, on_delete="SET NULL", index=False)
    account_name: str = Field(max_length=SETUP["name"].max_length)
    check: str = Field(max_length=64)
    status: str = Field(max_length=16)
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    value: float | None = None
    cached: bool = False  # decided from Graph answers kept from an earlier run
    data: dict[str, Any] | None = json_column()
    at: datetime = Field(default_factory=utcnow)


class HealthGraphAnswer(SQLModel, table=True):
    """The last answer of one Graph read for one account (``call``: token, waba, numbers ...)."""

    __tablename__ = "health_graph_answer"
    __table_args__ = (UniqueConstraint("account_id", "call", name="uq_health_graph_answer_account_call"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = foreign_key("account", index=False)  # the unique constraint's leading column
    call: str = Field(max_length=32)
    fetched_at: datetime = Field(default_factory=utcnow)
    answer: Any = json_column()
