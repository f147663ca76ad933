"""`waba flow` against a real sandbox: an operator checks, creates, publishes and sends a flow, the
customer completes it, and the answers come out as a table and a CSV."""

from __future__ import annotations

import csv
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from tests.support.messaging import apply_webhook
from tests.support.sandbox import Receiver, SandboxProcess
from waba_cli.sandbox import fixtures

pytestmark = pytest.mark.slow

CUSTOMER = "+15551237001"
README = Path(__file__).resolve().parents[3] / "README.md"


def _booking(tmp_path: Path) -> Path:
    path = tmp_path / "booking.json"
    path.write_text(json.dumps(fixtures.APPOINTMENT_FLOW_JSON, indent=2), encoding="utf-8")
    return path


def test_an_operator_creates_sends_and_reads_the_answers_of_a_flow(
    waba: Any, start_sandbox: Any, receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db: Any
) -> None:
    sandbox: SandboxProcess = start_sandbox()
    monkeypatch.setenv("WABA_GRAPH_BASE_URL", sandbox.url)
    setup = tmp_path / "sandbox.json"
    setup.write_text(json.dumps(fixtures.setup_document(None)), encoding="utf-8")
    assert waba("account", "setup", "--from-file", str(setup)).code == 0

    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "version": "7.1",\n  "screens": [,]\n}', encoding="utf-8")
    refused = waba("flow", "create", "broken", "--json", str(broken))
    assert refused.code == 2
    assert "json-syntax" in refused.err and "line 3, column 15" in refused.err

    created = waba("flow", "create", "booking", "--json", str(_booking(tmp_path)), "--category", "appointment_booking")
    assert created.code == 0, created.err
    assert "created flow booking" in created.err

    invalid = tmp_path / "invalid.json"
    document = json.loads(_booking(tmp_path).read_text())
    document["screens"][0]["layout"]["children"].append({"type": "Marquee", "text": "hi"})
    invalid.write_text(json.dumps(document, indent=2), encoding="utf-8")
    rejected = waba("flow", "upload", "booking", "--json", str(invalid))
    assert rejected.code == 1
    assert "INVALID_PROPERTY_VALUE" in rejected.err and "screens[0].layout.children[3].type" in rejected.err
    assert waba("flow", "upload", "booking", "--json", str(_booking(tmp_path))).code == 0

    published = waba("flow", "publish", "booking", "--json")
    assert published.code == 0, published.err
    assert published.json()["status"] == "PUBLISHED"
    upload_refused = waba("flow", "upload", "booking", "--json", str(_booking(tmp_path)))
    assert upload_refused.code == 2 and "--clone booking" in upload_refused.err

    assert waba("flow", "sync").code == 0
    listed = {f["name"]: f for f in waba("flow", "list", "--json").json()}
    assert {"booking", "appointment_booking"} <= set(listed)
    assert set(listed["booking"]) >= {"id", "name", "status", "categories", "validation_errors"}
    shown = waba("flow", "show", "booking", "--preview", "--json").json()
    assert shown["preview_url"].startswith("https://business.facebook.com/")
    assert shown["first_screen"] == "APPOINTMENT"

    sent = waba("send", "flow", "booking", "--to", CUSTOMER, "--force", "--json")
    assert sent.code == 0, sent.err
    token = sent.json()["flow_token"]
    assert token.startswith("waba-")

    reply = waba(
        "sandbox",
        "inbound",
        "--to",
        fixtures.PHONE_NUMBER,
        "--from",
        CUSTOMER,
        "--flow-reply",
        json.dumps({"appointment_date": "2026-12-24", "time_slot": "=HYPERLINK(1)", "notes": "Bitte klingeln 🙏"}),
        "--sandbox-url",
        sandbox.url,
        "--webhook-url",
        receiver.url,
    )
    assert reply.code == 0, reply.err
    delivery, _value = receiver.messages(CUSTOMER.lstrip("+"))
    apply_webhook(db, delivery.json())

    answers = waba("flow", "responses", "booking", "--json").json()
    assert [(a["from"], a["flow_token"], a["data"]["notes"]) for a in answers] == [
        (CUSTOMER, token, "Bitte klingeln 🙏")
    ]
    path = tmp_path / "answers.csv"
    assert waba("flow", "responses", "booking", "--csv", str(path)).code == 0
    assert path.stat().st_mode & 0o777 == 0o600
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert rows[0]["time_slot"] == "'=HYPERLINK(1)"
    assert rows[0]["notes"] == "Bitte klingeln 🙏"


SUPPORT_FLOW = {
    "version": "7.1",
    "data_api_version": "3.0",
    "routing_model": {"QUESTION": ["THANKS"], "THANKS": []},
    "screens": [
        {
            "id": "QUESTION",
            "layout": {
                "type": "SingleColumnLayout",
                "children": [
                    {"type": "TextArea", "name": "question", "label": "Your question"},
                    {"type": "Footer", "label": "Ask", "on-click-action": {"name": "data_exchange", "payload": {}}},
                ],
            },
        },
        {
            "id": "THANKS",
            "terminal": True,
            "layout": {
                "type": "SingleColumnLayout",
                "children": [
                    {"type": "TextBody", "text": "Thanks!"},
                    {"type": "Footer", "label": "Done", "on-click-action": {"name": "complete", "payload": {}}},
                ],
            },
        },
    ],
}


def _readme_commands() -> list[list[str]]:
    """Every `waba ...` line of the README's Flows section, optional parts and comments left out."""
    text = README.read_text()
    section = text[text.index("### Flows") : text.index("### Campaigns")]
    block = section[section.index("```bash") + 7 : section.index("```\n\n")]
    commands = []
    for raw in block.splitlines():
        line = re.sub(r"\[[^\]]*\]", "", raw.split("  #")[0]).strip()
        if line.startswith("waba "):
            commands.append(shlex.split(line)[1:])
    return commands


def test_every_flow_command_in_the_readme_runs_against_the_sandbox(
    waba: Any, start_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox: SandboxProcess = start_sandbox()
    monkeypatch.setenv("WABA_GRAPH_BASE_URL", sandbox.url)
    monkeypatch.chdir(tmp_path)
    setup = tmp_path / "sandbox.json"
    setup.write_text(json.dumps(fixtures.setup_document(None)), encoding="utf-8")
    assert waba("account", "setup", "--from-file", str(setup)).code == 0
    _booking(tmp_path)
    (tmp_path / "support.json").write_text(json.dumps(SUPPORT_FLOW, indent=2), encoding="utf-8")
    commands = _readme_commands()
    assert len(commands) >= 12
    for command in commands:
        args = [*command, "--force"] if command[:2] == ["send", "flow"] else command
        result = waba(*args)
        assert result.code == 0, f"waba {' '.join(args)}: {result.err}"
    assert (tmp_path / "answers.csv").exists()
