"""`waba init` takes the shared options that apply to it (spec: cli.md, shared options)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.mark.parametrize("args", [("init", "--no-input"), ("--no-input", "init"), ("init", "--no-input", "--json")])
def test_init_accepts_no_input_in_either_position(waba: Any, isolated: Path, args: tuple[str, ...]) -> None:
    result = waba(*args)

    assert result.code == 0, result.err
    assert (isolated / "config.toml").exists()
    if "--json" in args:
        assert result.json()["config"] == str(isolated / "config.toml")


def test_init_help_lists_its_shared_options(waba: Any) -> None:
    help_text = waba("init", "--help").out

    for option in ("--json", "--no-input", "--debug", "--config"):
        assert option in help_text


@pytest.mark.parametrize(
    "path",
    [("message", "list"), ("message", "show", "wamid.X"), ("serve-webhook", "--port", "99999")],
    ids=" ".join,
)
def test_other_commands_of_this_area_accept_no_input(waba: Any, path: tuple[str, ...]) -> None:
    result = waba(*path, "--no-input")

    assert "No such option" not in result.err
