"""`waba secrets status` and `waba secrets reset`: honest exit codes, and a way out of a lost key that is
never a loop back to `waba init`."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from tests.support.world import SEED_SETUP

NAME = SEED_SETUP["name"]


def test_status_exits_0_when_the_key_reads_every_secret(waba: Any, account: Any) -> None:
    result = waba("secrets", "status", "--json")

    assert result.code == 0, result.err
    assert result.json()["readable"] is True and result.json()["unreadable"] == []


def test_status_exits_0_with_nothing_stored(waba: Any) -> None:
    assert waba("secrets", "status").code == 0


def test_status_exits_1_under_a_wrong_key_and_names_the_ways_out(
    waba: Any, account: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WABA_ENCRYPTION_KEY", Fernet.generate_key().decode())

    result = waba("secrets", "status")
    as_json = waba("secrets", "status", "--json")

    assert result.code == 1 and as_json.code == 1
    assert f"access_token of {NAME}" in as_json.json()["unreadable"]
    assert as_json.json()["readable"] is False
    for way_out in ("WABA_ENCRYPTION_KEY", "key file", "waba secrets reset"):
        assert way_out in result.err
    assert "waba init" not in result.err


@pytest.fixture
def lost_key_file(waba: Any, setup_file: Any, monkeypatch: pytest.MonkeyPatch, isolated: Path) -> Path:
    """An account set up with a key file (no keyring, no variable); then the key file is gone."""
    monkeypatch.delenv("WABA_ENCRYPTION_KEY")
    assert waba("init").code == 0
    assert waba("account", "setup", "--from-file", str(setup_file()), "--no-verify").code == 0
    key_file = isolated / "encryption.key"
    key_file.unlink()
    return key_file


def test_a_lost_key_file_names_the_real_ways_out_and_init_does_not_loop(waba: Any, lost_key_file: Path) -> None:
    for args in (("account", "verify"), ("init",), ("serve-webhook", "--port", "0")):
        result = waba(*args)
        assert result.code == 2, args
        assert str(lost_key_file) in result.err
        for way_out in ("WABA_ENCRYPTION_KEY", "restore the key file", "waba secrets reset"):
            assert way_out in result.err, (args, result.err)
        assert "waba init" not in result.err, args
    status = waba("secrets", "status", "--json")
    assert status.code == 1
    assert status.json()["source"] is None and "does not exist" in status.json()["problem"]
    assert len(status.json()["unreadable"]) == 3


def test_reset_drops_unreadable_secrets_creates_a_key_and_says_how_to_give_them_again(
    waba: Any, lost_key_file: Path, tmp_path: Path
) -> None:
    refused = waba("secrets", "reset")
    assert refused.code == 2 and "--yes" in refused.err

    result = waba("secrets", "reset", "--yes")

    assert result.code == 0, result.err
    assert stat.S_IMODE(lost_key_file.stat().st_mode) == 0o600  # a new key where the old one was
    assert f"waba account update '{NAME}' --secret access_token --secret app_secret" in result.err
    status = waba("secrets", "status", "--json")
    assert status.code == 1  # still to be given again
    assert status.json()["unreadable"] == [] and len(status.json()["dropped"]) == 3
    verify = waba("account", "verify")
    assert verify.code == 2 and "dropped" in verify.err and "account update" in verify.err

    secrets = {key: SEED_SETUP[key] for key in ("access_token", "app_secret", "webhook_verify_token")}
    (tmp_path / "again.json").write_text(json.dumps(secrets))
    assert waba("account", "update", NAME, "--from-file", str(tmp_path / "again.json"), "--no-verify").code == 0
    again = waba("secrets", "status", "--json")
    assert again.code == 0 and again.json()["readable"] is True


def test_reset_keeps_what_the_key_reads(waba: Any, account: Any) -> None:
    result = waba("secrets", "reset", "--yes", "--json")

    assert result.code == 0, result.err
    assert result.json()["dropped"] == {}
    assert waba("secrets", "status").code == 0


def test_reset_under_a_wrong_key_keeps_that_key(waba: Any, account: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WABA_ENCRYPTION_KEY", Fernet.generate_key().decode())

    result = waba("secrets", "reset", "--yes", "--json")

    assert result.code == 0, result.err
    assert result.json()["key_created"] is False and result.json()["key_source"] == "env"
    assert sorted(result.json()["dropped"][NAME]) == ["access_token", "app_secret", "webhook_verify_token"]
