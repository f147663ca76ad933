"""Every test runs in its own world: a temporary WABA_HOME and config, its own database, its own
encryption key, no OS keyring and no network.

With ``WABA_TEST_DATABASE_URL`` (a PostgreSQL server URL), each pytest worker clones one database
from a migrated template and every test starts with it emptied (all tables truncated, sequences
restarted: ~20 ms, where a CREATE DATABASE per test cost most of the run); a test that leaves the
schema changed or a table locked gets a fresh clone. Otherwise a SQLite file in its WABA_HOME.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keyring
import pytest
from cryptography.fernet import Fernet
from keyring.backend import KeyringBackend
from keyring.backends import fail
from sqlmodel import select

from waba_cli.app import run
from waba_cli.db.engine import Database, open_database
from waba_cli.db.models.accounts import Account

FIXTURES = Path(__file__).parent / "fixtures"
PG_SERVER_URL = os.environ.get("WABA_TEST_DATABASE_URL")
_ENV_PREFIXES = ("WABA_", "WHATSAPP_")


class MemoryKeyring(KeyringBackend):
    """A keyring that keeps passwords in a dict (stands in for the OS keyring)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


# -- databases ---------------------------------------------------------------------------------


def _pg_admin(url: str) -> Any:
    from sqlalchemy import create_engine

    return create_engine(url, isolation_level="AUTOCOMMIT")


def _pg_url(server_url: str, database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(server_url).set(database=database).render_as_string(hide_password=False)


def _drop_pg(admin: Any, name: str) -> None:
    from sqlalchemy import text

    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    """A migrated PostgreSQL database to clone per test (None on SQLite runs)."""
    if not PG_SERVER_URL:
        yield None
        return
    from sqlalchemy import text

    admin = _pg_admin(PG_SERVER_URL)
    name = f"waba_tmpl_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    open_database(_pg_url(PG_SERVER_URL, name), migrate=True).dispose()
    yield name
    _drop_pg(admin, name)
    admin.dispose()


class _PgWorkerDatabase:
    """This worker's PostgreSQL database: cloned once from the template, emptied after each test."""

    def __init__(self, admin: Any, template: str) -> None:
        self.admin = admin
        self.template = template
        self.name = f"waba_w_{uuid.uuid4().hex[:12]}"
        self.url = _pg_url(PG_SERVER_URL or "", self.name)
        self.engine: Any = None
        self.tables: list[str] = []  # the tables to empty, then the schema revision
        self._clone()

    def _clone(self) -> None:
        from sqlalchemy import create_engine, text
        from sqlalchemy.pool import NullPool

        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}" TEMPLATE "{self.template}"'))
            # the tests' commits need not wait for the disk: a crash loses a test database, nothing more
            conn.execute(text(f'ALTER DATABASE "{self.name}" SET synchronous_commit = off'))
        self.engine = create_engine(self.url, poolclass=NullPool)
        self.tables = self._schema()
        from sqlmodel import SQLModel

        from waba_cli.db.models import all_tables

        all_tables()  # every table class in SQLModel.metadata, for the order of the DELETEs
        known = [table.name for table in reversed(SQLModel.metadata.sorted_tables)]
        self.order = [name for name in self.tables[:-1] if name not in known] + [
            name for name in known if name in self.tables
        ]
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT sequence_name FROM information_schema.sequences"))
            self.sequences = [row[0] for row in rows]

    def _schema(self) -> list[str]:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version' ORDER BY tablename"
                )
            )
            tables = [row[0] for row in rows]
            revision = conn.execute(text("SELECT string_agg(version_num, ',') FROM alembic_version")).scalar()
            return [*tables, f"revision {revision}"]

    def reset(self) -> None:
        """Empty every table; clone afresh if the test changed the schema or a table stays locked."""
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        try:
            if self._schema() != self.tables:
                raise LookupError("the schema changed")
            with self.engine.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '5s'"))
                # DELETE, children first: on tables of a few rows it is far cheaper than TRUNCATE,
                # which gives every table new files
                for name in self.order:
                    conn.execute(text(f'DELETE FROM "{name}"'))
                for sequence in self.sequences:
                    conn.execute(text("SELECT setval(:seq, 1, false)"), {"seq": sequence})
        except (DBAPIError, LookupError):
            self.drop()
            self._clone()

    def drop(self) -> None:
        self.engine.dispose()
        _drop_pg(self.admin, self.name)


@pytest.fixture(scope="session")
def pg_worker(pg_template: str | None) -> Iterator[_PgWorkerDatabase | None]:
    """One PostgreSQL database per pytest worker, reused by its tests (None on SQLite runs)."""
    if pg_template is None:
        yield None
        return
    assert PG_SERVER_URL
    admin = _pg_admin(PG_SERVER_URL)
    worker = _PgWorkerDatabase(admin, pg_template)
    yield worker
    worker.drop()
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file to copy per test (migrating each time would be slow)."""
    path = tmp_path_factory.mktemp("template") / "waba.db"
    open_database(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture
def database_url(tmp_path: Path, pg_worker: _PgWorkerDatabase | None, sqlite_template: Path) -> Iterator[str]:
    if pg_worker is None:
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        shutil.copy(sqlite_template, home / "waba.db")
        yield f"sqlite:///{home / 'waba.db'}"
        return
    assert pg_worker is not None
    yield pg_worker.url
    pg_worker.reset()


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database without any schema (SQLite file path, or a new empty PostgreSQL database)."""
    if not PG_SERVER_URL:
        (tmp_path / "fresh").mkdir()
        yield f"sqlite:///{tmp_path / 'fresh' / 'waba.db'}"
        return
    from sqlalchemy import text

    admin = _pg_admin(PG_SERVER_URL)
    name = f"waba_e_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield _pg_url(PG_SERVER_URL, name)
    _drop_pg(admin, name)
    admin.dispose()


