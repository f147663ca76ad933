"""Shell completion: `waba completion bash|zsh|fish`, `waba --install-completion`, and the Tab press itself.

The shell runs ``waba`` with ``_WABA_COMPLETE=complete_bash`` (or ``_zsh``, ``_fish``) and the words
typed so far in ``COMP_WORDS``/``COMP_CWORD`` (bash) or ``_TYPER_COMPLETE_ARGS`` (zsh, fish); waba
prints the candidates. Only the module of the command word already typed is imported (none typed
yet: every command word, so all of them are offered).

Values are completed by what a parameter holds, read from the local database without any Graph
call (``waba_cli.db.names``): ``--account/-a`` and every ``ACC`` argument offer account names, ``NUM``
(argument or option) the numbers, ``FLOW`` the flows, a template's ``NAME`` and ``--template`` the
templates. A new parameter gets this by using the same metavar. A completion never creates a
database, never prompts and never prints an error.
"""

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from waba_cli.cli.common import STATE, command, out

COMPLETE_VAR = "_WABA_COMPLETE"
SHELLS = ("bash", "zsh", "fish")

# (command path below `waba`, or "" for any) -> metavar -> what the parameter names
_BY_METAVAR: dict[str, dict[str, str]] = {
    "": {"ACC": "account", "[ACC]": "account", "NUM": "number", "[NUM]": "number", "FLOW": "flow"},
    "template show": {"NAME": "template"},
    "template validate": {"[NAME]": "template"},
    "template submit": {"NAME": "template"},
    "template delete": {"NAME": "template"},
    "template preview": {"NAME": "template"},
    "send template": {"NAME": "template"},
    "completion": {"bash|zsh|fish": "shell"},
}
# option names that always hold one kind, whatever their metavar
_BY_OPTION = {"--account": "account", "--template": "template", "--from": "number", "--flow": "flow"}


def register(app: typer.Typer) -> None:
    command(app, "completion", shared=())(completion)


def completion(
    shell: Annotated[str, typer.Argument(metavar="bash|zsh|fish", help="The shell to complete in.")],
    install: Annotated[
        bool, typer.Option("--install", help="Install it for this user instead of printing it.")
    ] = False,
) -> None:
    """Print the shell completion script (or install it with --install).

    It completes commands, options, and values from the local database: account names, template
    names, phone numbers and ids, flow names. `waba --install-completion` installs it for the shell
    waba runs in.

    \b
    Examples:
        waba completion bash > ~/.local/share/bash-completion/completions/waba
        waba completion zsh > "${fpath[1]}/_waba"
        waba completion fish > ~/.config/fish/completions/waba.fish
        eval "$(waba completion bash)"          # this shell only
        waba completion zsh --install
    """
    from waba_cli.errors import UsageError

    if shell not in SHELLS:
        raise UsageError(f"no completion for shell {shell!r}", f"choose one of {', '.join(SHELLS)}")
    if install:
        install_for(shell)
        return
    from typer._completion_shared import get_completion_script

    out().line(get_completion_script(prog_name="waba", complete_var=COMPLETE_VAR, shell=shell))


def detect_shell() -> str | None:
    """The shell waba runs in (its parent process, else ``$SHELL``), if one waba completes."""
    name: str | None = None
    try:
        import shellingham

        name = shellingham.detect_shell()[0]
    except Exception:  # noqa: BLE001 - no /proc, an unknown parent: fall back on $SHELL
        name = None
    if name not in SHELLS:
        name = Path(os.environ.get("SHELL", "")).name or None
    return name if name in SHELLS else None


def install_for(shell: str | None) -> None:
    """Install the completion script for ``shell`` (detected when None) in the user's shell setup."""
    from typer._completion_shared import install

    from waba_cli.errors import UsageError

    chosen = shell or detect_shell()
    if chosen is None:
        raise UsageError("cannot tell which shell this is", "name it: waba completion bash|zsh|fish --install")
    _, path = install(shell=chosen, prog_name="waba", complete_var=COMPLETE_VAR)
    o = out()
    o.note(f"{chosen} completion installed in {path}")
    o.note("it takes effect in a new shell (or source the file now)")


# -- answering a Tab press ---------------------------------------------------------------------


def answer(instruction: str, command_for: Callable[[str | None], Any], words: dict[str, Any]) -> int:
    """Print the completions the shell asked for with ``instruction`` (``complete_bash`` ...); the exit code."""
    try:
        return _answer(instruction, command_for, words)
    except SystemExit as exc:  # fish asks "are there arguments?" with the exit code
        return exc.code if isinstance(exc.code, int) else 0
    except Exception:  # a Tab press never shows a traceback
        if os.environ.get("WABA_DEBUG"):
            raise
        return 1


