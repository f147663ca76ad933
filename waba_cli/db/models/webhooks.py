"""Webhook deliveries as they arrived."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, LargeBinary
from sqlmodel import Field, SQLModel

import waba_cli.db.models.accounts  # noqa: F401 - the account table that foreign keys name
from waba_cli.db.models.base import foreign_key, json_column, utcnow


class WebhookEvent(SQLModel, table=True):
    """One webhook delivery exactly as it arrived (raw bytes), and how applying it went."""

    __tablename__ = "webhook_event"
    __table_args__ = (
        Index("ix_webhook_event_status_received", "status", "received_at"),
        Index("ix_webhook_event_field_received", "field", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int | None = foreign_key("account", nullable=True, on_delete="SET NULL")
    received_at: datetime = Field(default_factory=utcnow, index=True)
    field: str | None = Field(default=None, max_length=64)
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    headers: dict[str, Any] | None = json_column()
    body_sha256: str = Field(index=True, max_length=64)
    status: str = Field(default="received", max_length=16)  # received | applied | failed
    error: str | None = None
    applied_at: datetime | None = None
