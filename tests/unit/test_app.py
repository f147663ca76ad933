"""The one place that turns failures into a stderr line and an exit code."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer

from waba_cli.app import app
from waba_cli.cli.common import command, group
from waba_cli.errors import OperationError, ValidationError


@pytest.fixture
def probe() -> Iterator[typer.Typer]:
    """A throw-away command group `probe` registered on the real root app."""
    probe = group("probe", "Commands that fail on purpose.")

    @command(probe, "usage")
    def usage() -> None:
        """Fail with invalid input.

        \b
        Example:
            waba probe usage
        """
        raise ValidationError("phone", "is not a phone number")

    @command(probe, "remote")
    def remote() -> None:
        """Fail at run time.

        \b
        Example:
            waba probe remote
        """
        raise OperationError("Meta did not answer")

    @command(probe, "quote")
    def quote() -> None:
        """Fail quoting Meta's text.

        \b
        Example:
            waba probe quote
        """
        raise OperationError("Graph API error 100: Invalid\nwaba: all good\x1b[2J\u202e", "fix it")

    @command(probe, "crash")
    def crash() -> None:
        """Fail unexpectedly.

        \b
        Example:
            waba probe crash
        """
        raise RuntimeError("boom")

    @command(probe, "interrupt")
    def interrupt() -> None:
        """Be interrupted.

        \b
        Example:
            waba probe interrupt
        """
        raise KeyboardInterrupt

    @command(probe, "nagios", failure_exit=3)
    def nagios(count: int = 1) -> None:
        """Map every failure to 3, like `health check`.

        \b
        Example:
            waba probe nagios
        """
        raise OperationError(f"failed {count}")

    app.add_typer(probe)
    yield probe
    app.registered_groups.pop()


@pytest.mark.parametrize(
    ("path", "code", "text"),
    [
        (("usage",), 2, "waba: phone: is not a phone number"),
        (("remote",), 1, "waba: Meta did not answer"),
        (("crash",), 1, "waba: unexpected error: RuntimeError: boom (run again with --debug for the traceback)"),
        (("interrupt",), 130, "waba: interrupted"),
        (("quote",), 1, "waba: Graph API error 100: Invalid\\nwaba: all good\\x1b[2J\\u202e; fix it"),
        (("nagios",), 3, "waba: failed 1"),
        (("nagios", "--count", "x"), 3, "Invalid value for '--count'"),
    ],
)
def test_each_failure_is_one_line_with_its_exit_code(
    waba: Any, probe: typer.Typer, path: tuple[str, ...], code: int, text: str
) -> None:
    result = waba("probe", *path)
    assert result.code == code
    assert result.err.count("\n") == 1
    assert text in result.err
    assert "Traceback" not in result.err


def test_debug_shows_the_traceback(waba: Any, probe: typer.Typer, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        waba("probe", "crash", "--debug")


def test_waba_debug_variable_shows_traceback_of_expected_errors(
    waba: Any, probe: typer.Typer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WABA_DEBUG", "1")
    result = waba("probe", "remote")
    assert result.code == 1
    assert "Traceback" in result.err


def test_json_output_is_one_document(waba: Any, account: Any) -> None:
    import json

    result = waba("account", "list", "--json")
    assert isinstance(json.loads(result.out), list)


def test_piped_tables_are_plain_tab_separated(waba: Any, account: Any) -> None:
    result = waba("account", "list")
    assert result.out.splitlines()[0].split("\t")[:3] == ["", "NAME", "WABA ID"]
    assert "\x1b[" not in result.out
