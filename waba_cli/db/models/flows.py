"""WhatsApp Flows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

import waba_cli.db.models.accounts  # noqa: F401 - the account table that foreign keys name
from waba_cli.db.models.base import foreign_key, json_column
from waba_cli.db.timestamps import utcnow


class Flow(SQLModel, table=True):
    """A WhatsApp Flow of an account."""

    __tablename__ = "flow"
    __table_args__ = (UniqueConstraint("account_id", "name", name="uq_flow_account_name"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = foreign_key("account")
    flow_id: str | None = Field(default=None, unique=True, max_length=32)
    name: str = Field(max_length=200)
    status: str = Field(default="DRAFT", max_length=32)
    categories: list[str] = json_column(default=[])
    validation_errors: list[Any] = json_column(default=[])
    json_version: str | None = None
    data_api_version: str | None = None
    endpoint_uri: str | None = None
    preview_url: str | None = None
    flow_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    first_screen: str | None = None
    synced_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
