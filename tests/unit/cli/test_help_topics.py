"""`waba help environment` names every variable waba reads; `waba help exit-codes` the spec's table."""

from __future__ import annotations

import re
from typing import Any

from tests.support.world import REPO_ROOT

# internal: how `waba serve-webhook` hands its options to the server it execs, and the completion protocol
INTERNAL = {"WABA_SERVE_WEBHOOK_OPTIONS", "WABA_TEST_DATABASE_URL"}


def _variables_in_the_code() -> set[str]:
    found: set[str] = set()
    for path in (REPO_ROOT / "waba_cli").rglob("*.py"):
        found |= set(re.findall(r"[\"'](?:WABA|WHATSAPP)_[A-Z][A-Z_]*[\"']", path.read_text(encoding="utf-8")))
    return {name.strip("\"'") for name in found} - INTERNAL


def test_every_variable_waba_reads_is_explained_with_its_default(waba: Any) -> None:
    result = waba("help", "environment", "--json")
    assert result.code == 0, result.err
    documented = {row["name"]: row for row in result.json()}
    missing = _variables_in_the_code() - set(documented)
    assert not missing, f"not in `waba help environment`: {sorted(missing)}"
    for row in documented.values():
        assert row["meaning"] and row["default"], row
    assert {"WABA_HOME", "WABA_CONFIG", "WABA_DATABASE_URL", "WABA_ENCRYPTION_KEY", "NO_COLOR"} <= set(documented)


def test_environment_as_a_table(waba: Any) -> None:
    result = waba("help", "environment")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].split("\t") == ["VARIABLE", "MEANING", "DEFAULT"]
    assert any(line.startswith("WABA_HOME\t") for line in lines)


def test_exit_codes_are_the_specs(waba: Any) -> None:
    result = waba("help", "exit-codes", "--json")
    assert result.code == 0, result.err
    rows = result.json()
    codes: dict[str, set[int]] = {}
    for row in rows:
        codes.setdefault(row["command"], set()).add(row["code"])
    assert codes["every command"] == {0, 1, 2, 130}
    assert codes["health check"] == {0, 1, 2, 3}
    assert codes["send bulk"] == {0, 1, 2}
    assert {0, 1} <= codes["template apply"]
    assert 2 in codes["template apply --detailed-exitcode"]


def test_help_alone_lists_its_topics(waba: Any) -> None:
    result = waba("help")
    assert result.code == 0
    assert "environment" in result.out
    assert "exit-codes" in result.out
