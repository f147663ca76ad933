"""Writing many rows fast: one insert-or-ignore, and the hot loops' batched writes at the driver's level.

The webhook writer and the campaign send loop write thousands of rows a second. Per row,
SQLAlchemy's executemany builds a parameter dict and runs every bind processor (the datetime one
formats through a dict, JSON is dumped, defaults are filled in): that was about half of their CPU.
``executemany`` compiles a Core statement once per database and hands the driver rows converted
here, once each: on SQLite to exactly what SQLAlchemy's processors store (UTC datetimes as its
text, JSON as text with None as NULL, booleans as 0/1), on PostgreSQL through the dialect's own
processors. A service builds the statement and the rows; how they reach the driver is this
module's business.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, DateTime, TypeDecorator, bindparam, insert

from waba_cli.db.audit import note_statement
from waba_cli.db.engine import json_text
from waba_cli.errors import OperationError

if TYPE_CHECKING:
    from sqlalchemy import Connection, Dialect, Table
    from sqlalchemy.sql.dml import Insert

# -- insert-or-ignore --------------------------------------------------------------------------

# statements are built once and reused: SQLAlchemy memoizes a statement's cache key on the object, and
# generating it again for a freshly built INSERT cost more than executing it
_IGNORING: dict[tuple[str, str, tuple[str, ...]], Insert] = {}


def insert_ignore(conn: Connection, table: Table, keys: Sequence[str]) -> Insert:
    """INSERT ... ON CONFLICT (keys) DO NOTHING on SQLite and PostgreSQL (None in a JSON column: SQL NULL)."""
    dialect = conn.dialect.name
    cache_key = (dialect, table.name, tuple(keys))
    statement = _IGNORING.get(cache_key)
    if statement is None:
        statement = _IGNORING[cache_key] = _build_insert_ignore(dialect, table, keys)
    return statement


def _build_insert_ignore(dialect: str, table: Table, keys: Sequence[str]) -> Insert:
    # Core would store the JSON text 'null' for None (SQLAlchemy's default for JSON), which reads
    # back as None but is not ``IS NULL`` to SQL, and costs a json.dumps per value
    json_null = {c.name: bindparam(c.name, type_=JSON(none_as_null=True)) for c in table.c if isinstance(c.type, JSON)}
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement = pg_insert(table)
        return (statement.values(json_null) if json_null else statement).on_conflict_do_nothing(
            index_elements=list(keys)
        )
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        lite = sqlite_insert(table)
        return (lite.values(json_null) if json_null else lite).on_conflict_do_nothing(index_elements=list(keys))
    raise OperationError(f"waba needs SQLite or PostgreSQL, not {dialect}")


_INSERTING_NEW: dict[tuple[str, str, tuple[str, ...]], Insert] = {}


def insert_new(conn: Connection, table: Table, keys: Sequence[str], row: Mapping[str, Any]) -> bool:
    """Insert ``row`` unless a row with its ``keys`` is there (``insert_ignore``); True when it went in.

    What claims a one-time action: of several writers racing on one key, exactly one gets True.
    """
    cache_key = (conn.dialect.name, table.name, tuple(keys))
    statement = _INSERTING_NEW.get(cache_key)
    if statement is None:
        returning = insert_ignore(conn, table, keys).returning(*(table.c[key] for key in keys))
        statement = _INSERTING_NEW[cache_key] = returning
    return conn.execute(statement, row).first() is not None


# -- the driver's level ------------------------------------------------------------------------

# a batch binds its clock in almost every row and a status's time twice: each is formatted once
_DATETIME_TEXT: dict[datetime, str] = {}


def _sqlite_datetime(value: datetime | None) -> str | None:
    """What SQLAlchemy stores for a UTC or naive datetime on SQLite: "YYYY-MM-DD HH:MM:SS.ffffff"."""
    if value is None:
        return None
    text = _DATETIME_TEXT.get(value)
    if text is None:
        if len(_DATETIME_TEXT) >= 4096:
            _DATETIME_TEXT.clear()
        utc = value if value.tzinfo is None or value.tzinfo is UTC else value.astimezone(UTC)
        text = _DATETIME_TEXT[value] = utc.isoformat(" ", "microseconds")[:26]
    return text


def _sqlite_json(value: Any) -> str | None:
    return None if value is None else json_text(value)


def _sqlite_bool(value: Any) -> int | None:
    return None if value is None else int(bool(value))


def _converter(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    if dialect.name == "sqlite":
        impl = type_.impl if isinstance(type_, TypeDecorator) else type_
        if isinstance(type_, JSON) or isinstance(impl, JSON):
            return _sqlite_json
        if isinstance(impl, DateTime):
            return _sqlite_datetime
        if isinstance(impl, Boolean):
            return _sqlite_bool
    process: Callable[[Any], Any] | None = type_.dialect_impl(dialect).bind_processor(dialect)
    return process


class _Compiled:
    """A Core statement compiled once for a dialect; rows (dicts of its parameters) become driver parameters."""

    def __init__(self, compiled: Any, dialect: Dialect, keys: Sequence[str]) -> None:
        self.sql: str = compiled.string
        order = list(compiled.positiontup or ()) or list(dict.fromkeys(compiled.bind_names.values()))
        # the driver takes a tuple per row (SQLite's "?") or a dict (PostgreSQL's "%(name)s")
        self.names: list[str] | None = None if compiled.positional else order
        wanted = set(keys)
        self.slots: list[tuple[str | None, Any, Any]] = []  # (parameter, converter, constant)
        for name in order:
            bind = compiled.binds[name]
            if name in wanted:
                self.slots.append((name, _converter(bind.type, dialect), None))
            else:  # a literal of the statement itself (the status ranks of a CASE)
                process = bind.type.dialect_impl(dialect).bind_processor(dialect)
                value = bind.effective_value
                self.slots.append((None, None, process(value) if process else value))

    def params(self, row: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        values = tuple(
            [
                (convert(row[name]) if convert else row[name]) if name else constant
                for name, convert, constant in self.slots
            ]
        )
        return values if self.names is None else dict(zip(self.names, values, strict=True))


# per database driver, statement and the keys of its rows: a process's engines all come from
# ``db.engine``, so statements compile alike on each (the same driver, the same JSON serializer)
_COMPILED: dict[tuple[str, str, Any, tuple[str, ...]], _Compiled | None] = {}


def _compiled(dialect: Dialect, statement: Any, keys: tuple[str, ...]) -> _Compiled | None:
    """The statement compiled for rows of ``keys``; None when a column has a Python-side default (per row)."""
    key = (dialect.name, dialect.driver, statement, keys)
    if key not in _COMPILED:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        defaults = compiled.insert_prefetch or compiled.update_prefetch
        _COMPILED[key] = None if defaults else _Compiled(compiled, dialect, keys)
    return _COMPILED[key]


def _sqlite_cursor(conn: Connection, statement: str) -> Any:
    """The driver's cursor, inside a transaction as SQLAlchemy would begin one (the caller commits).

    On SQLite a write is in-process and takes microseconds: SQLAlchemy's own ~10 µs per call would
    be a share of it. Elsewhere statements go through ``exec_driver_sql``, so SQLAlchemy still sees
    errors and lost connections, and a network round trip dwarfs that cost.
    """
    if not conn.in_transaction():
        conn.begin()
    note_statement(conn, statement)  # the audit hook does not see the driver's own cursor
    return conn.connection.cursor()


def executemany(conn: Connection, statement: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run ``statement`` once per row, in the caller's transaction; every row has the keys of the first."""
    if not rows:
        return
    compiled = _compiled(conn.dialect, statement, tuple(rows[0]))
    if compiled is None:
        conn.execute(statement, list(rows))
        return
    params = [compiled.params(row) for row in rows]
    if conn.dialect.name != "sqlite":
        conn.exec_driver_sql(compiled.sql, params)
        return
    cursor = _sqlite_cursor(conn, compiled.sql)
    try:
        cursor.executemany(compiled.sql, params)
    finally:
        cursor.close()


