"""The audit trail on both backends: one entry per changing command, in the transaction of its change;
reads leave no entry; failures get their own; secrets never appear; operator commands need PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.support.world import SEED_SETUP
from waba_cli.db.engine import Database
from waba_cli.services.audit import os_user


def _actor(database_url: str) -> str:
    return make_url(database_url).username or "" if database_url.startswith("postgresql") else os_user()


def _entries(db: Database) -> list[Any]:
    with db.engine.connect() as conn:
        return list(conn.execute(text("SELECT actor, command, arguments, account_id, outcome FROM audit_entry")))


def test_a_change_is_recorded_once_with_its_secrets_redacted(
    waba: Any, setup_file: Any, db: Database, database_url: str
) -> None:
    setup = waba("account", "setup", "--from-file", str(setup_file()), "--no-verify", "--json")
    assert setup.code == 0, setup.err
    assert waba("account", "list", "--json").code == 0  # a read: no entry
    assert waba("account", "use", SEED_SETUP["name"]).code == 0

    entries = waba("audit", "list", "--json").json()
    assert [e["command"] for e in entries] == ["account use", "account setup"]
    assert {e["actor"] for e in entries} == {_actor(database_url)}
    assert entries[0]["outcome"] == "ok" and entries[0]["account"] == SEED_SETUP["name"]
    stored = str(_entries(db))
    for secret in ("access_token", "app_secret"):
        assert SEED_SETUP[secret] not in stored
    assert waba("audit", "list", "--account", SEED_SETUP["name"], "--json").json()[0]["command"] == "account use"
    assert waba("audit", "list", "--operator", "nobody", "--json").json() == []
    assert len(waba("audit", "list", "--since", "1h", "--limit", "1", "--json").json()) == 1


def test_a_failed_change_records_its_failure(waba: Any, account: dict[str, Any], db: Database) -> None:
    failed = waba("account", "use", "no-such-account")
    assert failed.code == 2
    (entry,) = [e for e in _entries(db) if e[1] == "account use"]
    assert entry[4].startswith("failed: no account 'no-such-account'")


def test_a_failed_read_records_nothing(waba: Any, account: dict[str, Any], db: Database) -> None:
    before = len(_entries(db))
    assert waba("account", "show", "no-such-account").code == 2
    assert len(_entries(db)) == before


def test_operator_commands_need_postgresql(waba: Any, database_url: str) -> None:
    result = waba("operator", "list")
    if database_url.startswith("sqlite"):
        assert result.code == 2
        assert "need PostgreSQL" in result.err and "waba db copy --to" in result.err
    else:
        assert result.code == 0, result.err


def test_operator_names_are_checked_before_anything_runs(waba: Any, database_url: str) -> None:
    if database_url.startswith("sqlite"):
        return
    for bad in ('alice"; DROP TABLE account; --', "Alice", "pg_monitor", "waba_admin", "postgres"):
        result = waba("operator", "add", bad)
        assert result.code == 2, (bad, result.err)
        assert "not a valid operator name" in result.err
