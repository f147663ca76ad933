"""Every command explains itself: --help with an example, and a line in the README."""

from __future__ import annotations

from typing import Any

import pytest
import typer

from tests.support.world import REPO_ROOT
from waba_cli.app import app

README = (REPO_ROOT / "README.md").read_text()


def _commands() -> list[tuple[str, ...]]:
    root: Any = typer.main.get_command(app)
    found: list[tuple[str, ...]] = []

    def walk(group: Any, path: tuple[str, ...]) -> None:
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                walk(command, (*path, name))
            else:
                found.append((*path, name))

    walk(root, ())
    return found


COMMANDS = _commands()


def test_there_are_commands() -> None:
    assert ("account", "setup") in COMMANDS
    assert ("init",) in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(waba: Any, path: tuple[str, ...]) -> None:
    result = waba(*path, "--help")
    assert result.code == 0
    assert "Example" in result.out
    assert "waba " + " ".join(path) in result.out


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_is_in_the_readme(path: tuple[str, ...]) -> None:
    assert "waba " + " ".join(path) in README


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_takes_the_options_every_command_takes(waba: Any, path: tuple[str, ...]) -> None:
    """--no-input, --debug and --config, in the command's own position (a script passes them uniformly)."""
    result = waba(*path, "--help")
    for option in ("--no-input", "--debug", "--config"):
        assert option in result.out, f"waba {' '.join(path)} lacks {option}"


def _groups() -> list[tuple[str, ...]]:
    root: Any = typer.main.get_command(app)
    found: list[tuple[str, ...]] = []

    def walk(group: Any, path: tuple[str, ...]) -> None:
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                found.append((*path, name))
                walk(command, (*path, name))

    walk(root, ())
    return found


GROUPS = _groups()


def test_there_are_groups() -> None:
    assert ("account",) in GROUPS
    assert ("number", "profile") in GROUPS


@pytest.mark.parametrize("path", GROUPS, ids=" ".join)
def test_every_group_has_help_with_examples_of_its_own_commands(waba: Any, path: tuple[str, ...]) -> None:
    result = waba(*path, "--help")
    assert result.code == 0
    lines = [line.strip() for line in result.out.splitlines()]
    assert "Examples:" in lines, f"waba {' '.join(path)} --help has no Examples section"
    after = lines[lines.index("Examples:") + 1 :]
    examples = after[: after.index("")] if "" in after else after
    assert examples
    for example in examples:
        words = example.split()
        assert words[: len(path) + 1] == ["waba", *path], example
        # the word after the group is one of its commands
        subcommands = {p[len(path)] for p in COMMANDS + GROUPS if len(p) > len(path) and p[: len(path)] == path}
        assert words[len(path) + 1] in subcommands, example


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_argument_and_option_is_explained(path: tuple[str, ...]) -> None:
    """A parameter without help is one whose Annotated metadata was lost (a string annotation Typer
    cannot resolve, as ``from __future__ import annotations`` in a command module makes)."""
    command: Any = typer.main.get_command(app)
    for word in path:
        command = command.commands[word]
    unexplained = [p.name for p in command.params if not p.help and p.name != "help"]
    assert not unexplained, f"waba {' '.join(path)}: no help for {unexplained}"
