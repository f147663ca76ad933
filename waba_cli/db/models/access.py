"""Who may see which account (PostgreSQL operators), and the audit trail of every change.

``operator_grant`` names the accounts an operator's database role may see; row-level security
policies (``db.access``) read it. ``audit_entry`` records each command that changed something:
operators may add entries but never change or delete one (no UPDATE or DELETE privilege, no policy).
Its ``account_id`` has no foreign key on purpose: the trail outlives the accounts it mentions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from waba_cli.db.models.base import json_column
from waba_cli.db.timestamps import utcnow


class OperatorGrant(SQLModel, table=True):
    """One account granted to one operator (a PostgreSQL login role in the ``waba_operator`` group)."""

    __tablename__ = "operator_grant"

    role_name: str = Field(primary_key=True, max_length=63)
    account_id: int = Field(
        sa_column=Column(Integer, ForeignKey("account.id", ondelete="CASCADE"), primary_key=True, index=True)
    )
    granted_at: datetime = Field(default_factory=utcnow)
    granted_by: str = Field(max_length=63)


class AuditEntry(SQLModel, table=True):
    """One command that changed something: who, when, what (secrets redacted), which account, how it ended."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=63, index=True)  # the database role, or the OS user on SQLite
    command: str = Field(max_length=255)  # the command words: "template create"
    arguments: list[Any] = json_column(default=[])  # the rest of the command line, secrets redacted
    account_id: int | None = Field(default=None, index=True)
    outcome: str = Field(max_length=255)  # "ok", or "failed: <the error>"
