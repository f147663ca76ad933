"""The audit trail: which command is running (for the hook in ``db.audit``), and `waba audit list`.

``waba_cli.app`` calls ``begin`` with the command line before running a command and ``failed`` when
it fails; the entry itself is written by the database hook, in the transaction of the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from waba_cli.services.context import CommandContext


def os_user() -> str:
    import getpass
    import os

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry for this uid (some containers)
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def begin(args: list[str], *, group: bool) -> None:
    """The command about to run: its words and its arguments, secrets redacted."""
    from waba_cli.db import audit
    from waba_cli.domain.audit import redact, split_command

    command, rest = split_command(args, group)
    audit.begin(command, redact(command, rest), os_user())


def failed(reason: str) -> None:
    """Record the failure of a command that changes things (best effort: the failure itself is reported anyway)."""
    from waba_cli.db import audit
    from waba_cli.domain.audit import is_read_only

    command = audit.current()
    if command is None:
        return
    import contextlib

    # the database may be what failed; the command's own error is what is reported
    with contextlib.suppress(Exception):
        audit.record_failure(reason, read_only=is_read_only(command.command))


def end() -> None:
    from waba_cli.db import audit

    audit.end()


@dataclass(frozen=True)
class AuditQuery:
    account: str | None = None
    operator: str | None = None
    since: datetime | None = None
    limit: int = 50


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    command: str
    arguments: list[Any]
    account: str | None
    outcome: str


def list_entries(ctx: CommandContext, query: AuditQuery) -> list[AuditRow]:
    """Newest first; on PostgreSQL an operator sees the entries of their accounts and their own."""
    from sqlalchemy import select

    from waba_cli.db.models.access import AuditEntry
    from waba_cli.db.models.accounts import Account
    from waba_cli.db.models.base import table_of
    from waba_cli.services.accounts.store import get_account

    entries, accounts = table_of(AuditEntry), table_of(Account)
    statement = (
        select(entries, accounts.c.name.label("account_name"))
        .outerjoin(accounts, accounts.c.id == entries.c.account_id)
        .order_by(entries.c.id.desc())
        .limit(query.limit)
    )
    with ctx.db.session() as session:
        if query.account:
            statement = statement.where(entries.c.account_id == get_account(session, query.account).id)
        if query.operator:
            statement = statement.where(entries.c.actor == query.operator)
        if query.since:
            statement = statement.where(entries.c.at >= query.since)
        rows = session.execute(statement).all()
    return [AuditRow(r.id, r.at, r.actor, r.command, list(r.arguments or []), r.account_name, r.outcome) for r in rows]
