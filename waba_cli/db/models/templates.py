"""Message templates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

import waba_cli.db.models.accounts  # noqa: F401 - the account table that foreign keys name
from waba_cli.db.models.base import foreign_key, json_column
from waba_cli.db.timestamps import utcnow


class MessageTemplate(SQLModel, table=True):
    """A message template in one language: a local draft or Meta's copy of it."""

    __tablename__ = "message_template"
    __table_args__ = (
        UniqueConstraint("account_id", "name", "language", name="uq_message_template_account_name_language"),
        Index("ix_message_template_account_status", "account_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = foreign_key("account")
    name: str = Field(max_length=512)
    language: str = Field(max_length=16)
    category: str = Field(max_length=32)
    status: str = Field(default="DRAFT", max_length=32)  # DRAFT locally, else Meta's status
    template_id: str | None = Field(default=None, index=True, max_length=32)
    parameter_format: str = Field(default="POSITIONAL", max_length=16)
    components: list[dict[str, Any]] = json_column(default=[])
    quality_score: str | None = None
    rejected_reason: str | None = None
    previous_category: str | None = None
    # the category Meta announced it will move the template to (template_category_update)
    correct_category: str | None = Field(default=None, max_length=32)
    sub_category: str | None = Field(default=None, max_length=32)
    message_send_ttl_seconds: int | None = None
    status_updated_at: datetime | None = None
    synced_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class TemplateEvent(SQLModel, table=True):
    """One change in a template's life: created, submitted, synced or reported by a webhook."""

    __tablename__ = "template_event"
    __table_args__ = (Index("ix_template_event_template_at", "template_row_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    template_row_id: int = foreign_key("message_template")
    at: datetime = Field(default_factory=utcnow)
    source: str = Field(max_length=16)  # local | submit | sync | webhook | apply
    event: str = Field(max_length=64)  # e.g. APPROVED, REJECTED, QUALITY_CHANGE, CATEGORY_CHANGE, EDITED
    status: str | None = Field(default=None, max_length=32)
    category: str | None = Field(default=None, max_length=32)
    quality_score: str | None = Field(default=None, max_length=16)
    reason: str | None = None
    data: dict[str, Any] | None = json_column()
