"""Auto-replies: one row per inbound message that the account's bot answers (or decided not to)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

import waba_cli.db.models.accounts  # noqa: F401 - the account table that foreign keys name
from waba_cli.db.models.base import foreign_key
from waba_cli.db.timestamps import utcnow


class AutoReply(SQLModel, table=True):
    """The auto-reply to one inbound message; ``inbound_wamid`` is unique, so it is sent at most once.

    Rows are created ``pending`` in the transaction that stores the inbound message; a sender claims
    one by moving it to ``sending`` (a conditional UPDATE, so two instances never both send it),
    then records ``sent`` with the reply's wamid, ``skipped`` with the reason, or ``failed``.
    """

    __tablename__ = "auto_reply"
    __table_args__ = (Index("ix_auto_reply_status_created", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = foreign_key("account")
    inbound_wamid: str = Field(unique=True, max_length=255)
    phone_number_id: str = Field(max_length=32)
    contact: str = Field(max_length=64)
    status: str = Field(default="pending", max_length=16)  # pending | sending | sent | skipped | failed
    kind: str | None = Field(default=None, max_length=16)  # out_of_hours | greeting | knowledge_base | fallback
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reply_wamid: str | None = Field(default=None, max_length=255)
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
