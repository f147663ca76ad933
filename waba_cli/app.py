"""The root command, and the one place that turns failures into a stderr line and an exit code.

Exit codes: 0 success, 1 the operation failed, 2 bad usage or invalid input, 130 interrupted; a
command may map all its failures to another code (``health check``: 3, Nagios' UNKNOWN).
No traceback unless ``--debug`` or ``WABA_DEBUG=1``.
"""

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

# waba uses no pydantic plugins; discovering them scans every installed package's metadata (~8 ms
# on each start). Set before anything imports pydantic.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from waba_cli import __version__
from waba_cli.cli.common import HELP_SETTINGS, STATE, apply_shared, env_flag

# The command words and the module under waba_cli.cli that provides each, in the order `waba --help`
# lists them: a group module has ``app`` (a Typer group), a command module ``register(app)``.
# A run imports only the module of the command it runs (`waba account list` never loads the
# template or sandbox commands); `waba --help` and unknown words get them all.
_COMMANDS: dict[str, tuple[str, bool]] = {
    "init": ("init", False),
    "usage": ("usage", False),
    "serve-webhook": ("serve", False),
    "account": ("account", True),
    "number": ("number", True),
    "db": ("db", True),
    "secrets": ("secrets", True),
    "events": ("events", True),
    "template": ("template", True),
    "send": ("send", True),
    "message": ("message", True),
    "campaign": ("campaign", True),
    "flow": ("flow", True),
    "analytics": ("analytics", True),
    "health": ("health", True),
    "sandbox": ("sandbox", True),
    "demo": ("demo", False),
    "config": ("config", True),
    "completion": ("completion", False),
    "help": ("help_topics", True),
    "operator": ("operator", True),
    "audit": ("audit", True),
}


class _RootGroup(TyperGroup):
    """The root group; its --help defaults to False instead of None.

    Typer validates every non-bool option value with pydantic, and a None default counts as
    non-bool: left alone, `waba account --help` would import pydantic just to see no --help.
    """

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None and option.default is None:
            option.default = False
        return option


def _version(value: bool) -> None:
    if value:
        typer.echo(f"waba {__version__}")
        raise typer.Exit


def _install_completion(value: bool) -> None:
    if value:
        from waba_cli.cli.completion import install_for

        install_for(None)
        raise typer.Exit


