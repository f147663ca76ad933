"""What an audit entry says about a command line: its words, and its arguments with secrets redacted."""

from __future__ import annotations

import re

REDACTED = "***"
# an option whose name holds one of these words takes a secret value
_SECRET_WORDS = ("token", "secret", "password", "passwd", "pin", "code", "key", "credential")
# commands whose positional arguments after the first are secrets (`number set-pin NUM PIN`)
_SECRET_POSITIONALS = {"number set-pin", "number verify-code"}
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/:@\s]*:)(?P<password>[^@\s]+)(?P<tail>@)", re.IGNORECASE)
# the last word of commands that change nothing: their failures are not audited
READ_ONLY_VERBS = frozenset(
    {"list", "show", "info", "whoami", "report", "dashboard", "status", "tail", "doctor", "check", "export"}
    | {"preview", "validate", "diff", "plan", "search", "get", "metrics", "help", "completion", "version"}
    | {"copy"}  # db copy reads this database; the target is a copy, its trail the source's
)


def split_command(args: list[str], group: bool) -> tuple[str, list[str]]:
    """The command words (`template create`) and the other arguments, in their order."""
    words: list[str] = []
    rest: list[str] = []
    wanted = 2 if group else 1
    for arg in args:
        if len(words) < wanted and not arg.startswith("-"):
            words.append(arg)
        else:
            rest.append(arg)
    return " ".join(words), rest


def _is_secret_option(name: str) -> bool:
    lowered = name.lstrip("-").lower()
    return any(word in lowered for word in _SECRET_WORDS)


def redact(command: str, args: list[str]) -> list[str]:
    """``args`` with every secret replaced by ***: option values named like secrets, passwords in URLs,
    and the positional secrets of a few commands."""
    result: list[str] = []
    secret_next = False
    positional = 0
    for arg in args:
        if secret_next:
            result.append(REDACTED)
            secret_next = False
            continue
        if arg.startswith("--") and "=" in arg:
            name, _, value = arg.partition("=")
            result.append(f"{name}={REDACTED}" if _is_secret_option(name) else f"{name}={_mask_url(value)}")
            continue
        if arg.startswith("-") and len(arg) > 1:
            result.append(arg)
            secret_next = arg.startswith("--") and _is_secret_option(arg)
            continue
        positional += 1
        if command in _SECRET_POSITIONALS and positional > 1:
            result.append(REDACTED)
        else:
            result.append(_mask_url(arg))
    return result


def _mask_url(value: str) -> str:
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}{REDACTED}{m['tail']}", value)


def is_read_only(command: str) -> bool:
    return command.rsplit(" ", 1)[-1] in READ_ONLY_VERBS
