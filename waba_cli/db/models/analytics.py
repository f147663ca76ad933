"""The daily figures `waba analytics` reports from, and how far each account's are up to date.

Counting a million messages on every report takes seconds; their figures per day take
milliseconds. ``analytics_day`` holds one row per account, local day, dimension (all, template,
number, campaign, country, category) and key; ``analytics_state`` the ids of the last message and
status row the days were brought up to date with. A report recounts only the days that changed
since (``services.analytics.rollup``): nothing is written on the webhook's path.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

import waba_cli.db.models.accounts  # noqa: F401 - the account table that foreign keys name
from waba_cli.db.models.base import foreign_key, json_column
from waba_cli.db.timestamps import utcnow


class AnalyticsDay(SQLModel, table=True):
    """One day's figures of one group of an account's messages (see ``domain.analytics``)."""

    __tablename__ = "analytics_day"
    __table_args__ = (
        # also the account_id index the foreign key needs (its leading column)
        UniqueConstraint("account_id", "day", "dimension", "key", name="uq_analytics_day_group"),
        Index("ix_analytics_day_dimension", "account_id", "dimension", "day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = foreign_key("account", index=False)
    day: date
    dimension: str = Field(max_length=16)
    key: str = Field(max_length=512)
    sent: int = 0
    delivered: int = 0
    read: int = 0
    failed: int = 0
    inbound: int = 0
    replied: int = 0
    clicks: int = 0
    billable: int = 0
    free: int = 0
    contacts: int = 0
    details: dict[str, Any] | None = json_column()


class AnalyticsState(SQLModel, table=True):
    """How far an account's ``analytics_day`` rows are up to date."""

    __tablename__ = "analytics_state"

    account_id: int = Field(
        sa_column=Column(Integer, ForeignKey("account.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    )
    timezone: str = Field(max_length=64)  # the business_timezone the days were counted in
    version: int = 1  # of the counting: a new version recounts every day
    message_id: int = 0  # the last message row counted
    status_id: int = 0  # the last message_status row seen
    # rows among the last ``rollup.SETTLING_IDS`` ids up to each mark: more later means a late commit
    settling_messages: int = 0
    settling_statuses: int = 0
    refreshed_at: datetime = Field(default_factory=utcnow)


class AnalyticsMeta(SQLModel, table=True):
    """Meta's own figures of one UTC day, as `waba analytics sync` fetched them (§5.4).

    ``source``: ``messages`` (the ``analytics`` field: sent, delivered; key ""), ``pricing``
    (``pricing_analytics``: volume and cost; key "country|category|type|tier") or ``template``
    (``template_analytics``: sent, delivered, read, clicked, cost; key the template id).
    """

    __tablename__ = "analytics_meta"
    __table_args__ = (
        # also the account_id index the foreign key needs (its leading column)
        UniqueConstraint("account_id", "source", "day", "key", name="uq_analytics_meta_point"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = foreign_key("account", index=False)
    source: str = Field(max_length=16)
    day: date
    key: str = Field(max_length=255)
    sent: int | None = None
    delivered: int | None = None
    read: int | None = None
    clicked: int | None = None
    volume: int | None = None
    cost: float | None = None  # in ``currency``; None when Meta gave none (a partner's credit line)
    currency: str | None = Field(default=None, max_length=8)
    fetched_at: datetime = Field(default_factory=utcnow)