def root(
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    no_input: Annotated[bool, typer.Option("--no-input", help="Never prompt.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    install_completion: Annotated[
        bool,
        typer.Option(
            "--install-completion",
            callback=_install_completion,
            is_eager=True,
            help="Install shell completion for this shell (bash, zsh, fish); see `waba completion`.",
        ),
    ] = False,
) -> None:
    """waba: WhatsApp Business Platform administration."""
    apply_shared(json=json_output, yes=yes, no_input=no_input, debug=debug)


def build_app(only: str | None = None) -> typer.Typer:
    """The root command with every command word, or only ``only``'s (the one a run needs)."""
    import importlib

    root_app = typer.Typer(
        name="waba",
        cls=_RootGroup,
        help=(
            "Administer WhatsApp Business Accounts from the terminal: accounts, numbers, templates, "
            "messages, campaigns, webhooks, analytics and health.\n\n"
            "Try everything on this machine with `waba demo` (no Meta account needed). "
            "Start for real with `waba init`, then `waba account setup --from-file setup.json`."
        ),
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        add_completion=False,
        context_settings=HELP_SETTINGS,
    )
    root_app.callback(
        epilog="--config PATH and --account/-a ACC may also come before the command: waba -a acme account show."
    )(root)
    for word, (module_name, group) in _COMMANDS.items():
        if only is not None and word != only:
            continue
        module = importlib.import_module(f"waba_cli.cli.{module_name}")
        if group:
            root_app.add_typer(module.app)
        else:
            module.register(root_app)
    return root_app


_FULL: list[typer.Typer] = []


def _full_app() -> typer.Typer:
    """The root command with every command word, built once (tests may add to it)."""
    if not _FULL:
        _FULL.append(build_app())
    return _FULL[0]


def __getattr__(name: str) -> Any:
    """``waba_cli.app.app``: the root command with every command word (help, tests, the demo)."""
    if name == "app":
        return _full_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Root options that take a value are read here rather than by Typer: Typer validates every option
# value with pydantic, which would make `waba account --help` pay for importing it.
_ROOT_VALUE_OPTIONS = {"--config": "config", "--account": "account", "-a": "account"}


def _take_root_options(args: list[str]) -> list[str]:
    """Remove ``--config``/``--account`` given before the command word and record them in STATE."""
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        name, sep, inline = arg.partition("=")
        if name in _ROOT_VALUE_OPTIONS and (sep or index + 1 < len(args)):
            value = inline if sep else args[index + 1]
            index += 1 if sep else 2
            if _ROOT_VALUE_OPTIONS[name] == "config":
                STATE.config = Path(value)
            else:
                STATE.account = value
            continue
        if not arg.startswith("-"):
            return rest + args[index:]
        rest.append(arg)
        index += 1
    return rest


def _fail(message: str, code: int, stdout: Any = None, args: list[str] | None = None) -> int:
    """One stderr line; a command with its own failure convention also gets its stdout line.

    The message may quote Meta or a file (an error's details, a bad value): escaped, it stays one line.
    """
    from waba_cli.domain.text import printable

    sys.stderr.write(f"waba: {printable(message)}\n")
    if stdout is not None:
        sys.stdout.write(stdout(message, args or []) + "\n")
    return code


def run(argv: Sequence[str] | None = None) -> int:  # noqa: PLR0911, PLR0912 - one return per kind of failure
    """Run waba with ``argv`` and return the exit code (tests call this in-process)."""
    from typer._click import exceptions as click_exceptions

    from waba_cli.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, WabaError

    STATE.reset()
    instruction = os.environ.get("_WABA_COMPLETE")
    if instruction:  # the shell asks for completions (see waba_cli.cli.completion)
        from waba_cli.cli.completion import answer

        return answer(
            instruction, lambda word: typer.main.get_command(build_app(word) if word else _full_app()), _COMMANDS
        )
    args = _take_root_options(list(sys.argv[1:] if argv is None else argv))
    debug = env_flag("WABA_DEBUG") or "--debug" in args
    failure_exit: int | None = None
    word = next((arg for arg in args if not arg.startswith("-")), None)
    _audit_begin(word, args)
    try:
        command = typer.main.get_command(build_app(word) if word in _COMMANDS else _full_app())
        result: Any = command.main(args=args, prog_name="waba", standalone_mode=False)
        if result == EXIT_INTERRUPTED:  # Typer turns Ctrl-C into a silent exit 130
            return _fail("interrupted", EXIT_INTERRUPTED)
        return result if isinstance(result, int) else 0
    except click_exceptions.NoArgsIsHelpError as exc:
        sys.stdout.write(exc.ctx.get_help() + "\n" if exc.ctx else "")
        return 0
    except click_exceptions.UsageError as exc:
        callback = getattr(exc.ctx.command, "callback", None) if exc.ctx else None
        failure_exit = getattr(callback, "__waba_failure_exit__", None)
        if "--detailed-exitcode" in args:  # terraform's convention: 2 means changes, every error is 1
            failure_exit = EXIT_FAILED
        stdout = getattr(callback, "__waba_failure_stdout__", None)
        where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        return _fail(f"{exc.format_message()}{where}", failure_exit or EXIT_USAGE, stdout, args)
    except click_exceptions.ClickException as exc:
        _audit_failed(exc.format_message())
        return _fail(exc.format_message(), STATE.failure_exit or exc.exit_code, STATE.failure_stdout, args)
    except BrokenPipeError:
        # the reader went away (`waba ... | head`): nothing more to say, and nothing to say it to
        sys.stdout = Path(os.devnull).open("w")  # noqa: SIM115 - replaces the closed stream until exit
        return 0
    except (typer.Abort, KeyboardInterrupt):
        return _fail("interrupted", EXIT_INTERRUPTED)
    except WabaError as exc:
        if debug or STATE.debug:
            import traceback

            traceback.print_exc()
        _audit_failed(str(exc))
        return _fail(str(exc), STATE.failure_exit or exc.exit_code, STATE.failure_stdout, args)
    except Exception as exc:
        detail = str(exc).splitlines()[0] if str(exc) else ""
        _audit_failed(f"{type(exc).__name__}: {detail}")
        if debug or STATE.debug:
            raise
        return _fail(
            f"unexpected error: {type(exc).__name__}: {detail} (run again with --debug for the traceback)",
            STATE.failure_exit or EXIT_FAILED,
            STATE.failure_stdout,
            args,
        )
    finally:
        STATE.close()
        _audit_end()


def _audit_begin(word: str | None, args: list[str]) -> None:
    """Name the command for the audit trail (written by the database hook with the first change)."""
    if word in _COMMANDS and not {"--help", "-h"} & set(args):
        from waba_cli.services import audit

        audit.begin(args, group=_COMMANDS[word][1])


def _audit_failed(reason: str) -> None:
    from waba_cli.services import audit

    audit.failed(reason)


def _audit_end() -> None:
    from waba_cli.services import audit

    audit.end()


def main() -> None:
    """The console script."""
    sys.exit(run())
