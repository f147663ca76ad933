"""`waba number` against the real sandbox: the operator's story from a fresh account to a WABA whose
every number sends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.sandbox import SandboxProcess
from waba_cli.sandbox import fixtures

pytestmark = pytest.mark.slow


def test_an_operator_syncs_diagnoses_registers_and_sends_from_every_number(
    waba: Any, start_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox: SandboxProcess = start_sandbox()
    monkeypatch.setenv("WABA_GRAPH_BASE_URL", sandbox.url)
    setup = tmp_path / "sandbox.json"
    setup.write_text(json.dumps(fixtures.setup_document(None)), encoding="utf-8")
    assert waba("account", "setup", "--from-file", str(setup)).code == 0

    synced = waba("number", "sync", "--page-size", "2", "--json")
    assert synced.code == 0, synced.err
    assert synced.json()["fetched"] == 4
    assert len(waba("number", "list", "--json").json()) == 4

    doctor = waba("number", "doctor", "--json")
    assert doctor.code == 1
    verdicts = {n["id"]: n for n in doctor.json()["numbers"]}
    assert verdicts[fixtures.PHONE_NUMBER_ID]["verdict"] == "OK"
    unregistered = {r["code"] for r in verdicts[fixtures.UNREGISTERED_PHONE_NUMBER_ID]["reasons"]}
    assert "not-registered" in unregistered
    pending = {r["code"] for r in verdicts[fixtures.PENDING_PHONE_NUMBER_ID]["reasons"]}
    assert {"code-not-verified", "name-pending", "not-registered"} <= pending

    refused = waba("number", "register", fixtures.PENDING_PHONE_NUMBER)
    assert refused.code == 2 and "2388001" in refused.err

    registered = waba("number", "register", fixtures.UNREGISTERED_PHONE_NUMBER, "--json")
    assert registered.code == 0, registered.err
    assert registered.json()["status"] == "CONNECTED"
    wrong = waba("number", "register", fixtures.UNREGISTERED_PHONE_NUMBER, "--pin", "000000")
    assert wrong.code == 1 and "133005" in wrong.err

    from PIL import Image

    Image.new("RGB", (256, 256), "green").save(tmp_path / "logo.png")
    third = fixtures.UNREGISTERED_PHONE_NUMBER
    assert waba("number", "profile", "set", third, "--picture", str(tmp_path / "logo.png")).code == 0
    shown = waba("number", "profile", "show", third, "--json").json()
    assert shown["profile_picture_url"].startswith("https://")

    assert waba("template", "sync").code == 0
    sent = waba("send", "template", "hello_world", "--to", "+15551231099", "--from", third, "--json")
    assert sent.code == 0, sent.err
    assert sent.json()["phone_number_id"] == fixtures.UNREGISTERED_PHONE_NUMBER_ID
    assert waba("number", "doctor", third).code == 0
