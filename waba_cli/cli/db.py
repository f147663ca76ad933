"""`waba db ...`: schema upgrades and what the database holds."""

from typing import Any

from waba_cli.cli.common import command, command_context, group, out

app = group("db", "Database schema and contents.")


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
