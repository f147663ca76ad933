"""An operator runs every `waba analytics` command the README shows, as real processes against a
real sandbox: messages sent through it, then reports, sync from Meta (the sandbox's analytics
fields and template_analytics edge), the report beside Meta's figures, the HTML page and the
dashboard (`--watch` left out: it runs until Ctrl-C); and the campaign dry run priced on the
same rate card."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.sandbox import SandboxProcess
from waba_cli.sandbox import fixtures

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_commands() -> list[str]:
    text = README.read_text()
    section = text[text.index("### Analytics") : text.index("### Health")]
    found = []
    for match in re.finditer(r"^waba analytics [^\n#]*", section, flags=re.MULTILINE):
        command = match.group(0).strip()
        if "--watch" not in command and command not in found:
            found.append(command)
    return found


def _readme_rate_card_campaigns() -> list[str]:
    """The Campaigns section's `send bulk` lines that price the plan on a rate card."""
    text = README.read_text()
    section = text[text.index("### Campaigns") : text.index("### Webhooks")]
    return [
        m.group(0).strip() for m in re.finditer(r"^waba send bulk [^\n#]*--rate-card[^\n#]*", section, re.MULTILINE)
    ]


def _waba(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "waba_cli", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        cwd=cwd,
        timeout=120,
        check=False,
    )


@pytest.fixture
def sandbox(waba: Any, tmp_path: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxProcess]:
    started = SandboxProcess()
    try:
        monkeypatch.setenv("WABA_GRAPH_BASE_URL", started.url)
        setup = tmp_path / "sandbox.json"
        setup.write_text(json.dumps(fixtures.setup_document(None)), encoding="utf-8")
        assert waba("account", "setup", "--from-file", str(setup), "--no-verify").code == 0
        yield started
    finally:
        started.stop()


def test_every_analytics_command_in_the_readme_runs_against_the_sandbox(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    assert _waba("template", "sync", cwd=tmp_path).returncode == 0
    sent = _waba("send", "template", "hello_world", "--to", "+15551230001", "--json", cwd=tmp_path)
    assert sent.returncode == 0, sent.stderr
    (tmp_path / "rates.csv").write_text(
        "country,category,price,currency\nUS,utility,0.004,USD\n*,marketing,0.025,USD\n"
    )
    commands = _readme_commands()
    assert len(commands) >= 7
    for line in commands:
        result = _waba(*shlex.split(line)[1:], cwd=tmp_path)
        assert result.returncode == 0, f"{line}: {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert (tmp_path / "report.csv").read_text().startswith("key,sent,")
    assert "<svg" in (tmp_path / "report.html").read_text()
    compared = _waba("analytics", "report", "--since", "30d", "--source", "meta", "--json", cwd=tmp_path)
    meta = json.loads(compared.stdout)["meta"]
    assert meta["synced"] and meta["currency"]
    assert sum(d["meta_sent"] or 0 for d in meta["days"]) >= 1
    assert any(t["meta_sent"] for t in meta["templates"]), meta["templates"]

    (tmp_path / "customers.csv").write_text(
        "phone,1,2,3,4\n+15551230002,Ana,8812,Friday,8812\n+4915112345678,Bo,8813,Monday,8813\n"
    )
    campaigns = _readme_rate_card_campaigns()
    assert campaigns
    for line in campaigns:
        result = _waba(*shlex.split(line)[1:], cwd=tmp_path)
        assert result.returncode == 0, f"{line}: {result.returncode}\n{result.stdout}\n{result.stderr}"
        assert "estimated cost: 0.00 USD for 2 message(s) (1 with no price on the card: DE utility)" in result.stdout
