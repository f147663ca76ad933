"""`waba db ...`: schema upgrades and what the database holds."""

from typing import Annotated, Any

import typer

from waba_cli.cli.common import command, command_context, group, out

app = group(
    "db",
    "Database schema and contents.",
    examples=(
        "waba db info",
        "waba db upgrade",
    ),
)


@command(app, "upgrade", shared=("json", "debug"))
def upgrade() -> None:
    """Migrate the database schema to this waba's version.

    SQLite databases are upgraded automatically; on PostgreSQL, where several instances may share
    the database, this command is the only way (it takes a lock, so running it from several
    machines at once is safe).

    \b
    Example:
        WABA_DATABASE_URL=postgresql+psycopg://waba@db/waba waba db upgrade
    """
    from waba_cli.services.database import upgrade as migrate

    url, before, after = migrate(command_context().settings.database_url)
    o = out()
    if o.json_mode:
        o.json({"database": url, "from": before, "to": after})
        return
    if before == after:
        o.success(f"{url} is already at {after}")
    else:
        o.success(f"{url} upgraded from {before or 'empty'} to {after}")


@command(app, "info", shared=("json", "debug"))
def info() -> None:
    """Show the database URL (password masked), schema revision and row counts.

    On PostgreSQL also every table holding account data, with its row-level security and policies;
    a table without them is named on stderr and the command exits 1.

    \b
    Example:
        waba db info --json
    """
    from waba_cli.services.database import describe

    report = describe(command_context().db)
    o = out()
    if o.json_mode:
        o.json(report)
        _fail_unprotected(report)
        return
    o.details(
        "database",
        [
            ("url", report["url"]),
            ("backend", report["backend"]),
            ("revision", report["revision"]),
            ("expected", report["expected_revision"]),
        ],
    )
    o.table(["TABLE", "ROWS"], sorted(report["rows"].items()))
    if report["account_tables"]:
        o.table(
            ["ACCOUNT TABLE", "BY", "ROW SECURITY", "POLICIES"],
            [
                (t["table"], t["scope"], "on" if t["row_security"] else "OFF", t["policies"])
                for t in report["account_tables"]
            ],
        )
    _fail_unprotected(report)


def _fail_unprotected(report: dict[str, Any]) -> None:
    if report["unprotected"]:
        from waba_cli.errors import OperationError

        raise OperationError(
            f"account tables without row-level security: {', '.join(report['unprotected'])}",
            "run `waba db upgrade` as the schema owner",
        )


@command(app, "copy", shared=("json", "debug"))
def copy(
    to: Annotated[
        str, typer.Option("--to", metavar="URL", help="The empty database to copy into (any SQLAlchemy URL).")
    ],
) -> None:
    """Copy every row of this database into another, empty one (SQLite to PostgreSQL, typically).

    The target gets the schema from the migrations, then every table in batches, its sequences moved
    past the copied ids, and a row-count check per table: all in one transaction, so a failure leaves
    the target as it was. Secrets are copied encrypted; keep the same encryption key. Stop
    `serve-webhook` and campaigns first: rows written after the copy started are not copied.

    \b
    Examples:
        createdb -h db.internal waba
        waba db copy --to postgresql+psycopg://waba@db.internal/waba
        WABA_DATABASE_URL=postgresql+psycopg://waba@db.internal/waba waba account list
    """
    from waba_cli.services.db_copy import copy_database

    ctx = command_context()
    o = out()

    def progress(table: str, rows: int) -> None:
        if not o.json_mode and o.is_tty:
            o.note(f"{table}: {rows:,} rows")

    result = copy_database(ctx.db, to, progress=progress)
    if o.json_mode:
        o.json(result.as_dict())
        return
    o.table(
        ["TABLE", "SOURCE", "COPIED", "TARGET"],
        [(t.table, t.source_rows, t.copied, t.target_rows) for t in result.tables if t.source_rows],
    )
    o.success(f"copied {result.rows:,} rows into {result.target} in {result.seconds:.1f} s; every count matches")
    o.note(f"use it: WABA_DATABASE_URL={result.target} (or [database] url in the config file)")
