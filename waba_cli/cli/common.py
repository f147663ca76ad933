"""What every command shares: the shared options, the run state, and the command decorator.

Shared options (``--json``, ``--account/-a``, ``--yes``, ``--no-input``, ``--debug``, ``--dry-run``)
work in the command's own position (``waba account list --json``) and on the root
(``waba --json account list``). ``command()`` adds the ones a command declares to its signature, so
they show in its ``--help``, and records them in ``STATE`` before the command body runs.

This module stays cheap to import: ``waba --help`` loads it, and must not pay for SQLAlchemy,
httpx or cryptography. Everything heavy is imported inside the functions that need it.
"""

import functools
import inspect
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from waba_cli.services.context import CommandContext
    from waba_cli.ui.output import Output

F = TypeVar("F", bound=Callable[..., Any])

HELP_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@dataclass
class State:
    """Options and objects of the current run (one command per process)."""

    json: bool = False
    account: str | None = None  # --account as given: it goes into Settings; commands use the context's account
    yes: bool = False
    no_input: bool = False
    debug: bool = False
    dry_run: bool = False
    config: Path | None = None
    failure_exit: int | None = None
    failure_stdout: "Callable[[str, list[str]], str] | None" = None
    _context: "CommandContext | None" = field(default=None, repr=False)
    _output: "Output | None" = field(default=None, repr=False)

    @property
    def interactive(self) -> bool:
        """Prompts are allowed: stdin and stdout are terminals and --no-input was not given."""
        return not self.no_input and sys.stdin.isatty() and sys.stdout.isatty()

    def output(self) -> "Output":
        if self._output is None:
            from waba_cli.ui.output import Output

            self._output = Output(json_mode=self.json)
        return self._output

    def context(self, *, creating: bool = False) -> "CommandContext":
        """Settings, database, key and Graph access for this run, resolved on first use.

        ``creating``: the command creates the home and config (`waba init`); for every other one,
        a ``--config``/``WABA_CONFIG`` file or a ``WABA_HOME`` that does not exist is a usage error.
        """
        if self._context is None:
            from waba_cli.services.context import CommandContext
            from waba_cli.settings import load_settings

            settings = load_settings(
                config_path=self.config, account=self.account, debug=self.debug, check_paths=True, creating=creating
            )
            self._context = CommandContext(settings, dry_run=self.dry_run)
            if sys.stderr.isatty():
                self._context.retry_observer = functools.partial(show_retry, attempts=settings.graph_max_retries + 1)
        return self._context

    def close(self) -> None:
        if self._context is not None:
            self._context.close()

    def reset(self) -> None:
        """Forget the previous run (tests invoke several commands in one process)."""
        self.close()
        fresh = State()
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(fresh, name))


STATE = State()


def group(name: str, help_text: str, *, examples: tuple[str, ...] = ()) -> typer.Typer:
    """A command group with waba's help settings (plain help: Rich help formatting is slow to load).

    ``examples`` are command lines shown under "Examples:" in the group's --help.
    """
    if examples:
        help_text += "\n\n\b\nExamples:\n" + "\n".join(f"    {line}" for line in examples)
    return typer.Typer(
        name=name,
        help=help_text,
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        add_completion=False,
        context_settings=HELP_SETTINGS,
    )


# --format of a --from-file F (or FILE) input; "-" reads standard input
FileFormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format",
        metavar="json|toml",
        help="The input's format (default: the file name's extension, else sniffed from the content).",
    ),
]

# name -> (type, default, option); the option goes into Annotated, so it carries no default
_SHARED: dict[str, tuple[Any, Any, Any]] = {
    "json": (bool, False, typer.Option("--json", help="Print one JSON document on stdout.")),
    "account": (
        str | None,
        None,
        typer.Option(
            "--account",
            "-a",
            metavar="ACC",
            help="Account name or WABA id (default: WABA_ACCOUNT, `waba account use`, the only one).",
        ),
    ),
    "yes": (bool, False, typer.Option("--yes", "-y", help="Do not ask for confirmation.")),
    "no_input": (bool, False, typer.Option("--no-input", help="Never prompt; missing values are an error.")),
    "debug": (bool, False, typer.Option("--debug", help="Show tracebacks and debug logs.")),
    "config": (
        Path | None,
        None,
        typer.Option(
            "--config",
            metavar="PATH",
            help="Config file, which must exist (default: $WABA_CONFIG, $WABA_HOME/config.toml).",
        ),
    ),
    "dry_run": (bool, False, typer.Option("--dry-run", help="Print the request(s) it would send; change nothing.")),
}
_DEFAULT_SHARED = ("json", "no_input")
_ALWAYS = ("debug", "config", "no_input")  # every command takes these (--no-input: scripts pass it uniformly)


