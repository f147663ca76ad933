"""Copying rows from one database to another, table by table, in bounded memory.

Rows are read through the tables' own column types (timestamps come back as aware datetimes, JSON
as Python values, encrypted secrets as the same Fernet tokens) and written through them again, so
what arrives is what the source held, whatever the two backends store underneath.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError

__all__ = ["BATCH_ROWS", "SQLAlchemyError", "continue_sequences", "copy_table", "rows_in", "serial_columns"]

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table

BATCH_ROWS = 5000  # rows read and written at a time: memory stays flat whatever the table's size


def rows_in(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def copy_table(source: Connection, target: Connection, table: Table, batch: int = BATCH_ROWS) -> int:
    """Copy every row of ``table`` from ``source`` to ``target`` in primary-key order; returns how many."""
    query = select(table).order_by(*table.primary_key.columns)
    copied = 0
    result = source.execution_options(stream_results=True, yield_per=batch).execute(query)
    for rows in _batches(result.mappings(), batch):
        target.execute(insert(table), rows)
        copied += len(rows)
    return copied


def _batches(rows: Iterable[Any], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(dict(row))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def serial_columns(table: Table) -> Sequence[str]:
    """The table's integer primary-key columns that a sequence numbers (PostgreSQL's SERIAL/IDENTITY)."""
    columns = list(table.primary_key.columns)
    if len(columns) != 1:
        return []
    column = columns[0]
    if column.autoincrement is False or column.type.python_type is not int:
        return []
    return [column.name]


def continue_sequences(target: Connection, table: Table) -> None:
    """After rows were written with their ids, make PostgreSQL's sequences continue above them."""
    if target.dialect.name != "postgresql":
        return  # SQLite numbers a new row from the table's highest id
    for name in serial_columns(table):
        sequence = target.execute(
            text("SELECT pg_get_serial_sequence(:table, :column)"), {"table": table.name, "column": name}
        ).scalar()
        if sequence is None:
            continue
        top = target.execute(select(func.max(table.c[name]))).scalar()
        # setval(seq, n, false): the next id is n; with nothing copied the sequence starts at 1
        target.execute(
            text("SELECT setval(CAST(:sequence AS regclass), :next, false)"),
            {"sequence": sequence, "next": int(top or 0) + 1},
        )
