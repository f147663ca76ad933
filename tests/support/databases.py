"""PostgreSQL databases for a test run: with ``WABA_TEST_DATABASE_URL`` set, the root conftest
creates a migrated template database, and each pytest worker a clone of it that is emptied after
every test; these reach the server and keep the worker's clone."""

from __future__ import annotations

import os
import uuid
from typing import Any

PG_SERVER_URL = os.environ.get("WABA_TEST_DATABASE_URL")


def pg_admin(url: str) -> Any:
    """An engine outside transactions, as CREATE and DROP DATABASE need."""
    from sqlalchemy import create_engine

    return create_engine(url, isolation_level="AUTOCOMMIT")


def pg_url(server_url: str, database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(server_url).set(database=database).render_as_string(hide_password=False)


def drop_pg(admin: Any, name: str) -> None:
    from sqlalchemy import text

    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class PgWorkerDatabase:
    """This worker's PostgreSQL database: cloned once from the template, emptied after each test."""

    def __init__(self, admin: Any, template: str) -> None:
        self.admin = admin
        self.template = template
        self.name = f"waba_w_{uuid.uuid4().hex[:12]}"
        self.url = pg_url(PG_SERVER_URL or "", self.name)
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
        drop_pg(self.admin, self.name)
