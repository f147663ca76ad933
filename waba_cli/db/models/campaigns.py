"""Campaigns (`waba send bulk`) and the state of each of their recipients.

A recipient's ``state`` is what makes a campaign resumable without duplicates or gaps:

    pending         never attempted (or handed back: 131056 backoff, a stop on 131048)
    outside_window  a free-form campaign found the contact outside the 24-hour window (checked again
                    on the next run)
    sending         its request may be on the wire; written before the request goes out
    accepted        Meta answered with a wamid
    failed          Meta refused it (code and title kept)
    in_doubt        its request may have reached Meta, but no answer was recorded (the run died, or the
                    connection broke after sending); resent only on request

A campaign is keyed by its name; ``owner`` (host:pid) keeps two processes from running one
campaign at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

import waba_cli.db.models.accounts  # noqa: F401 - the account table that foreign keys name
from waba_cli.db.models.base import foreign_key, json_column
from waba_cli.db.models.messages import Message, MessageStatus
from waba_cli.db.timestamps import utcnow


class Campaign(SQLModel, table=True):
    """One bulk send: what is sent, from which number, and how far it got."""

    __tablename__ = "campaign"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=255)
    account_id: int = foreign_key("account")
    phone_number_id: str = Field(max_length=32)
    kind: str = Field(max_length=16)  # template | text
    template_name: str | None = Field(default=None, max_length=512)
    language: str | None = Field(default=None, max_length=16)
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    csv_path: str | None = None
    rate: float | None = None  # messages per second the last run was paced at (0: unpaced)
    rate_reason: str | None = Field(default=None, max_length=255)  # where that pace came from
    status: str = Field(default="new", max_length=16)  # new | running | stopped | finished
    stop_reason: str | None = None
    owner: str | None = Field(default=None, max_length=255)  # host:pid of the run in progress
    heartbeat_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class CampaignRecipient(SQLModel, table=True):
    """One recipient of a campaign (its first line in the CSV) and where its message stands."""

    __tablename__ = "campaign_recipient"
    __table_args__ = (
        UniqueConstraint("campaign_id", "phone", name="uq_campaign_recipient_phone"),
        Index("ix_campaign_recipient_state", "campaign_id", "state", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # indexed by the unique (campaign_id, phone) and the state index, both led by campaign_id
    campaign_id: int = Field(sa_column=Column(Integer, ForeignKey("campaign.id", ondelete="CASCADE"), nullable=False))
    line: int  # the CSV line it came from
    phone: str = Field(max_length=20)  # E.164 with "+"
    params: list[Any] = json_column(default=[])  # template parameters as --param would take them
    state: str = Field(default="pending", max_length=16)
    attempts: int = 0
    not_before: datetime | None = None  # 131056 backoff for this recipient only
    wamid: str | None = Field(default=None, max_length=255)
    error_code: int | None = None
    error_title: str | None = None
    updated_at: datetime = Field(default_factory=utcnow)


# An in-doubt recipient is tied back to its wamid through the biz_opaque_callback_data that a status
# webhook echoes; without this index each reconciliation would scan every status ever received.
Index("ix_message_status_biz_opaque_callback_data", MessageStatus.biz_opaque_callback_data)  # type: ignore[arg-type]
# A campaign writes each attempt's message row before its request, keyed by its callback data until
# Meta's wamid is known; the answer updates the row through this index.
Index("ix_message_biz_opaque_callback_data", Message.biz_opaque_callback_data)  # type: ignore[arg-type]
