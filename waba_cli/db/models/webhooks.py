"""Webhook deliveries as they arrived, and the idempotency keys of the business events they carried."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, LargeBinary
from sqlmodel import Field, SQLModel

import waba_cli.db.models.accounts  # noqa: F401 - the account table that foreign keys name
from waba_cli.db.models.base import foreign_key, json_column
from waba_cli.db.timestamps import utcnow


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
    # the distinct change fields of the delivery, comma-separated ("messages" for most)
    field: str | None = Field(default=None, max_length=255)
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    headers: dict[str, Any] | None = json_column()
    # not indexed (migration 0007): nothing looks events up by it, and a hash is a random B-tree write
    body_sha256: str = Field(max_length=64)
    status: str = Field(default="received", max_length=16)  # received | applied | failed
    error: str | None = None
    summary: str | None = None  # what applying it did: "2 inbound, 1 status (1 new)"
    applied_at: datetime | None = None


class WebhookItem(SQLModel, table=True):
    """The idempotency key of one applied business event (template, phone-number, account, flow change).

    Messages and statuses have natural keys (``message.wamid``, ``message_status(wamid, status)``);
    other changes carry none, so their key is a hash of the entry id, time, field and value. The
    row is inserted in the transaction that applies the change: a repeated delivery, or the same
    delivery at another instance on the same database, finds the key and changes nothing.
    """

    __tablename__ = "webhook_item"

    key: str = Field(primary_key=True, max_length=64)  # sha256 hex
    field: str = Field(max_length=64)
    event_id: int | None = None  # the delivery that applied it (no foreign key: events are pruned)
    applied_at: datetime = Field(default_factory=utcnow, index=True)