def _answer(instruction: str, command_for: Callable[[str | None], Any], words: dict[str, Any]) -> int:
    from typer._click import shell_completion
    from typer._click.shell_completion import CompletionItem
    from typer._completion_classes import completion_init

    what, _, shell = instruction.partition("_")
    completion_init()
    comp_cls = shell_completion.get_completion_class(shell)
    if comp_cls is None or what not in ("complete", "source"):
        sys.stderr.write(f"waba: shell completion instruction {instruction!r} is not supported\n")
        return 1
    if what == "source":
        from typer._completion_shared import get_completion_script

        sys.stdout.write(get_completion_script(prog_name="waba", complete_var=COMPLETE_VAR, shell=shell) + "\n")
        return 0
    # the words typed so far, without the root's --config/--account (not Typer options: app.run reads them)
    probe = comp_cls(None, {}, "waba", COMPLETE_VAR)  # type: ignore[arg-type]  # reads the words, builds nothing
    args, incomplete = probe.get_completion_args()
    args = _take_root_values(args)
    word = next((arg for arg in args if not arg.startswith("-")), None)
    if word is None and args and args[-1] in ("--account", "-a"):  # `waba -a <Tab>`: the root's own option

        def accounts(_args: list[str], _incomplete: str) -> list[CompletionItem]:
            return [CompletionItem(value, help=detail or None) for value, detail in stored("account", None, incomplete)]

        probe.get_completion_args = lambda: ([], incomplete)  # type: ignore[method-assign]
        probe.get_completions = accounts  # type: ignore[method-assign,assignment]
        sys.stdout.write(probe.complete() + "\n")
        return 0
    cli = command_for(word if word in words else None)
    _attach_values(cli, "")
    comp = comp_cls(cli, {}, "waba", COMPLETE_VAR)
    comp.get_completion_args = lambda: (args, incomplete)  # type: ignore[method-assign]
    sys.stdout.write(comp.complete() + "\n")
    return 0


def _take_root_values(args: list[str]) -> list[str]:
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if not arg.startswith("-"):
            return rest + args[index:]
        name, sep, inline = arg.partition("=")
        if name in ("--config", "--account", "-a") and (sep or index + 1 < len(args)):
            value = inline if sep else args[index + 1]
            if name == "--config":
                STATE.config = Path(value)
            else:
                STATE.account = value
            index += 1 if sep else 2
            continue
        rest.append(arg)
        index += 1
    return rest


def _attach_values(cmd: Any, path: str) -> None:
    """Give each parameter that holds an account, number, template or flow its completion."""
    for param in getattr(cmd, "params", []):
        kind = _kind(param, path)
        if kind is not None and getattr(param, "_custom_shell_complete", None) is None:
            param._custom_shell_complete = _completer(kind)
    for name, sub in getattr(cmd, "commands", {}).items():
        _attach_values(sub, f"{path} {name}".strip())


def _kind(param: Any, path: str) -> str | None:
    for opt in getattr(param, "opts", []):
        if getattr(param, "param_type_name", "") == "option" and opt in _BY_OPTION:
            return _BY_OPTION[opt]
    metavar = getattr(param, "metavar", None)
    if metavar is None:
        return None
    return _BY_METAVAR.get(path, {}).get(metavar) or _BY_METAVAR[""].get(metavar)


def _completer(kind: str) -> Callable[[Any, Any, str], list[Any]]:
    def complete(ctx: Any, param: Any, incomplete: str) -> list[Any]:
        from typer._click.shell_completion import CompletionItem

        if kind == "shell":
            return [CompletionItem(shell) for shell in SHELLS if shell.startswith(incomplete)]
        return [CompletionItem(value, help=detail or None) for value, detail in stored(kind, ctx, incomplete)]

    return complete


def stored(kind: str, ctx: Any, incomplete: str) -> list[tuple[str, str]]:
    """The stored values of ``kind`` that start with ``incomplete`` (names: in any case)."""
    from waba_cli.db.names import stored_names
    from waba_cli.settings import load_settings

    params = getattr(ctx, "params", {}) or {}
    config = params.get("shared_config") or STATE.config
    flag_account = params.get("shared_account") or STATE.account
    try:
        settings = load_settings(config_path=Path(config) if config else None, account=flag_account)
    except Exception:  # noqa: BLE001 - a broken config file: nothing to offer
        return []
    account = None if kind == "account" else settings.account
    wanted = incomplete.casefold()
    seen: set[str] = set()
    found: list[tuple[str, str]] = []
    for value, detail in stored_names(settings.database_url, kind, account):  # type: ignore[arg-type]
        # a value with a control character could not be typed (and would break the shell's lines)
        if value.casefold().startswith(wanted) and value not in seen and value.isprintable():
            seen.add(value)
            found.append((value, "".join(c if c.isprintable() else " " for c in detail)))
    return found
