"""WhatsApp Flows, the tokens sent with them and the answers that came back.

A Flow message carries a ``flow_token`` that Meta echoes in the completion (``nfm_reply``): the
``flow_token`` row written when a flow is sent is how a completion is tied back to the flow, the
contact, the message and the campaign. A completion whose token waba never sent is still kept,
attributed by the message it replies to when it can be, and flagged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text, UniqueConstraint
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
    # Meta's health_status.can_send_message (AVAILABLE, LIMITED, BLOCKED), as of the last sync
    health: str | None = Field(default=None, max_length=32)
    synced_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class FlowToken(SQLModel, table=True):
    """A ``flow_token`` sent in a Flow message: which flow, to whom, in which message and campaign."""

    __tablename__ = "flow_token"
    __table_args__ = (Index("ix_flow_token_account_token", "account_id", "token"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = foreign_key("account", index=False)
    token: str = Field(max_length=255)
    flow_row_id: int | None = foreign_key("flow", nullable=True, on_delete="SET NULL")
    flow_ref: str = Field(max_length=200)  # the flow id or name the message named
    contact: str = Field(max_length=64)
    message_id: int | None = foreign_key("message", nullable=True, on_delete="SET NULL")
    campaign: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow)


class FlowResponse(SQLModel, table=True):
    """One completed Flow (an inbound ``nfm_reply``), its answers as the customer gave them."""

    __tablename__ = "flow_response"
    __table_args__ = (Index("ix_flow_response_account_received", "account_id", "received_at"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int | None = foreign_key("account", nullable=True, index=False)
    wamid: str = Field(unique=True, max_length=255)  # the inbound completion
    flow_row_id: int | None = foreign_key("flow", nullable=True, on_delete="SET NULL")
    flow_token: str | None = Field(default=None, max_length=255)
    token_known: bool = False  # False: waba never sent this token (attributed by context, or not at all)
    contact: str = Field(max_length=64)
    context_wamid: str | None = Field(default=None, max_length=255)  # the flow message it answers
    campaign: str | None = Field(default=None, max_length=255)
    data: dict[str, Any] | None = json_column()  # the response_json, flow_token left out
    received_at: datetime = Field(default_factory=utcnow)
