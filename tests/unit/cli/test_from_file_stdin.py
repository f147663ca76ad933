"""`--from-file -` (and `template apply -`) read standard input, JSON or TOML, sniffed or --format."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pexpect
import pytest

from tests.support.world import SEED_SETUP

TEMPLATE = {
    "name": "order_ready",
    "category": "UTILITY",
    "language": "en_US",
    "body_text": "Hello {{1}}, your order is ready for pickup today.",
    "examples": ["Ana"],
}
TEMPLATE_TOML = """\
[[template]]
name = "order_ready"
category = "UTILITY"
language = "en_US"
body_text = "Hello {{1}}, your order is ready for pickup today."
examples = ["Ana"]
"""


def _toml(data: dict[str, Any]) -> str:
    return "".join(f"{key} = {json.dumps(value)}\n" for key, value in data.items())


@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_account_setup_reads_stdin(waba: Any, fmt: str) -> None:
    text = json.dumps(SEED_SETUP) if fmt == "json" else _toml(SEED_SETUP)

    result = waba("account", "setup", "--from-file", "-", "--no-verify", "--json", stdin=text)

    assert result.code == 0, result.err
    assert result.json()["name"] == SEED_SETUP["name"]


def test_format_overrides_the_sniffing_and_a_mismatch_is_exit_2(waba: Any) -> None:
    result = waba("account", "setup", "--from-file", "-", "--format", "json", "--no-verify", stdin=_toml(SEED_SETUP))
    assert result.code == 2
    assert "standard input: not valid JSON" in result.err

    assert waba("account", "list", "--json").json() == []


def test_an_unknown_format_and_empty_input_are_exit_2(waba: Any) -> None:
    bad = waba("account", "setup", "--from-file", "-", "--format", "yaml", stdin="{}")
    assert bad.code == 2
    assert "--format 'yaml' is not one of json, toml" in bad.err
    empty = waba("account", "setup", "--from-file", "-", "--no-verify", stdin="")
    assert empty.code == 2
    assert "standard input: is empty" in empty.err


def test_account_update_reads_stdin(waba: Any, account: dict[str, Any]) -> None:
    result = waba("account", "update", account["name"], "--from-file", "-", "--no-verify", stdin='{"daily_limit": 250}')
    if result.code == 2 and "--no-verify" in result.err:  # before `account update --no-verify` exists
        result = waba("account", "update", account["name"], "--from-file", "-", stdin='{"daily_limit": 250}')

    assert result.code == 0, result.err
    assert waba("account", "show", account["name"], "--json").json()["daily_limit"] == 250


@pytest.mark.parametrize("text", [json.dumps(TEMPLATE), TEMPLATE_TOML], ids=["json", "toml"])
def test_template_validate_reads_stdin(waba: Any, account: dict[str, Any], text: str) -> None:
    result = waba("template", "validate", "--from-file", "-", "--json", stdin=text)

    assert result.code == 0, result.err
    assert "order_ready" in result.out


def test_template_create_reads_stdin(waba: Any, account: dict[str, Any]) -> None:
    result = waba("template", "create", "--from-file", "-", "--json", stdin=TEMPLATE_TOML)

    assert result.code == 0, result.err
    assert result.json()["name"] == "order_ready"


def test_template_apply_reads_stdin(waba: Any, account: dict[str, Any], graph: Any) -> None:
    from tests.support.templates import listed

    graph.get(path__regex=r"/message_templates$").mock(return_value=listed())

    result = waba("template", "apply", "-", "--dry-run", "--json", stdin=TEMPLATE_TOML)

    assert result.code in (0, 2), result.err  # 2: changes planned, where --detailed-exitcode is the default
    assert [item["name"] for item in result.json()["plan"]] == ["order_ready"]


def test_on_a_terminal_it_says_it_waits_for_standard_input(account: dict[str, Any]) -> None:
    waba_script = str(Path(sys.executable).with_name("waba"))
    child = pexpect.spawn(
        waba_script, ["template", "validate", "--from-file", "-"], env=dict(os.environ), encoding="utf-8", timeout=60
    )
    child.expect("reading standard input")
    child.send(TEMPLATE_TOML)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert "order_ready" in (child.before or "")