@functools.cache
def _insert(table: Table) -> Insert:
    return insert(table)


@functools.cache
def _returning(table: Table, identity: str) -> Insert:
    return insert(table).returning(table.c.id, table.c[identity])


def insert_ids(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], identity: str) -> list[int]:
    """Insert ``rows`` (in the caller's transaction) and return their ids, in order.

    ``identity`` names a column that tells rows apart; rows equal in it are interchangeable.
    """
    if not rows:
        return []
    compiled = _compiled(conn.dialect, _insert(table), tuple(rows[0])) if conn.dialect.name == "sqlite" else None
    if compiled is not None:
        # one INSERT per row for its rowid: the driver runs a cached statement, no RETURNING needed
        cursor = _sqlite_cursor(conn, compiled.sql)
        try:
            ids = []
            for row in rows:
                cursor.execute(compiled.sql, compiled.params(row))
                ids.append(int(cursor.lastrowid))
            return ids
        finally:
            cursor.close()
    # RETURNING in parameter order makes SQLAlchemy insert rows one statement at a time;
    # matching the returned ids by ``identity`` keeps it one statement
    returned: dict[Any, list[int]] = {}
    for row_id, value in sorted(conn.execute(_returning(table, identity), list(rows)).all()):
        returned.setdefault(value, []).append(row_id)
    return [returned[row[identity]].pop(0) for row in rows]