# -- the isolated world ------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[Path]:
    """WABA_HOME in tmp, a fresh key in the environment, no keyring, no real Graph API."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("WABA_HOME", str(home))
    monkeypatch.setenv("WABA_DATABASE_URL", database_url)
    monkeypatch.setenv("WABA_ENCRYPTION_KEY", Fernet.generate_key().decode())
    # a base URL that cannot be reached: a test that forgets its mock fails instead of going out
    monkeypatch.setenv("WABA_GRAPH_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.delenv("NO_COLOR", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield home
    keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def invoke(*args: str, stdin: str = "") -> Result:
    """Run waba in this process, as the console script would, capturing its output."""
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdout, sys.stderr, sys.stdin
    sys.stdout, sys.stderr, sys.stdin = out, err, io.StringIO(stdin)
    try:
        code = run(list(args))
    finally:
        sys.stdout, sys.stderr, sys.stdin = old
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture
def waba() -> Any:
    return invoke


# -- account setup data ------------------------------------------------------------------------

# The seed's setup example with its placeholders replaced by realistic values.
SEED_SETUP: dict[str, Any] = {
    "name": "My Business WhatsApp",
    "waba_id": "123456789012345",
    "meta_business_account_id": "987654321098765",
    "app_id": "670843887433847",
    "app_secret": "3f6c1d9e8b7a4c2d1e0f9a8b7c6d5e4f",
    "phone_number_id": "109283746501928",
    "phone_number": "+1 555 013 4567",
    "display_phone_number": "+1 (555) 013-4567",
    "access_token": "EAAGm0PX4ZCpsBAKZCyZBqZAt3vZBZCpLmnOpQrStUvWxYz0123456789abcdefGHIJ",
    "webhook_verify_token": "verify-7f3a9c2e51b8",
    "business_name": "My Insurance Company",
    "business_description": "Leading insurance provider",
    "business_email": "contact@mycompany.com",
    "business_vertical": "Insurance",
    "business_address": "123 Business St, City, State",
    "enable_auto_reply": True,
    "use_knowledge_base": True,
    "greeting_message": "Hello! How can I help you today?",
    "fallback_message": "I'm sorry, I didn't understand. Can you rephrase?",
    "enable_business_hours": True,
    "business_hours_start": "09:00:00",
    "business_hours_end": "17:00:00",
    "business_timezone": "UTC",
    "webhook_url": "https://yourdomain.com/api/whatsapp/webhook/webhook/",
    "subscribed_webhook_events": ["messages", "message_deliveries", "message_reads"],
}
SECRETS = ("access_token", "app_secret", "webhook_verify_token")


@pytest.fixture
def setup_file(tmp_path: Path) -> Any:
    """Write setup data (the seed's, with ``changes``) to a file and return its path."""

    def write(changes: dict[str, Any] | None = None, *, drop: tuple[str, ...] = (), name: str = "setup.json") -> Path:
        data = {**SEED_SETUP, **(changes or {})}
        for key in drop:
            data.pop(key, None)
        path = tmp_path / name
        if name.endswith(".toml"):
            lines = []
            for key, value in data.items():
                lines.append(f"{key} = {json.dumps(value)}")
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        else:
            path.write_text(json.dumps(data), encoding="utf-8")
        return path

    return write


@pytest.fixture
def account(waba: Any, setup_file: Any) -> dict[str, Any]:
    """An account set up from the seed's example (not verified with Meta)."""
    result = waba("account", "setup", "--from-file", str(setup_file()), "--no-verify", "--json")
    assert result.code == 0, result.err
    data: dict[str, Any] = result.json()
    return data


@pytest.fixture
def business_changes() -> dict[str, Any]:
    """Setup values that differ from the seed's (a test module overrides this fixture)."""
    return {"enable_auto_reply": False}


@pytest.fixture
def business(waba: Any, setup_file: Any, business_changes: dict[str, Any]) -> dict[str, Any]:
    """The fixtures' business set up as an account (auto-replies off unless a module turns them on)."""
    from tests.stories.webhook.conftest import WABA_ID

    result = waba(
        "account",
        "setup",
        "--from-file",
        str(setup_file({"waba_id": WABA_ID, **business_changes})),
        "--no-verify",
        "--json",
    )
    assert result.code == 0, result.err
    data: dict[str, Any] = result.json()
    return data


# -- the database of the test, and the account in it -------------------------------------------


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """The test's database, opened as waba opens it."""
    database = open_database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def account_id(account: dict[str, Any], db: Database) -> int:
    """The row id of the ``account`` fixture's account."""
    with db.session() as session:
        row = session.exec(select(Account)).one()
        assert row.id is not None
        return row.id


# -- a mocked Graph API for commands -----------------------------------------------------------

GRAPH = "http://127.0.0.1:9/v23.0"


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A respx router that answers every Graph call a command makes (unmatched calls fail)."""
    import httpx
    import respx

    from waba_cli.services.context import CommandContext

    router = respx.MockRouter(assert_all_called=False, base_url=GRAPH)
    monkeypatch.setattr(CommandContext, "transport", httpx.MockTransport(router.async_handler))
    return router
