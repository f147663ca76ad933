"""Messages, sent and received."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

import waba_cli.db.models.accounts  # noqa: F401 - the account table that foreign keys name
from waba_cli.db.models.base import foreign_key, json_column
from waba_cli.db.timestamps import utcnow


class Message(SQLModel, table=True):
    """One message, sent (``out``) or received (``in``), with its latest status."""

    __tablename__ = "message"
    __table_args__ = (
        # also the account_id index the foreign key needs (its leading column)
        Index("ix_message_account_created", "account_id", "created_at"),
        # the 24-hour window: the contact's last inbound message to a business number
        Index("ix_message_window", "phone_number_id", "contact", "direction", "created_at"),
        # replies to a message (analytics: replied, button clicks); partial, so only inbound
        # messages that quote one write to it
        Index(
            "ix_message_context",
            "context_wamid",
            sqlite_where=text("context_wamid IS NOT NULL"),
            postgresql_where=text("context_wamid IS NOT NULL"),
        ),
        # no index on status: every status webhook moves the row's status, and an index on it would
        # be one more random B-tree write per delivery (migration 0007); status filters ride on the
        # account index
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int | None = foreign_key("account", nullable=True, index=False)
    phone_number_id: str | None = Field(default=None, max_length=32)  # the business number's id
    direction: str = Field(max_length=3)  # "out" | "in"
    wamid: str | None = Field(default=None, unique=True, max_length=255)
    contact: str = Field(max_length=64)  # the customer: E.164 "+..." or a business-scoped user id
    contact_name: str | None = None
    # business-scoped user id (BSUID, 2026) and username: the only identity when wa_id is withheld
    contact_user_id: str | None = Field(default=None, max_length=64)
    contact_username: str | None = Field(default=None, max_length=64)
    type: str = Field(max_length=32)
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    payload: dict[str, Any] | None = json_column()
    status: str = Field(max_length=16)
    status_at: datetime | None = None
    error_code: int | None = None
    error_title: str | None = None
    error_details: str | None = None
    campaign: str | None = Field(default=None, index=True, max_length=255)
    template_name: str | None = None
    context_wamid: str | None = Field(default=None, max_length=255)
    biz_opaque_callback_data: str | None = Field(default=None, max_length=512)
    pricing: dict[str, Any] | None = json_column()
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class MessageStatus(SQLModel, table=True):
    """Every status Meta reported for a message, once per (wamid, status), in whatever order it came.

    ``message.status`` holds the furthest status; this is the history, with each status's own
    timestamp, pricing, conversation and errors (a ``failed`` overtaken by a later ``delivered``
    stays here). Statuses of messages waba did not send (no ``message`` row) are kept too.
    """

    __tablename__ = "message_status"
    __table_args__ = (UniqueConstraint("wamid", "status", name="uq_message_status_wamid_status"),)

    id: int | None = Field(default=None, primary_key=True)
    wamid: str = Field(max_length=255)
    status: str = Field(max_length=16)
    status_at: datetime | None = None  # Meta's timestamp of the status
    account_id: int | None = foreign_key("account", nullable=True, on_delete="SET NULL")
    phone_number_id: str | None = Field(default=None, max_length=32)
    recipient_id: str | None = Field(default=None, max_length=64)
    biz_opaque_callback_data: str | None = Field(default=None, max_length=512)
    pricing: dict[str, Any] | None = json_column()
    conversation: dict[str, Any] | None = json_column()
    error_code: int | None = None
    error_title: str | None = None
    error_details: str | None = None
    errors: list[Any] | None = json_column()
    received_at: datetime = Field(default_factory=utcnow, index=True)
