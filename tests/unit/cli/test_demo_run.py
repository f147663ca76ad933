"""How `waba demo` shows and records its steps: each command once per step, copyable, with its exit
code; a failed step ends the report with its error."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from waba_cli.cli.demo_run import DemoRunner, shown
from waba_cli.errors import OperationError


class TwoSteps(DemoRunner):
    def plan(self) -> list[tuple[str, Callable[[], str]]]:
        return [("Look around", self.look), ("Break", self.fail)]

    def look(self) -> str:
        self.waba("account", "list")
        self.waba("account", "list")  # polled: shown once
        self.waba("db", "info", "--json")
        return "looked"

    def fail(self) -> str:
        self.waba("account", "show", "nobody")
        return "never"


def test_each_command_is_shown_once_per_step_and_recorded_with_its_exit_code(tmp_path: Path) -> None:
    lines: list[str] = []
    run = TwoSteps(tmp_path, lines.append)
    with pytest.raises(OperationError, match="waba account show nobody` exited 2"):
        run.all_steps()
    assert [line for line in lines if line.startswith("    $ ")] == [
        "    $ waba account list",
        "    $ waba db info --json",
        "    $ waba account show nobody",
    ]
    report = run.report(ok=False, kept=None)
    assert (report["ok"], report["steps_passed"], report["steps_total"]) == (False, 1, 2)
    first, second = report["steps"]
    assert first["commands"] == [
        {"command": "waba account list", "exit_code": 0},
        {"command": "waba db info --json", "exit_code": 0},
    ]
    assert (first["ok"], first["outcome"]) == (True, "looked")
    assert second["ok"] is False
    assert second["commands"] == [{"command": "waba account show nobody", "exit_code": 2}]
    assert "exited 2" in second["error"]


def test_a_shown_command_is_quoted_for_a_shell() -> None:
    line = shown(("send", "text", "--body", "It's here; $5 off"))
    assert shlex.split(line) == ["waba", "send", "text", "--body", "It's here; $5 off"]
