"""The root command, and the one place that turns failures into a stderr line and an exit code.

Exit codes: 0 success, 1 the operation failed, 2 bad usage or invalid input, 130 interrupted; a
command may map all its failures to another code (``health check``: 3, Nagios' UNKNOWN).
No traceback unless ``--debug`` or ``WABA_DEBUG=1``.
"""

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from waba_cli import __version__
from waba_cli.cli import account, db, init, secrets
from waba_cli.cli.common import HELP_SETTINGS, STATE, apply_shared, env_flag

app = typer.Typer(
    name="waba",
    help=(
        "Administer WhatsApp Business Accounts from the terminal: accounts, numbers, templates, "
        "messages, campaigns, webhooks, analytics and health.\n\n"
        "Start with `waba init`, then `waba account setup --from-file setup.json`."
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings=HELP_SETTINGS,
)
init.register(app)
app.add_typer(account.app)
app.add_typer(db.app)
app.add_typer(secrets.app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"waba {__version__}")
        raise typer.Exit


@app.callback()
def root(
    config: Annotated[Path | None, typer.Option("--config", metavar="PATH", envvar="WABA_CONFIG",
                                                help="Config file (default: WABA_HOME/config.toml or the user config dir).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
    account_ref: Annotated[str | None, typer.Option("--account", "-a", metavar="ACC", help="Account name or WABA id.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    no_input: Annotated[bool, typer.Option("--no-input", help="Never prompt.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """waba: WhatsApp Business Platform administration."""
    STATE.config = config
    apply_shared(json=json_output, account=account_ref, yes=yes, no_input=no_input, debug=debug)


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"waba: {message}\n")
    return code


def run(argv: Sequence[str] | None = None) -> int:
    """Run waba with ``argv`` and return the exit code (tests call this in-process)."""
    from typer._click import exceptions as click_exceptions

    from waba_cli.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, WabaError

    STATE.reset()
    args = list(sys.argv[1:] if argv is None else argv)
    debug = env_flag("WABA_DEBUG") or "--debug" in args
    failure_exit: int | None = None
    try:
        command = typer.main.get_command(app)
        result: Any = command.main(args=args, prog_name="waba", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except click_exceptions.NoArgsIsHelpError as exc:
        sys.stdout.write(exc.ctx.get_help() + "\n" if exc.ctx else "")
        return 0
    except click_exceptions.UsageError as exc:
        callback = getattr(exc.ctx.command, "callback", None) if exc.ctx else None
        failure_exit = getattr(callback, "__waba_failure_exit__", None)
        where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        return _fail(f"{exc.format_message()}{where}", failure_exit or EXIT_USAGE)
    except click_exceptions.ClickException as exc:
        return _fail(exc.format_message(), STATE.failure_exit or exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        return _fail("interrupted", EXIT_INTERRUPTED)
    except WabaError as exc:
        if debug or STATE.debug:
            import traceback

            traceback.print_exc()
        return _fail(str(exc), STATE.failure_exit or exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, no traceback
        if debug or STATE.debug:
            raise
        detail = str(exc).splitlines()[0] if str(exc) else ""
        return _fail(f"unexpected error: {type(exc).__name__}: {detail} (run again with --debug for the traceback)",
                     STATE.failure_exit or EXIT_FAILED)
    finally:
        STATE.close()


def main() -> None:
    """The console script."""
    sys.exit(run())
