"""The audit hook: the first transaction of a command that changes something also records the command.

Light to import: ``waba_cli.app`` names each command here before it runs.

``begin()`` names the command being run (``services.audit``, fed by ``waba_cli.app``). Every
engine ``make_engine`` builds carries two listeners: one notes, per connection, a statement that
writes to a table other than the bookkeeping ones (the Graph call log, analytics roll-ups, health
and usage logs, the audit trail itself); the other, when that connection commits, inserts the audit
entry first, in the same transaction. So a command's change and its entry are committed together or
not at all. A command is recorded once (a campaign that commits a thousand batches has one entry);
when it then fails, ``record_failure`` adds an entry in a small transaction of its own.

Who: ``current_user`` on PostgreSQL (an operator cannot write an entry in another's name: the
policy checks it), the OS user elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

# writes to these alone are bookkeeping, not changes an operator made
BOOKKEEPING = frozenset(
    {
        "api_call",
        "analytics_day",
        "analytics_state",
        "analytics_meta",
        "health_run",
        "health_result",
        "health_graph_answer",
        "account_health_log",
        "account_usage_log",
        "audit_entry",
        "alembic_version",
    }
)
_WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([A-Za-z_][A-Za-z0-9_]*)"?', re.IGNORECASE)
_FLAG = "waba_audit_changed"
OUTCOME_LENGTH = 255


@dataclass
class AuditCommand:
    command: str
    arguments: list[str]
    os_user: str
    account_id: int | None = None
    recorded: bool = False
    engines: list[Engine] = field(default_factory=list)


_current: list[AuditCommand] = []


def begin(command: str, arguments: list[str], os_user: str) -> AuditCommand:
    end()
    entry = AuditCommand(command, arguments, os_user)
    _current.append(entry)
    return entry


def end() -> None:
    _current.clear()


def current() -> AuditCommand | None:
    return _current[0] if _current else None


def note_account(account_id: int | None) -> None:
    """The account the command acts on (``CommandContext.account``)."""
    command = current()
    if command is not None and account_id is not None:
        command.account_id = account_id


def mark_changed(conn: Any) -> None:
    """A change the statement listener cannot see (CREATE ROLE, run on the driver's cursor)."""
    conn.info[_FLAG] = True


def forget_changes(conn: Any) -> None:
    conn.info.pop(_FLAG, None)


def _after_execute(conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
    note_statement(conn, statement)


def note_statement(conn: Any, statement: str) -> None:
    """A statement run on ``conn``: a write to a table that is not bookkeeping marks the transaction."""
    command = current()
    if command is None or command.recorded:
        return
    match = _WRITE.match(statement)
    if match and match.group(1).lower() not in BOOKKEEPING:
        conn.info[_FLAG] = True


def _insert(conn: Any, command: AuditCommand, outcome: str) -> None:
    from sqlalchemy import insert, literal_column

    from waba_cli.db.models.access import AuditEntry
    from waba_cli.db.models.base import table_of
    from waba_cli.db.timestamps import utcnow

    actor: Any = literal_column("current_user") if conn.dialect.name == "postgresql" else command.os_user[:63]
    conn.execute(
        insert(table_of(AuditEntry)).values(
            at=utcnow(),
            actor=actor,
            command=command.command[:255],
            arguments=command.arguments,
            account_id=command.account_id,
            outcome=outcome[:OUTCOME_LENGTH],
        )
    )


def _on_commit(conn: Any) -> None:
    if not conn.info.pop(_FLAG, False):
        return
    command = current()
    if command is None or command.recorded:
        return
    command.recorded = True
    _insert(conn, command, "ok")


def _on_rollback(conn: Any) -> None:
    conn.info.pop(_FLAG, None)


def install(engine: Engine) -> None:
    """Listen on ``engine`` (every engine waba makes); idle unless a command has begun."""
    from sqlalchemy import event

    event.listen(engine, "after_cursor_execute", _after_execute)
    event.listen(engine, "commit", _on_commit)
    event.listen(engine, "rollback", _on_rollback)
    command = current()
    if command is not None:
        command.engines.append(engine)


def record_failure(reason: str, *, read_only: bool) -> bool:
    """After a failed command: an entry of its own, if the command opened the database and changes things."""
    command = current()
    if command is None or not command.engines or (read_only and not command.recorded):
        return False
    engine = command.engines[0]  # the command's own database (db copy opens its target after it)
    command.recorded = True  # the entry's own commit must not add another
    with engine.begin() as conn:
        _insert(conn, command, f"failed: {reason}")
    return True
