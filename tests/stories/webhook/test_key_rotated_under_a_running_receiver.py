"""`waba secrets rotate-key` and a changed app secret while serve-webhook runs: no restart needed.

The receiver is the real one (uvicorn and its writer process); the rotation and the update are the
real `waba` commands. A delivery signed with the new app secret is accepted at once (an unknown
signature makes the writer read the secrets again, reading the rotated key where it lives), and one
signed with the previous app secret still is for `webhook.previous_secret_grace`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.webhook import APP_SECRET, VERIFY_TOKEN, Receiver, inbound_text, start_receiver
from tests.support.world import SEED_SETUP

NEW_APP_SECRET = "9b1e2c3d4f5a6b7c8d9e0f1a2b3c4d5e"


@pytest.fixture
def running(waba: Any) -> Iterator[Receiver]:
    app, uvicorn_server, thread, log = start_receiver()
    port = uvicorn_server.servers[0].sockets[0].getsockname()[1]
    with httpx.Client(timeout=10) as client:
        yield Receiver(f"http://127.0.0.1:{port}", client, app, log)
    uvicorn_server.should_exit = True
    thread.join(timeout=15)
    assert not thread.is_alive()


@pytest.mark.parametrize(
    ("key_source", "grace", "old_secret_answer"),
    [("file", "15m", 200), ("env", "15m", 200), ("file", "0s", 401)],
    ids=["key-file", "key-from-environment", "no-grace"],
)
def test_rotation_and_a_new_app_secret_are_picked_up_without_a_restart(
    waba: Any,
    setup_file: Any,
    isolated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    key_source: str,
    grace: str,
    old_secret_answer: int,
) -> None:
    (isolated / "config.toml").write_text(f'[webhook]\nprevious_secret_grace = "{grace}"\n')
    if key_source == "file":
        monkeypatch.delenv("WABA_ENCRYPTION_KEY")
        assert waba("init").code == 0  # no keyring here: the key goes to a 0600 key file
    setup = setup_file({"enable_auto_reply": False})  # no replies to send: the Graph API is not there
    assert waba("account", "setup", "--from-file", str(setup), "--no-verify").code == 0
    receiver: Receiver = request.getfixturevalue("running")
    assert receiver.post(inbound_text("wamid.before", "hello")).status_code == 200

    rotated = waba("secrets", "rotate-key", "--yes", "--json")
    assert rotated.code == 0, rotated.err
    if key_source == "env":  # the variable cannot be rewritten: the new keys wait in the data directory
        new_key = Path(rotated.json()["new_key_location"])
        assert new_key.parent == isolated
        # the operator puts the new key in the variable for later commands; the receiver keeps running
        monkeypatch.setenv("WABA_ENCRYPTION_KEY", new_key.read_text(encoding="utf-8").strip())
    (tmp_path / "secret.json").write_text(json.dumps({"app_secret": NEW_APP_SECRET}))
    updated = waba("account", "update", SEED_SETUP["name"], "--from-file", str(tmp_path / "secret.json"), "--no-verify")
    assert updated.code == 0, updated.err

    signed_new = receiver.post(inbound_text("wamid.new", "signed with the new secret"), secret=NEW_APP_SECRET)
    signed_old = receiver.post(inbound_text("wamid.old", "signed with the old secret"), secret=APP_SECRET)
    verified = receiver.client.get(
        receiver.url + "/webhook",
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"},
    )
    forged = receiver.post(inbound_text("wamid.forged", "signed by nobody"), secret="not-the-secret")

    assert signed_new.status_code == 200, receiver.log.lines()[-5:]
    assert signed_old.status_code == old_secret_answer
    assert verified.status_code == 200 and verified.text == "42"
    assert forged.status_code == 401
    assert any("encryption key read again" in line for line in receiver.log.lines())
