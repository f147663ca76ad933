"""The database: engine, sessions, and the schema-revision gate.

SQLite (the default) runs in WAL mode with a busy timeout and foreign keys on. Any SQLAlchemy URL
works; PostgreSQL is tested. The schema is managed by Alembic, but Alembic is only imported when a
migration has to run: on every start the stored revision is compared with ``SCHEMA_REVISION``.

- fresh SQLite database, or an older one: upgraded automatically (one user, one file);
- PostgreSQL (several instances may share it): only ``waba db upgrade`` or ``waba init`` migrate;
  every other command refuses an older schema and says so;
- a schema newer than this waba: refused everywhere (downgrading waba is not supported).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError
from sqlmodel import Session

from waba_cli.db import audit
from waba_cli.errors import OperationError, SchemaError

# Alembic revisions in order; the last one is what this code expects. tests/unit/db keeps it equal to
# Alembic's own history, so it cannot drift.
REVISIONS: tuple[str, ...] = (
    "0001_initial",
    "0002_api_call_log",
    "0003_template_history",
    "0004_webhooks",
    "0005_templates",
    "0006_campaigns",
    "0007_lean_write_indexes",
    "0008_phone_number_coexistence",
    "0009_numbers",
    "0010_health",
    "0011_flows",
    "0012_analytics",
    "0013_campaign_pacing",
    "0014_operators",
)
SCHEMA_REVISION = REVISIONS[-1]
SQLITE_BUSY_TIMEOUT_MS = 5000
SQLITE_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
MIGRATIONS_LOCK_ID = 0x7761_6261  # "waba": the PostgreSQL advisory lock held while migrating


def mask_url(url: str) -> str:
    """The URL with its password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown without anything after "://"
        return url.split("://", 1)[0] + "://***"


def json_text(value: Any) -> str:
    """JSON columns are written with orjson (several times the standard library's speed)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # integers beyond 64 bits, non-string keys, lone surrogates: the standard library
        return json.dumps(value)


def _json_loads(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # NaN or huge integers written by an older json.dumps
        return json.loads(text)


def _sqlite_pragmas(synchronous: str, immediate: bool) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        if immediate:
            # pysqlite's own BEGIN handling is off; the "begin" listener below emits BEGIN IMMEDIATE
            dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()

    return on_connect


def _begin_immediate(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(
    url: str,
    *,
    echo: bool = False,
    sqlite_synchronous: str = "NORMAL",
    sqlite_immediate: bool = False,
    create: bool = True,
) -> Engine:
    """An engine for ``url``; for SQLite the file is checked (``sqlite_file``) and pragmas set per connection.

    SQLite options (the webhook store uses both): ``sqlite_synchronous`` (NORMAL by default: durable
    across a crash of waba; FULL also across power loss) and ``sqlite_immediate`` (every transaction
    starts with BEGIN IMMEDIATE: writers queue on the busy timeout instead of failing to upgrade a
    read lock, and savepoints behave).
    """
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - SQLAlchemy raises several types for a bad URL
        raise SchemaError(f"the database URL {mask_url(url)!r} is not a valid SQLAlchemy URL") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            sqlite_file(Path(database).expanduser(), create=create)
        if sqlite_synchronous.upper() not in SQLITE_SYNCHRONOUS:
            raise SchemaError(
                f"SQLite synchronous mode {sqlite_synchronous!r} is not one of {', '.join(SQLITE_SYNCHRONOUS)}"
            )
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            json_serializer=json_text,
            json_deserializer=_json_loads,
        )
        event.listen(engine, "connect", _sqlite_pragmas(sqlite_synchronous.upper(), sqlite_immediate))
        if sqlite_immediate:
            event.listen(engine, "begin", _begin_immediate)
        audit.install(engine)
        return engine
    try:
        engine = create_engine(
            url, echo=echo, pool_pre_ping=True, json_serializer=json_text, json_deserializer=_json_loads
        )
    except ModuleNotFoundError as exc:
        raise SchemaError(
            f"no database driver for {parsed.get_backend_name()} ({exc.name} is not installed)",
            "for PostgreSQL install the extra: pip install 'waba-cli[postgres]'",
        ) from None
    audit.install(engine)
    event.listen(engine, "handle_error", _refused_by_postgresql)
    return engine


def _refused_by_postgresql(context: Any) -> None:
    """Row-level security or a missing privilege (SQLSTATE 42501): one clear line, not a driver error."""
    if getattr(context.original_exception, "sqlstate", None) != "42501":
        return
    reason = str(context.original_exception).strip().splitlines()[0]
    raise OperationError(
        f"the database refused: {reason}",
        "this needs an account granted to you (`waba operator whoami`) or an admin role; "
        "only admins add accounts and operators",
    ) from context.original_exception


def sqlite_file(path: Path, *, create: bool) -> None:
    """Make sure the SQLite file at ``path`` is waba's own before SQLite opens it.

    A missing file is created empty with mode 0600 (in a 0700 directory) when ``create``, else it is
    a usage error that says where waba looked: only `waba init` creates a database, so a mistyped
    WABA_HOME never ends in a fresh empty one. SQLite gives its ``-wal`` and ``-shm`` files the
    database file's mode; existing ones are checked like the file and its directory (``private.check``).
    A directory waba cannot write is refused: SQLite writes its journal beside the database.
    """
    from waba_cli import private
    from waba_cli.errors import NotFoundError, UsageError

    if not path.exists():
        if not create:
            raise NotFoundError(
                f"no waba database at {path}",
                "run `waba init` to create one there, or set WABA_HOME (or WABA_DATABASE_URL) to where yours is",
            )
        private.private_dir(path.parent)
        private.create_private_file(path)
        return
    private.check(path.parent)
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        private.check(each)
    if not os.access(path.parent, os.W_OK) or not os.access(path, os.R_OK | os.W_OK):
        raise UsageError(
            f"the database {path} (or its directory) is not writable by this user",
            "SQLite writes its journal beside the database: run waba as the directory's owner or fix its permissions",
        )


def current_revision(engine: Engine) -> str | None:
    """The revision stored in the database, or None when it has no schema yet."""
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError) as exc:
        if _is_missing_table(exc):
            return None
        raise _connect_error(engine, exc) from None


def _is_missing_table(exc: SQLAlchemyError) -> bool:
    message = str(exc).lower()
    return "no such table" in message or "does not exist" in message or "undefinedtable" in message


def _connect_error(engine: Engine, exc: SQLAlchemyError) -> OperationError:
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
    return OperationError(f"cannot open the database {mask_url(str(engine.url))}: {reason}")


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Migrate to the latest revision; returns (before, after). Imports Alembic."""
    before = current_revision(engine)
    with engine.begin() as conn:
        upgrade_in(conn)
    return before, current_revision(engine) or SCHEMA_REVISION


