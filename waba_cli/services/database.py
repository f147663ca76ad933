"""What the database holds, and explicit schema upgrades."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from waba_cli.db.engine import SCHEMA_REVISION, Database, current_revision, make_engine, mask_url
from waba_cli.db.engine import upgrade as migrate
from waba_cli.db.models import all_tables
from waba_cli.db.models.base import table_of


def describe(db: Database) -> dict[str, Any]:
    """URL (password masked), backend, revisions, the row count of every table, and on PostgreSQL the
    row-level security of every table holding account data (``unprotected`` names those without)."""
    from waba_cli.db.access import check

    rows: dict[str, int] = {}
    with db.engine.connect() as conn:
        for model in all_tables():
            table = table_of(model)
            rows[table.name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        security = check(conn) if conn.dialect.name == "postgresql" else []
    return {
        "url": db.url,
        "backend": db.engine.dialect.name,
        "revision": current_revision(db.engine),
        "expected_revision": SCHEMA_REVISION,
        "rows": rows,
        "account_tables": [
            {"table": t.table, "scope": t.scope, "row_security": t.rls, "policies": t.policies} for t in security
        ],
        "unprotected": [t.table for t in security if not t.ok],
    }


def upgrade(url: str) -> tuple[str, str | None, str]:
    """Migrate the database at ``url``; returns (masked url, revision before, revision after)."""
    engine = make_engine(url, create=False)
    try:
        before, after = migrate(engine)
    finally:
        engine.dispose()
    return mask_url(url), before, after
