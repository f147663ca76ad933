"""Every test runs in its own world: a temporary WABA_HOME and config, its own database, its own
encryption key, no OS keyring and no network.

With ``WABA_TEST_DATABASE_URL`` (a PostgreSQL server URL), each pytest worker clones one database
from a migrated template and every test starts with it emptied (every row deleted, sequences
restarted: ~20 ms, where a CREATE DATABASE per test cost most of the run); a test that leaves the
schema changed or a table locked gets a fresh clone. Otherwise a SQLite file in its WABA_HOME.

Only fixtures live here; the values and helpers they use (the seed's setup, the keyring in memory,
waba run in process, the PostgreSQL databases) are in ``tests/support``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from cryptography.fernet import Fernet
from keyring.backends import fail
from sqlmodel import select

from tests.support.databases import PG_SERVER_URL, PgWorkerDatabase, drop_pg, pg_admin, pg_url
from tests.support.webhook import WABA_ID
from tests.support.world import GRAPH, SEED_SETUP, MemoryKeyring, invoke
from waba_cli.db.engine import Database, open_database
from waba_cli.db.models.accounts import Account

_ENV_PREFIXES = ("WABA_", "WHATSAPP_")


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C as a terminal gives it, even when the run was started in the background.

    A shell starts background jobs (`cmd &`, nohup) with SIGINT ignored, and an ignored signal stays
    ignored in every process started from them: the tests that press Ctrl-C on a campaign or the
    demo would then wait in vain. A handler (not SIG_IGN) is reset to the default in child
    processes, so the `waba` processes the stories start get Python's KeyboardInterrupt again.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


# -- databases ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    """A migrated PostgreSQL database to clone per test (None on SQLite runs)."""
    if not PG_SERVER_URL:
        yield None
        return
    from sqlalchemy import text

    admin = pg_admin(PG_SERVER_URL)
    name = f"waba_tmpl_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    open_database(pg_url(PG_SERVER_URL, name), migrate=True).dispose()
    yield name
    drop_pg(admin, name)
    admin.dispose()


@pytest.fixture(scope="session")
def pg_worker(pg_template: str | None) -> Iterator[PgWorkerDatabase | None]:
    """One PostgreSQL database per pytest worker, reused by its tests (None on SQLite runs)."""
    if pg_template is None:
        yield None
        return
    assert PG_SERVER_URL
    admin = pg_admin(PG_SERVER_URL)
    worker = PgWorkerDatabase(admin, pg_template)
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
def database_url(tmp_path: Path, pg_worker: PgWorkerDatabase | None, sqlite_template: Path) -> Iterator[str]:
    if pg_worker is None:
        home = tmp_path / "home"
        home.mkdir(mode=0o700, exist_ok=True)
        home.chmod(0o700)  # waba warns about a data directory others can read
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

    admin = pg_admin(PG_SERVER_URL)
    name = f"waba_e_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield pg_url(PG_SERVER_URL, name)
    drop_pg(admin, name)
    admin.dispose()


# -- the isolated world ------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[Path]:
    """WABA_HOME in tmp, a fresh key in the environment, no keyring, no real Graph API."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir(mode=0o700, exist_ok=True)
    home.chmod(0o700)
    monkeypatch.setenv("WABA_HOME", str(home))
    monkeypatch.setenv("WABA_DATABASE_URL", database_url)
    monkeypatch.setenv("WABA_ENCRYPTION_KEY", Fernet.generate_key().decode())
    # a base URL that cannot be reached: a test that forgets its mock fails instead of going out
    monkeypatch.setenv("WABA_GRAPH_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.delenv("NO_COLOR", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    # files the tests write into the home (config.toml ...) are the operator's alone, as waba's are:
    # waba warns about others being able to read them. Tests of those warnings loosen it themselves.
    umask = os.umask(0o077)
    yield home
    os.umask(umask)
    keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def waba() -> Any:
    return invoke


# -- accounts set up from the seed's data ------------------------------------------------------


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


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A respx router that answers every Graph call a command makes (unmatched calls fail)."""
    import httpx
    import respx

    from waba_cli.services.context import CommandContext

    router = respx.MockRouter(assert_all_called=False, base_url=GRAPH)
    monkeypatch.setattr(CommandContext, "transport", httpx.MockTransport(router.async_handler))
    return router
