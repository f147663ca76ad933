"""The audit hook: the entry is committed with the first change (or rolled back with it), once per command."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import insert, text

from waba_cli.db import audit
from waba_cli.db.bulk import executemany
from waba_cli.db.engine import Database
from waba_cli.db.models.base import table_of
from waba_cli.db.models.logs import ApiCall
from waba_cli.db.models.webhooks import WebhookItem
from waba_cli.db.timestamps import utcnow


@pytest.fixture
def command() -> Any:
    entry = audit.begin("events replay", ["--all"], "tester")
    yield entry
    audit.end()


def _entries(db: Database) -> list[Any]:
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT command, arguments, outcome FROM audit_entry"))
        return [(c, json.loads(a) if isinstance(a, str) else a, o) for c, a, o in rows]


def _item(key: str) -> dict[str, Any]:
    return {"key": key, "field": "messages", "event_id": None, "applied_at": utcnow()}


def test_bulk_writes_are_recorded_once_with_their_transaction(db: Database, command: Any) -> None:
    items = table_of(WebhookItem)
    with db.engine.begin() as conn:  # the driver's own cursor on SQLite
        executemany(conn, insert(items), [_item("a"), _item("b")])
    with db.engine.begin() as conn:
        executemany(conn, insert(items), [_item("c")])
    assert _entries(db) == [("events replay", ["--all"], "ok")]


def test_a_rolled_back_change_leaves_no_entry(db: Database, command: Any) -> None:
    def change_then_fail() -> None:
        with db.engine.begin() as conn:
            conn.execute(insert(table_of(WebhookItem)), [_item("a")])
            raise RuntimeError

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert _entries(db) == []
    assert not command.recorded


def test_bookkeeping_alone_is_not_a_change(db: Database, command: Any) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            insert(table_of(ApiCall)),
            [{"at": utcnow(), "method": "GET", "endpoint": "/x", "status_code": 200, "latency_ms": 1, "attempt": 1}],
        )
    assert _entries(db) == []


def test_nothing_is_recorded_outside_a_command(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(insert(table_of(WebhookItem)), [_item("a")])
    assert _entries(db) == []
