"""The command line an audit entry records: words split off, secrets redacted."""

from __future__ import annotations

import pytest

from waba_cli.domain.audit import REDACTED, is_read_only, redact, split_command


def test_the_command_words_are_split_from_the_arguments() -> None:
    assert split_command(["--json", "template", "create", "t.json", "-a", "acme"], group=True) == (
        "template create",
        ["--json", "t.json", "-a", "acme"],
    )
    assert split_command(["init", "--json"], group=False) == ("init", ["--json"])


@pytest.mark.parametrize(
    ("command", "args", "expected"),
    [
        ("account update", ["--access-token", "EAAGsecret", "-a", "acme"], ["--access-token", REDACTED, "-a", "acme"]),
        ("account update", ["--app-secret=abc123"], [f"--app-secret={REDACTED}"]),
        ("number verify-code", ["+15550134567", "123456"], ["+15550134567", REDACTED]),
        ("number set-pin", ["+15550134567", "654321", "--json"], ["+15550134567", REDACTED, "--json"]),
        ("number register", ["+1555", "--pin", "111111"], ["+1555", "--pin", REDACTED]),
        (
            "db copy",
            ["--to", "postgresql+psycopg://alice:hunter2@db/waba"],
            ["--to", f"postgresql+psycopg://alice:{REDACTED}@db/waba"],
        ),
        ("db copy", ["--to=postgresql://bob:pw@db/waba"], [f"--to=postgresql://bob:{REDACTED}@db/waba"]),
        ("template create", ["t.json", "--category", "UTILITY"], ["t.json", "--category", "UTILITY"]),
    ],
)
def test_secrets_never_reach_the_trail(command: str, args: list[str], expected: list[str]) -> None:
    assert redact(command, args) == expected


def test_read_only_commands_are_known_by_their_verb() -> None:
    assert is_read_only("account list") and is_read_only("operator whoami")
    assert not is_read_only("account use") and not is_read_only("operator add")
