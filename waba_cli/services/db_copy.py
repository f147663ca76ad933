"""`waba db copy --to URL`: move every row to another database (SQLite to PostgreSQL, typically).

The target gets its schema from the migrations, then every table's rows in foreign-key order, in
batches; PostgreSQL's sequences are moved past the copied ids and each table's row count is checked
against the source. All of it is one transaction on the target: a failure anywhere leaves the target
as it was. The source is read in one transaction too, so a receiver writing meanwhile cannot make
the copy inconsistent (rows it adds after the copy started are not copied: stop it first).
Nothing is decrypted: secrets travel as the Fernet tokens they are, under the same key.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import SQLModel

from waba_cli.db import copying
from waba_cli.db.audit import forget_changes
from waba_cli.db.engine import REVISIONS, SCHEMA_REVISION, current_revision, make_engine, mask_url, upgrade_in
from waba_cli.db.models import all_tables
from waba_cli.errors import OperationError, SchemaError, UsageError

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine, Table

    from waba_cli.db.engine import Database

Progress = Callable[[str, int], None]


@dataclass
class TableCopy:
    table: str
    source_rows: int
    copied: int
    target_rows: int


@dataclass
class CopyResult:
    source: str
    target: str
    revision: str
    seconds: float
    tables: list[TableCopy] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(t.copied for t in self.tables)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rows": self.rows}


def copy_database(source: Database, target_url: str, progress: Progress | None = None) -> CopyResult:
    """Copy every row of ``source`` into the empty database at ``target_url``."""
    started = time.perf_counter()
    if _same_database(str(source.engine.url), target_url):
        raise UsageError("the target is the database waba is using now", "give --to the URL of another database")
    target = make_engine(target_url)  # a URL that is not one: SchemaError, exit 2
    try:
        result = _copy(source.engine, target, progress)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise OperationError(
            f"the copy to {mask_url(target_url)} failed and was rolled back: {reason}",
            "nothing was written to the target",
        ) from None
    finally:
        target.dispose()
    result.seconds = round(time.perf_counter() - started, 2)
    return result


def tables_in_order() -> list[Table]:
    """Every waba table, parents before children (the order rows can be inserted in)."""
    all_tables()
    return list(SQLModel.metadata.sorted_tables)


def _copy(source: Engine, target: Engine, progress: Progress | None) -> CopyResult:
    revision = current_revision(target)  # an unreachable target: OperationError, exit 1
    if revision is not None and revision not in REVISIONS:
        raise SchemaError(
            f"the target database is at revision {revision}, which this waba does not know",
            "copy into an empty database, or upgrade waba",
        )
    tables = tables_in_order()
    result = CopyResult(
        source=mask_url(str(source.url)), target=mask_url(str(target.url)), revision=SCHEMA_REVISION, seconds=0.0
    )
    with source.connect() as read, target.connect() as write:
        if read.dialect.name == "postgresql":
            read.execution_options(isolation_level="REPEATABLE READ")  # one snapshot for every table
        with read.begin(), write.begin():
            # pysqlite opens a transaction only before a row is written: without BEGIN each SELECT of
            # the source would see it as it is at that moment, and the target's CREATE TABLEs would
            # be committed at once, whatever happens next
            for conn in (read, write):
                if conn.dialect.name == "sqlite":
                    conn.exec_driver_sql("BEGIN")
            if revision != SCHEMA_REVISION:
                upgrade_in(write)
            _refuse_rows(write, tables, str(target.url))
            for table in tables:
                source_rows = copying.rows_in(read, table)
                copied = copying.copy_table(read, write, table)
                copying.continue_sequences(write, table)
                entry = TableCopy(table.name, source_rows, copied, copying.rows_in(write, table))
                if not entry.source_rows == entry.copied == entry.target_rows:
                    raise OperationError(
                        f"table {table.name}: {entry.source_rows} rows in the source, {entry.copied} copied, "
                        f"{entry.target_rows} in the target; the copy was rolled back",
                    )
                result.tables.append(entry)
                if progress is not None:
                    progress(table.name, copied)
            forget_changes(write)  # the target is the source's copy: its audit trail gets no entry of its own
    return result


def _refuse_rows(conn: Connection, tables: list[Table], url: str) -> None:
    """The target must hold no waba rows: a copy never merges into existing data."""
    held = [(table.name, copying.rows_in(conn, table)) for table in tables]
    held = [(name, count) for name, count in held if count]
    if held:
        listed = ", ".join(f"{name} ({count})" for name, count in held[:4])
        more = f" and {len(held) - 4} more tables" if len(held) > 4 else ""
        raise UsageError(
            f"the target {mask_url(url)} already holds waba data: {listed}{more}",
            "copy into an empty database (createdb waba_new), never over one in use",
        )


def _same_database(a: str, b: str) -> bool:
    try:
        first, second = make_url(a), make_url(b)
    except Exception:  # noqa: BLE001 - SQLAlchemy raises several types for a bad URL; make_engine says which
        return False
    keys = ("host", "port", "database")
    same_backend = first.get_backend_name() == second.get_backend_name()
    return same_backend and all(getattr(first, k) == getattr(second, k) for k in keys)
