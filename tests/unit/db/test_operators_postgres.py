"""Operators on PostgreSQL: row-level security keeps each operator to the accounts granted to them,
through every command and through raw SQL; admins see all; a revoke takes effect at once; the audit
trail cannot be altered by an operator; and every account table has a policy.

These run only with WABA_TEST_DATABASE_URL (CI sets it); roles are cluster-wide, so each test
creates uniquely named roles and drops them afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from tests.support.messaging import add_inbound, add_template
from waba_cli.db.engine import Database
from waba_cli.db.models import all_tables
from waba_cli.db.models.templates import TemplateEvent
from waba_cli.db.models.webhooks import WebhookEvent


@pytest.fixture(autouse=True)
def postgresql_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("operators and row-level security need PostgreSQL (WABA_TEST_DATABASE_URL)")


@pytest.fixture
def roles(database_url: str) -> Iterator[list[str]]:
    """Names for this test's roles (unique in the cluster), dropped at the end."""
    created: list[str] = []
    yield created
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for name in created:
            conn.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
    engine.dispose()


def _name(roles: list[str], prefix: str) -> str:
    name = f"t_{prefix}_{uuid.uuid4().hex[:10]}"
    roles.append(name)
    return name


def _setup(waba: Any, setup_file: Any, name: str, digits: str) -> None:
    result = waba(
        "account",
        "setup",
        "--from-file",
        str(
            setup_file(
                {
                    "name": name,
                    "waba_id": digits * 15,
                    "meta_business_account_id": digits * 15,
                    "phone_number_id": digits * 15,
                    "phone_number": f"+1 555 013 {digits * 4}",
                    "display_phone_number": f"+1 (555) 013-{digits * 4}",
                },
                name=f"{name}.json",
            )
        ),
        "--no-verify",
        "--json",
    )
    assert result.code == 0, result.err


@pytest.fixture
def brands(waba: Any, setup_file: Any, db: Database) -> dict[str, int]:
    """Two accounts, acme and globex, each with an inbound message, a template (with its history) and a delivery."""
    _setup(waba, setup_file, "acme", "1")
    _setup(waba, setup_file, "globex", "2")
    with db.engine.connect() as conn:
        ids = {str(n): int(i) for n, i in conn.execute(text("SELECT name, id FROM account"))}
    for name, account_id in ids.items():
        add_inbound(db, account_id, contact=f"+1650555{account_id:04d}")
        add_template(db, account_id, f"{name}_welcome", [{"type": "BODY", "text": "Hi"}])
        with db.transaction() as session:
            template_id = session.execute(
                text("SELECT id FROM message_template WHERE account_id = :a"), {"a": account_id}
            ).scalar_one()
            session.add(TemplateEvent(template_row_id=template_id, source="local", event="CREATED"))
            session.add(
                WebhookEvent(
                    account_id=account_id,
                    field="messages",
                    body=b"{}",
                    body_sha256=uuid.uuid4().hex * 2,
                    summary=f"for {name}",
                    received_at=datetime.now(UTC),
                )
            )
    return ids


def _add(waba: Any, name: str, *options: str) -> str:
    result = waba("operator", "add", name, *options, "--json")
    assert result.code == 0, result.err
    password: str = result.json()["password"]
    return password


def _url(database_url: str, name: str, password: str) -> str:
    return make_url(database_url).set(username=name, password=password).render_as_string(hide_password=False)


