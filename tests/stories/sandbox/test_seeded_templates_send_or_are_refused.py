"""waba's own commands against the real sandbox: every seeded template can be sent with `waba send
template`, and the sandbox refuses exactly what Meta would, with waba reporting Meta's code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.sandbox import SandboxProcess
from waba_cli.sandbox.fixtures import setup_document

CUSTOMER = "+15551231001"


@pytest.fixture
def sandbox_account(waba: Any, sandbox: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The seeded account set up (and verified) against the sandbox, templates synced."""
    monkeypatch.setenv("WABA_GRAPH_BASE_URL", sandbox.url)
    setup = tmp_path / "sandbox.json"
    setup.write_text(json.dumps(setup_document(None)), encoding="utf-8")
    created = waba("account", "setup", "--from-file", str(setup), "--json")
    assert created.code == 0, created.err
    synced = waba("template", "sync")
    assert synced.code == 0, synced.err
    return str(created.json()["name"])


@pytest.mark.parametrize(
    "arguments",
    [
        ["hello_world"],
        ["order_update", "--param", "Ana", "--param", "8812", "--param", "Friday", "--button-url-suffix", "8812"],
        ["seasonal_promotion", "--param", "Summer Sale", "--param", "Sunday", "--param", "SUN25", "--param", "25%"],
        ["welcome_back", "--param", "first_name=Pablo", "--param", "account_id=A-1042"],
        ["login_code", "--param", "482913"],
    ],
    ids=lambda a: a[0],
)
def test_every_sendable_seeded_template_goes_through(waba: Any, sandbox_account: str, arguments: list[str]) -> None:
    result = waba("send", "template", *arguments, "--to", CUSTOMER, "--json")
    assert result.code == 0, result.err
    assert result.json()["wamid"].startswith("wamid.")


@pytest.mark.parametrize("name", ["abandoned_cart", "summer_sale"])
def test_unsendable_seeded_templates_are_refused_before_sending(waba: Any, sandbox_account: str, name: str) -> None:
    result = waba("send", "template", name, "--to", CUSTOMER)
    assert result.code == 2
    assert name in result.err
