"""`waba db copy --to URL`: a populated SQLite database moved into an empty one (PostgreSQL when the
suite runs against it, else another SQLite file), row for row, with sequences that go on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.support import analytics as week
from waba_cli.db.engine import Database, open_database
from waba_cli.services.db_copy import tables_in_order


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """The source is always SQLite here (the root conftest's is PostgreSQL under WABA_TEST_DATABASE_URL);
    created like `waba init` does (no other command creates a database)."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700, exist_ok=True)
    shutil.copy(sqlite_template, home / "waba.db")
    return f"sqlite:///{home / 'waba.db'}"


@pytest.fixture
def populated(account: Any, db: Database, waba: Any) -> Database:
    week.build(db)
    week.webhook_statuses(db)  # status rows and webhook events
    week.late_status(db)
    assert waba("analytics", "report", "--since", "2026-03-01", "--json").code == 0  # analytics rows
    return db


def _rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    found = {}
    with db.engine.connect() as conn:
        for table in tables_in_order():
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            found[table.name] = [tuple(row) for row in rows]
    return found


def test_every_row_arrives_as_it_was(populated: Database, waba: Any, empty_database_url: str) -> None:
    result = waba("db", "copy", "--to", empty_database_url, "--json")
    assert result.code == 0, result.err
    report = result.json()
    target = open_database(empty_database_url, migrate=False)  # the copy brought the schema: nothing to migrate
    try:
        before, after = _rows(populated), _rows(target)
        assert after == before
        counted = {entry["table"]: entry for entry in report["tables"]}
        assert counted["message"]["copied"] == len(before["message"]) > 0
        assert all(e["source_rows"] == e["copied"] == e["target_rows"] for e in report["tables"])
        assert report["rows"] == sum(len(rows) for rows in before.values())
        assert ":secret" not in json.dumps(report)
    finally:
        target.dispose()


def test_the_copy_answers_as_the_source_did_and_numbers_new_rows_after_the_copied_ones(
    populated: Database, waba: Any, empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from waba_cli.db.models.messages import Message

    assert waba("db", "copy", "--to", empty_database_url).code == 0
    commands = [("account", "list", "--json"), ("message", "list", "--json"), ("events", "list", "--json")]
    here = [waba(*command).out for command in commands]
    monkeypatch.setenv("WABA_DATABASE_URL", empty_database_url)
    assert [waba(*command).out for command in commands] == here
    target = open_database(empty_database_url, migrate=False)
    try:
        with target.transaction() as session:
            top = max(m.id or 0 for m in session.exec(select(Message)).scalars())
            account_id = session.exec(select(Message)).scalars().first().account_id  # type: ignore[union-attr]
            new = Message(account_id=account_id, direction="out", contact=week.US_A, type="text", status="queued")
            session.add(new)
            session.flush()
            assert new.id == top + 1  # the sequence goes on after the copied ids
    finally:
        target.dispose()


def test_a_target_that_holds_data_is_refused_and_left_alone(
    populated: Database, waba: Any, empty_database_url: str
) -> None:
    assert waba("db", "copy", "--to", empty_database_url).code == 0
    again = waba("db", "copy", "--to", empty_database_url)
    assert again.code == 2
    assert "already holds waba data" in again.err
    target = open_database(empty_database_url, migrate=False)
    try:
        assert _rows(target) == _rows(populated)
    finally:
        target.dispose()


def test_a_failure_half_way_leaves_the_target_empty(
    populated: Database, waba: Any, empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from waba_cli.db import copying

    real = copying.copy_table

    def failing(source: Any, target: Any, table: Any, batch: int = copying.BATCH_ROWS) -> int:
        if table.name == "message_status":
            raise copying.SQLAlchemyError("disk full")
        return real(source, target, table, batch)

    monkeypatch.setattr(copying, "copy_table", failing)
    result = waba("db", "copy", "--to", empty_database_url)
    assert result.code == 1
    assert "rolled back" in result.err
    target = open_database(empty_database_url, migrate=True)
    try:
        assert all(not rows for rows in _rows(target).values())
    finally:
        target.dispose()


def test_copying_into_itself_or_a_bad_url_is_exit_2(populated: Database, waba: Any, database_url: str) -> None:
    assert waba("db", "copy", "--to", database_url).code == 2
    bad = waba("db", "copy", "--to", "not a url")
    assert bad.code == 2
    assert "not a valid" in bad.err