def upgrade_in(conn: Connection) -> None:
    """Migrate to the latest revision inside the caller's transaction on ``conn`` (committed by the
    caller: on PostgreSQL and SQLite the schema changes roll back with it). Imports Alembic."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    if conn.dialect.name == "postgresql":
        # several instances may run `waba db upgrade` at once: one migrates, the others wait
        conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATIONS_LOCK_ID})
    before = None
    if inspect(conn).has_table("alembic_version"):
        before = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    config.attributes["connection"] = conn
    command.upgrade(config, "head")
    audit.forget_changes(conn)  # a migration is not a command's change
    if conn.dialect.name == "postgresql" and before != SCHEMA_REVISION:
        # every table a revision added gets the row-level security rule (idempotent)
        from waba_cli.db.access import secure

        secure(conn)


@dataclass
class Database:
    """An engine whose schema has been checked, and the sessions on it."""

    engine: Engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session; commit explicitly. Rolled back if the block raises."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session committed at the end of the block, rolled back if it raises."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @property
    def url(self) -> str:
        return mask_url(str(self.engine.url))

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(
    url: str,
    *,
    migrate: bool | None = None,
    sqlite_synchronous: str = "NORMAL",
    sqlite_immediate: bool = False,
    create: bool = True,
) -> Database:
    """Open the database at ``url`` and make sure its schema is the one this code expects.

    ``migrate``: None = automatic for SQLite only; True = migrate whatever the backend (``db upgrade``,
    ``init``); False = never migrate. ``create``: a missing SQLite file is created (``init``, tests);
    commands pass False. The SQLite options are those of ``make_engine``.
    """
    engine = make_engine(url, sqlite_synchronous=sqlite_synchronous, sqlite_immediate=sqlite_immediate, create=create)
    revision = current_revision(engine)
    if revision == SCHEMA_REVISION:
        return Database(engine)
    if revision is not None and revision not in REVISIONS:
        raise SchemaError(
            f"the database schema is at revision {revision}, which this waba does not know "
            "(it was created by a newer version)",
            "upgrade waba: pip install --upgrade waba-cli",
        )
    auto = engine.dialect.name == "sqlite" if migrate is None else migrate
    if not auto:
        state = "has no waba schema yet" if revision is None else f"is at revision {revision}"
        raise SchemaError(
            f"the database {mask_url(url)} {state}; this waba needs {SCHEMA_REVISION}",
            "run `waba db upgrade` once (it is safe while other instances run)",
        )
    upgrade(engine)
    return Database(engine)