def _as(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("WABA_DATABASE_URL", url)


def _names(rows: list[dict[str, Any]], key: str = "name") -> set[str]:
    return {str(row[key]) for row in rows}


def test_an_operator_sees_only_the_accounts_granted_through_every_command(
    waba: Any, brands: dict[str, int], roles: list[str], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = _name(roles, "alice")
    password = _add(waba, alice, "--account", "acme")
    _as(monkeypatch, _url(database_url, alice, password))

    assert _names(waba("account", "list", "--json").json()) == {"acme"}
    messages = waba("message", "list", "-a", "acme", "--json")
    assert messages.code == 0, messages.err
    assert len(messages.json()) == 1
    assert waba("message", "list", "-a", "globex", "--json").code == 2  # no such account, for her
    events = waba("events", "list", "--json")
    assert events.code == 0, events.err
    assert [e["summary"] for e in events.json()] == ["for acme"]
    templates = waba("template", "list", "-a", "acme", "--json")
    assert templates.code == 0, templates.err
    assert _names(templates.json()) == {"acme_welcome"}
    assert waba("template", "list", "-a", "globex", "--json").code == 2
    report = waba("analytics", "report", "-a", "acme", "--json")
    assert report.code == 0, report.err
    assert waba("analytics", "report", "-a", "globex", "--json").code == 2
    whoami = waba("operator", "whoami", "--json").json()
    assert whoami == {"role": alice, "kind": "operator", "admin": False, "accounts": ["acme"]}


def test_an_operator_cannot_read_or_change_another_account_even_with_raw_sql(
    waba: Any, brands: dict[str, int], roles: list[str], database_url: str
) -> None:
    alice = _name(roles, "alice")
    engine = create_engine(_url(database_url, alice, _add(waba, alice, "--account", "acme")))
    globex = brands["globex"]
    try:
        with engine.begin() as conn:
            for table in ("account", "message", "message_template", "template_event", "webhook_event"):
                assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 1, table
            assert (
                conn.execute(text("UPDATE message SET text = 'x' WHERE account_id = :b"), {"b": globex}).rowcount == 0
            )
            assert conn.execute(text("DELETE FROM account WHERE id = :b"), {"b": globex}).rowcount == 0
            assert conn.execute(text("DELETE FROM template_event")).rowcount == 1  # her own, through its template
            # her own row cannot be moved to an account she does not have
            with pytest.raises(DBAPIError, match="row-level security"), conn.begin_nested():
                conn.execute(text("UPDATE message SET account_id = :b"), {"b": globex})
            with pytest.raises(DBAPIError, match="row-level security"), conn.begin_nested():
                conn.execute(
                    text(
                        "INSERT INTO message (account_id, phone_number_id, direction, wamid, contact, type, status, "
                        "created_at) VALUES (:b, '1', 'in', 'wamid.X', '+1', 'text', 'received', now())"
                    ),
                    {"b": globex},
                )
            with pytest.raises(DBAPIError, match="permission denied"), conn.begin_nested():
                conn.execute(text("INSERT INTO operator_grant VALUES (current_user, :b, now(), 'me')"), {"b": globex})
    finally:
        engine.dispose()
    with create_engine(database_url).connect() as conn:  # as the owner: globex untouched
        assert conn.execute(text("SELECT count(*) FROM message WHERE account_id = :b"), {"b": globex}).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM template_event")).scalar_one() == 1


def test_an_admin_sees_all_and_a_revoke_takes_effect_at_once(
    waba: Any, brands: dict[str, int], roles: list[str], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, carol = _name(roles, "alice"), _name(roles, "carol")
    alice_engine = create_engine(
        _url(database_url, alice, _add(waba, alice, "--account", "acme", "--account", "globex"))
    )
    carol_url = _url(database_url, carol, _add(waba, carol, "--admin"))
    _as(monkeypatch, carol_url)
    assert _names(waba("account", "list", "--json").json()) == {"acme", "globex"}
    assert waba("operator", "whoami", "--json").json()["kind"] == "admin"
    listed = {r["name"]: r for r in waba("operator", "list", "--json").json()}
    assert listed[alice]["accounts"] == ["acme", "globex"] and listed[carol]["kind"] == "admin"
    hook = _name(roles, "hook")
    _as(monkeypatch, _url(database_url, hook, _add(waba, hook, "--service")))
    assert _names(waba("account", "list", "--json").json()) == {"acme", "globex"}  # serve-webhook's role
    assert waba("operator", "whoami", "--json").json()["kind"] == "service"
    _as(monkeypatch, carol_url)
    assert waba("operator", "grant", "t_nobody_at_all", "acme").code == 2
    try:
        with alice_engine.connect() as conn:  # one session, kept open across the revoke
            assert conn.execute(text("SELECT count(*) FROM account")).scalar_one() == 2
            conn.commit()
            revoked = waba("operator", "revoke", alice, "globex")  # by the admin
            assert revoked.code == 0, revoked.err
            entry = waba("audit", "list", "--limit", "1", "--json").json()[0]
            assert (entry["actor"], entry["command"], entry["account"]) == (carol, "operator revoke", "globex")
            assert conn.execute(text("SELECT name FROM account")).scalars().all() == ["acme"]
    finally:
        alice_engine.dispose()


def test_only_admins_manage_operators_and_add_accounts(
    waba: Any, setup_file: Any, brands: dict[str, int], roles: list[str], database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    alice, carol = _name(roles, "alice"), _name(roles, "carol")
    alice_url = _url(database_url, alice, _add(waba, alice, "--account", "acme"))
    carol_url = _url(database_url, carol, _add(waba, carol, "--admin"))
    _as(monkeypatch, alice_url)
    refused = waba("operator", "grant", alice, "globex")
    assert refused.code == 2  # globex does not exist for her
    refused = waba("operator", "add", _name(roles, "mallory"))
    assert refused.code == 1 and "admin" in refused.err
    new_account = {"name": "initech", "waba_id": "3" * 15, "phone_number_id": "3" * 15}
    refused = waba("account", "setup", "--from-file", str(setup_file(new_account, name="i.json")), "--no-verify")
    assert refused.code == 1 and "only admins add accounts" in refused.err
    _as(monkeypatch, carol_url)
    dave = _name(roles, "dave")
    assert waba("operator", "add", dave, "--account", "globex").code == 0
    assert waba("operator", "remove", dave, "--yes").code == 0
    assert dave not in _names(waba("operator", "list", "--json").json())
    assert waba("operator", "remove", "postgres", "--yes").code == 2  # not one of waba's roles


def test_the_audit_trail_records_changes_and_an_operator_cannot_alter_it(
    waba: Any, brands: dict[str, int], roles: list[str], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = _name(roles, "alice")
    password = _add(waba, alice, "--account", "acme")
    url = _url(database_url, alice, password)
    _as(monkeypatch, url)
    assert waba("account", "use", "acme").code == 0
    mine = waba("audit", "list", "--json").json()
    assert mine[0]["actor"] == alice and mine[0]["command"] == "account use" and mine[0]["outcome"] == "ok"
    assert password not in str(mine)
    assert {e["account"] for e in mine} <= {"acme", None}  # globex's setup entry is not hers to see
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in ("UPDATE audit_entry SET outcome = 'x'", "DELETE FROM audit_entry"):
                with pytest.raises(DBAPIError, match="permission denied"), conn.begin_nested():
                    conn.execute(text(statement))
            with pytest.raises(DBAPIError, match="row-level security"), conn.begin_nested():
                conn.execute(
                    text(
                        "INSERT INTO audit_entry (at, actor, command, arguments, outcome) "
                        "VALUES (now(), 'postgres', 'forged', '[]', 'ok')"
                    )
                )
    finally:
        engine.dispose()


def _account_tables() -> set[str]:
    """From the models, not from db.access: tables with an account_id, and their children, transitively."""
    all_tables()
    tables = {t.name: t for t in SQLModel.metadata.sorted_tables}
    scoped = {name for name, t in tables.items() if "account_id" in t.c or name == "account"}
    grew = True
    while grew:
        grew = False
        for name, table in tables.items():
            if name not in scoped and any(fk.column.table.name in scoped for fk in table.foreign_keys):
                scoped.add(name)
                grew = True
    return scoped


def test_every_account_table_has_row_security_and_a_policy(database_url: str, waba: Any) -> None:
    expected = _account_tables()
    assert {"account", "message", "campaign_recipient", "template_event", "registration_call"} <= expected
    with create_engine(database_url).connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.relname, c.relrowsecurity, (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) "
                "FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace"
            )
        ).all()
    state = {name: (rls, policies) for name, rls, policies in rows}
    unprotected = sorted(name for name in expected if state.get(name, (False, 0)) == (False, 0) or not state[name][1])
    assert unprotected == []
    info = waba("db", "info", "--json")
    assert info.code == 0 and info.json()["unprotected"] == []
    assert {t["table"] for t in info.json()["account_tables"]} >= expected


def test_db_info_fails_on_an_account_table_without_a_policy(database_url: str, waba: Any) -> None:
    with create_engine(database_url).begin() as conn:
        conn.execute(text("CREATE TABLE late_addition (id serial PRIMARY KEY, account_id integer)"))
    info = waba("db", "info", "--json")
    assert info.code == 1
    assert info.json()["unprotected"] == ["late_addition"]
    assert "late_addition" in info.err
