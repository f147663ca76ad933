"""db/bulk.py: the driver-level batched write stores what SQLAlchemy Core stores, on either database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import JSON, Boolean, Column, DateTime, Integer, MetaData, String, Table, bindparam, select, update

from waba_cli.db import bulk
from waba_cli.db.engine import Database

METADATA = MetaData()
CORE = Table(
    "bulk_core",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("key", String(32), unique=True, nullable=False),
    Column("at", DateTime, nullable=True),
    Column("flag", Boolean, nullable=True),
    Column("data", JSON(none_as_null=True), nullable=True),
    Column("n", Integer, nullable=True, default=lambda: 7),  # a Python-side default: computed per row
)
FAST = CORE.to_metadata(METADATA, name="bulk_fast")
NOW = datetime(2026, 11, 30, 20, 15, 1, 234567, tzinfo=UTC)


@pytest.fixture
def tables(db: Database) -> Iterator[Database]:
    METADATA.create_all(db.engine)
    yield db
    METADATA.drop_all(db.engine)


def _rows() -> list[dict[str, Any]]:
    return [
        {"key": "a", "at": NOW, "flag": True, "data": {"caf\u00e9": [1, 2**70]}, "n": 1},
        {"key": "b", "at": NOW, "flag": False, "data": None, "n": None},
        {"key": "c", "at": None, "flag": None, "data": [], "n": 3},
    ]


def _read(db: Database, table: Table) -> list[tuple[Any, ...]]:
    with db.engine.connect() as conn:
        rows = conn.execute(select(table).order_by(table.c.key)).all()
    return [(r.key, r.at.replace(tzinfo=None) if r.at else None, r.flag, r.data, r.n) for r in rows]


def test_executemany_stores_the_rows_core_stores(tables: Database) -> None:
    with tables.engine.connect() as conn, conn.begin():
        conn.execute(CORE.insert(), _rows())
        bulk.executemany(conn, FAST.insert(), _rows())
    assert _read(tables, FAST) == _read(tables, CORE)
    with tables.engine.connect() as conn:
        assert conn.execute(select(FAST.c.key).where(FAST.c.data.is_(None))).scalars().all() == ["b"]


def test_a_column_left_to_its_python_default_goes_through_core(tables: Database) -> None:
    with tables.engine.connect() as conn, conn.begin():
        bulk.executemany(conn, FAST.insert(), [{"key": "d", "at": NOW}, {"key": "e", "at": NOW}])
    assert [row[-1] for row in _read(tables, FAST)] == [7, 7]


def test_an_update_binds_its_literals_and_converts_every_parameter(tables: Database) -> None:
    statement = (
        update(FAST)
        .where(FAST.c.key == bindparam("b_key"))
        .values(at=bindparam("b_at", type_=DateTime()), n=FAST.c.n + 10)
    )
    later = NOW + timedelta(hours=1)
    with tables.engine.connect() as conn, conn.begin():
        bulk.executemany(conn, FAST.insert(), _rows())
        bulk.executemany(conn, statement, [{"b_key": "a", "b_at": later}, {"b_key": "c", "b_at": later}])
    assert [(key, at, n) for key, at, _, _, n in _read(tables, FAST)] == [
        ("a", later.replace(tzinfo=None), 11),
        ("b", NOW.replace(tzinfo=None), None),
        ("c", later.replace(tzinfo=None), 13),
    ]


def test_on_sqlite_an_aware_time_in_another_zone_is_stored_as_utc(tables: Database) -> None:
    if tables.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL converts zones itself")
    paris = NOW.astimezone(timezone(timedelta(hours=1)))
    with tables.engine.connect() as conn, conn.begin():
        bulk.executemany(conn, FAST.insert(), [{"key": "p", "at": paris, "flag": None, "data": None, "n": 1}])
    assert _read(tables, FAST)[0][1] == NOW.replace(tzinfo=None)


def test_insert_ignore_skips_rows_whose_key_is_there(tables: Database) -> None:
    with tables.engine.connect() as conn, conn.begin():
        bulk.executemany(conn, bulk.insert_ignore(conn, FAST, ["key"]), _rows())
        bulk.executemany(conn, bulk.insert_ignore(conn, FAST, ["key"]), [{**_rows()[0], "n": 99}])
    assert [row[-1] for row in _read(tables, FAST)] == [1, None, 3]


def test_insert_new_says_whether_the_row_went_in(tables: Database) -> None:
    row = {"key": "k", "at": NOW, "flag": None, "data": None, "n": 1}
    with tables.engine.connect() as conn, conn.begin():
        first = bulk.insert_new(conn, FAST, ["key"], row)
        again = bulk.insert_new(conn, FAST, ["key"], {**row, "n": 2})
    assert (first, again) == (True, False)
    assert [r[-1] for r in _read(tables, FAST)] == [1]


def test_insert_ids_gives_each_row_its_id_in_order(tables: Database) -> None:
    rows = [{"key": k, "at": NOW, "flag": None, "data": None, "n": i} for i, k in enumerate("zyx")]
    with tables.engine.connect() as conn, conn.begin():
        ids = bulk.insert_ids(conn, FAST, rows, "key")
        stored = dict(conn.execute(select(FAST.c.id, FAST.c.key)).all())
    assert [stored[i] for i in ids] == ["z", "y", "x"]
