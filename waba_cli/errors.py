"""Errors that reach the operator.

Every failure that waba expects is a ``WabaError``: a message (what failed and why), an optional
hint (what to do about it) and the process exit code. ``waba_cli.app.main`` is the one place that
turns them into a single stderr line; nothing else prints errors or calls ``sys.exit``.

    WabaError                     exit 1 unless stated
    ├── UsageError                exit 2: bad flags, arguments or input; nothing was sent or written
    │   ├── ConfigError           the config file is unreadable or has a bad key
    │   ├── ValidationError       a value (file, flag, prompt) failed validation
    │   ├── NotFoundError         an account, number, template ... that does not exist locally
    │   └── KeyUnavailableError   no encryption key in the environment, keyring or key file
    ├── SchemaError               exit 2: the database schema is older or newer than this waba
    └── OperationError            exit 1: the operation was attempted and failed at run time
        └── graph.errors.GraphError     Meta answered with an error (typed by code there)
            └── ...                     see waba_cli.graph.errors

An interrupted command (Ctrl-C) exits with 130; that is KeyboardInterrupt, not a WabaError.

``DryRunRequest`` is not an error: the Graph client raises it instead of sending when dry-run is
on, so that the request is shown and the whole operation unwinds without writing anything.
"""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class WabaError(Exception):
    """A failure with a message for the operator, a hint and an exit code."""

    exit_code: int = EXIT_FAILED

    def __init__(self, message: str, hint: str | None = None, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message


class UsageError(WabaError):
    """Bad usage or invalid input: nothing was sent or changed."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """The config file cannot be read or one of its settings is wrong."""


class ValidationError(UsageError):
    """A value given by the operator is invalid; ``field`` names it."""

    def __init__(self, field: str, problem: str, hint: str | None = None, *, source: str | None = None) -> None:
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{field}: {problem}", hint)
        self.field = field
        self.problem = problem


class NotFoundError(UsageError):
    """Something the operator named does not exist locally."""


class KeyUnavailableError(UsageError):
    """No encryption key could be found."""


class SchemaError(WabaError):
    """The database schema does not match this version of waba."""

    exit_code = EXIT_USAGE


class OperationError(WabaError):
    """The operation was attempted and failed (network, remote error, runtime)."""


class DryRunRequest(Exception):  # noqa: N818 - a signal, not an error
    """Raised by the Graph client in dry-run mode in place of sending ``request``."""

    def __init__(self, request: dict[str, Any]) -> None:
        super().__init__(f"dry run: {request.get('method')} {request.get('url')}")
        self.request = request
