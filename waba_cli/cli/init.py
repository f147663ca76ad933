"""`waba init`."""

import typer

from waba_cli.cli.common import command, command_context, out


def register(app: typer.Typer) -> None:
    command(app, "init")(init)


def init() -> None:
    """Create the config file, data directory, database and encryption key.

    Safe to run again: nothing that exists is replaced (never the key). The key goes to the OS
    keyring; on a machine without one (a headless server) it is written to a 0600 key file, with a
    warning. On PostgreSQL, init also migrates the schema (like `waba db upgrade`).

    The only command that creates: the WABA_HOME and --config/WABA_CONFIG paths it is given, and the
    SQLite database. The data directory is made 0700 and every file waba writes in it 0600,
    whatever the umask.

    \b
    Example:
        WABA_HOME=~/waba-test waba init
    """
    from waba_cli.services.encryption import init as do_init

    report = do_init(command_context(creating=True).settings)
    o = out()
    for warning in report.warnings:
        o.warn(warning)
    if o.json_mode:
        o.json(
            {
                "config": str(report.config_path),
                "config_created": report.config_created,
                "home": str(report.home),
                "database": report.database,
                "revision": report.revision,
                "key": {"source": report.key_source, "location": report.key_location, "created": report.key_created},
            }
        )
        return
    o.details(
        "waba is ready",
        [
            ("config", f"{report.config_path}{' (created)' if report.config_created else ''}"),
            ("data", report.home),
            ("database", f"{report.database} @ {report.revision}"),
            ("key", f"{report.key_location}{' (created)' if report.key_created else ' (existing, kept)'}"),
        ],
    )
    o.note("next: waba account setup --from-file setup.json")