def apply_shared(**values: Any) -> None:
    """Merge shared option values into STATE (a flag set anywhere stays set)."""
    for name, value in values.items():
        if name in ("account", "config"):
            if value:
                setattr(STATE, name, value)
        elif value:
            setattr(STATE, name, True)
    if STATE.debug:
        import logging

        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")


def command(
    app: typer.Typer,
    name: str | None = None,
    *,
    shared: tuple[str, ...] = _DEFAULT_SHARED,
    failure_exit: int | None = None,
    failure_stdout: Callable[[str, list[str]], str] | None = None,
    **kwargs: Any,
) -> Callable[[F], F]:
    """Register a command on ``app`` with the shared options in ``shared``.

    ``failure_exit`` maps every failure of the command (usage errors included) to that exit code,
    for commands whose exit codes follow another convention (``health check``: Nagios' 3);
    ``failure_stdout(message, args)`` is then also printed on stdout, where a monitor reads.
    The docstring is the help text; its first paragraph is the summary.
    """

    options = (*shared, *(o for o in _ALWAYS if o not in shared))

    def decorator(func: F) -> F:
        signature = inspect.signature(func)
        extra = [
            inspect.Parameter(
                f"shared_{opt}",
                inspect.Parameter.KEYWORD_ONLY,
                default=_SHARED[opt][1],
                annotation=Annotated[_SHARED[opt][0], _SHARED[opt][2]],
            )
            for opt in options
        ]

        @functools.wraps(func)
        def wrapper(*args: Any, **kw: Any) -> None:
            apply_shared(**{opt: kw.pop(f"shared_{opt}") for opt in options})
            STATE.failure_exit = failure_exit
            STATE.failure_stdout = failure_stdout
            func(*args, **kw)

        wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*signature.parameters.values(), *extra]
        )
        wrapper.__annotations__ = {**func.__annotations__, **{p.name: p.annotation for p in extra}}
        wrapper.__waba_failure_exit__ = failure_exit  # type: ignore[attr-defined]
        wrapper.__waba_failure_stdout__ = failure_stdout  # type: ignore[attr-defined]
        app.command(name, **kwargs)(wrapper)
        return func

    return decorator


def out() -> "Output":
    return STATE.output()


def command_context(*, creating: bool = False) -> "CommandContext":
    return STATE.context(creating=creating)


def confirm(question: str) -> None:
    """Ask before a destructive change; without a terminal, ``--yes`` is required. Declined: the
    command says "nothing changed" and exits 1 (it did not do what it was asked)."""
    from waba_cli.errors import EXIT_FAILED, UsageError

    if STATE.yes:
        return
    if not STATE.interactive:
        raise UsageError(f"{question.rstrip('?')}: refusing without confirmation", "add --yes")
    if not typer.confirm(question, default=False, err=True):
        out().note("nothing changed")
        raise typer.Exit(EXIT_FAILED)


def show_dry_run(request: dict[str, Any]) -> None:
    """Print a request the Graph client did not send (``--dry-run``; the token is already masked)."""
    import json

    o = out()
    if o.json_mode:
        o.json({"dry_run": True, "request": request})
        return
    o.note("dry run: nothing was sent")
    o.line(f"{request.get('method')} {request.get('url')}")
    for name, value in (request.get("headers") or {}).items():
        o.line(f"{name}: {value}")
    for key in ("json", "data", "content"):
        body = request.get(key)
        if body is not None:
            o.line(body if isinstance(body, str) else json.dumps(body, indent=2, ensure_ascii=False))


def show_retry(failure: Exception, attempt: int, delay: float, *, attempts: int) -> None:
    """One stderr line per Graph retry, as it happens (installed on a terminal only)."""
    reason = getattr(failure, "reason", None) or getattr(failure, "message", None) or str(failure)
    out().warn(f"retrying in {delay:.0f} s ({reason}): attempt {attempt} of {attempts}, Ctrl-C stops")


def note_stdin(path: Path | None) -> None:
    """Say so when ``-`` (standard input) is read from a terminal, where it waits for typing."""
    if path is not None and str(path) == "-" and sys.stdin.isatty():
        out().note("reading standard input (JSON or TOML); end it with Ctrl-D")


def env_flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false")
