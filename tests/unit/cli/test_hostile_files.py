"""Files waba parses, made hostile: too deep or too big is exit 2 with the reason, never an
unexpected error (RecursionError) and nothing sent. The Graph base URL of the test world cannot
be reached, so a command that got past the file would fail otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from waba_cli.errors import UsageError
from waba_cli.services.bot import KnowledgeBase

DEEP = 100_000
DEEP_JSON = "[" * DEEP + "]" * DEEP
DEEP_TOML = "key = " + "[" * DEEP + "]" * DEEP + "\n"
DEEP_INLINE_TOML = "key = " + "{a = " * DEEP + "1" + "}" * DEEP + "\n"


def hostile(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_text(DEEP_TOML if name.endswith(".toml") else DEEP_JSON, encoding="utf-8")
    return path


def refused(result: Any) -> None:
    assert result.code == 2, (result.code, result.err)
    assert "nested 100000 levels deep, more than the 100 waba reads" in result.err
    assert "unexpected" not in result.err and "Recursion" not in result.err
    assert len(result.err.strip().splitlines()) == 1


@pytest.mark.parametrize("name", ["setup.json", "setup.toml", "setup.txt"])
def test_a_setup_file_100000_deep(waba: Any, tmp_path: Path, name: str) -> None:
    refused(waba("account", "setup", "--from-file", str(hostile(tmp_path, name)), "--no-verify"))


@pytest.mark.parametrize("name", ["templates.json", "templates.toml"])
def test_a_template_file_100000_deep(waba: Any, account: Any, tmp_path: Path, name: str) -> None:
    path = hostile(tmp_path, name)
    refused(waba("template", "validate", "--from-file", str(path)))
    refused(waba("template", "apply", str(path), "--dry-run"))
    refused(waba("template", "create", "--from-file", str(path)))


def test_a_flow_json_100000_deep(waba: Any, account: Any, tmp_path: Path) -> None:
    refused(waba("flow", "create", "booking", "--json", str(hostile(tmp_path, "flow.json"))))


@pytest.mark.parametrize("name", ["list.json", "list.toml"])
def test_a_list_file_100000_deep(waba: Any, account: Any, tmp_path: Path, name: str) -> None:
    path = hostile(tmp_path, name)
    refused(waba("send", "interactive", "--to", "+16505550123", "--body", "Pick", "--list-file", str(path)))


def test_a_config_file_100000_deep(waba: Any, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[secrets]\n" + DEEP_INLINE_TOML, encoding="utf-8")
    refused(waba("--config", str(path), "account", "list"))


def test_a_rate_card_100000_deep(waba: Any, account: Any, tmp_path: Path) -> None:
    refused(waba("analytics", "report", "--rate-card", str(hostile(tmp_path, "rates.toml"))))


def test_a_knowledge_base_100000_deep(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="nested 100000 levels deep"):
        KnowledgeBase.load(hostile(tmp_path, "kb.toml"))


def test_a_setup_file_over_the_size_limit(waba: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "setup.json"
    path.write_text('{"name": "' + "a" * 20_000 + '"}', encoding="utf-8")
    monkeypatch.setenv("WABA_MAX_FILE_MB", "0.01")

    result = waba("account", "setup", "--from-file", str(path), "--no-verify")

    assert result.code == 2
    assert "larger than 10,485 bytes" in result.err and "WABA_MAX_FILE_MB" in result.err
