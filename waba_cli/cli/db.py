"""`waba db ...`: schema upgrades and what the database holds."""

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

    \b
    Example:
        waba db info --json
    """
    from waba_cli.services.database import describe

    report = describe(command_context().db)
    o = out()
    if o.json_mode:
        o.json(report)
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
