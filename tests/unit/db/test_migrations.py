"""The schema: Alembic history, automatic and explicit upgrades, and the revision gate."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

from tests.support.world import REPO_ROOT
from waba_cli.db.engine import REVISIONS, SCHEMA_REVISION, current_revision, mask_url, open_database
from waba_cli.db.models import all_tables
from waba_cli.errors import SchemaError

MIGRATIONS = REPO_ROOT / "waba_cli" / "db" / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _migrate_to(url: str, revision: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        config = _config()
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    engine.dispose()


def test_the_revision_constants_follow_alembic_history() -> None:
    scripts = ScriptDirectory.from_config(_config())
    history = [s.revision for s in scripts.walk_revisions()][::-1]
    assert tuple(history) == REVISIONS
    assert scripts.get_current_head() == SCHEMA_REVISION


def test_models_and_migrations_describe_the_same_schema(database_url: str) -> None:
    all_tables()
    engine = create_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    engine.dispose()
    assert diff == []


def test_upgrade_from_the_first_revision_keeps_the_rows(empty_database_url: str) -> None:
    _migrate_to(empty_database_url, REVISIONS[0])
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO account (name, waba_id, app_id, app_secret_enc, access_token_enc, access_token_mask, "
                "enable_auto_reply, use_knowledge_base, enable_business_hours, business_timezone, "
                "subscribed_webhook_events, is_default, token_scopes, created_at, updated_at) VALUES "
                "('acme', '123', '456', 'enc1', 'enc2', 'EAAG…6789', false, false, false, 'UTC', '[]', true, '[]', "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
        account_id = conn.execute(text("SELECT id FROM account")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO phone_number (account_id, phone_number_id, phone_number, is_default, created_at, "
                "updated_at) "
                f"VALUES ({account_id}, '109', '+15550134567', true, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
    engine.dispose()
    assert current_revision(create_engine(empty_database_url)) == REVISIONS[0]

    db = open_database(empty_database_url, migrate=True)

    assert current_revision(db.engine) == SCHEMA_REVISION
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT name, waba_id, access_token_enc FROM account")).all() == [
            ("acme", "123", "enc2")
        ]
        assert conn.execute(text("SELECT phone_number FROM phone_number")).scalar_one() == "+15550134567"
    db.dispose()


def test_an_older_schema_is_upgraded_on_sqlite_and_refused_on_postgresql(
    empty_database_url: str, waba: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _migrate_to(empty_database_url, REVISIONS[0])
    monkeypatch.setenv("WABA_DATABASE_URL", empty_database_url)

    listed = waba("account", "list", "--json")

    if empty_database_url.startswith("sqlite"):
        assert listed.code == 0, listed.err
    else:
        assert listed.code == 2
        assert "waba db upgrade" in listed.err and REVISIONS[0] in listed.err
        upgraded = waba("db", "upgrade", "--json")
        assert upgraded.code == 0, upgraded.err
        assert upgraded.json()["from"] == REVISIONS[0] and upgraded.json()["to"] == SCHEMA_REVISION
        assert waba("account", "list", "--json").code == 0
    assert current_revision(create_engine(empty_database_url)) == SCHEMA_REVISION


def test_a_fresh_database_is_created_at_the_latest_revision(
    empty_database_url: str, waba: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WABA_DATABASE_URL", empty_database_url)
    result = waba("init", "--json")
    assert result.code == 0, result.err
    assert result.json()["revision"] == SCHEMA_REVISION
    assert waba("db", "upgrade", "--json").json()["from"] == SCHEMA_REVISION


def test_a_schema_from_a_newer_waba_is_refused(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()
    with pytest.raises(SchemaError, match="newer version"):
        open_database(database_url)


def test_db_info_counts_rows_and_masks_the_password(waba: Any, account: Any, database_url: str) -> None:
    info = waba("db", "info", "--json").json()
    assert info["revision"] == info["expected_revision"] == SCHEMA_REVISION
    assert info["rows"]["account"] == 1 and info["rows"]["phone_number"] == 1
    assert mask_url("postgresql+psycopg://waba:s3cret@db:5432/waba") == "postgresql+psycopg://waba:***@db:5432/waba"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite pragmas")
    db = open_database(database_url)
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    db.dispose()


def test_removing_an_account_cascades_to_its_numbers(waba: Any, account: Any) -> None:
    assert waba("account", "remove", "My Business WhatsApp", "--yes").code == 0
    assert waba("db", "info", "--json").json()["rows"]["phone_number"] == 0
