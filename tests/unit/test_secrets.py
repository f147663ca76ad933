"""The encryption key and the secrets it protects."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import keyring
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from tests.support.world import SECRETS, SEED_SETUP, MemoryKeyring
from waba_cli.secrets import KEYRING_ENTRY, KEYRING_SERVICE, mask


def _stored_tokens(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT access_token_enc, app_secret_enc, webhook_verify_token_enc FROM account"))
        values = [v for row in rows for v in row if v]
    engine.dispose()
    return values


def test_no_secret_in_plaintext_anywhere(
    waba: Any, setup_file: Any, isolated: Path, database_url: str, tmp_path: Path
) -> None:
    outputs = [
        waba("account", "setup", "--from-file", str(setup_file()), "--no-verify", "--json"),
        waba("account", "list", "--json"),
        waba("account", "list"),
        waba("account", "show", "--json"),
        waba("account", "show"),
        waba("db", "info", "--json"),
        waba("secrets", "status", "--json"),
        waba("account", "update", "My Business WhatsApp", "--set", "access_token=" + SEED_SETUP["access_token"]),
    ]
    captured = "".join(r.out + r.err for r in outputs)
    files = [p for p in isolated.rglob("*") if p.is_file()]
    blobs = [p.read_bytes() for p in files]
    if database_url.startswith("sqlite"):
        assert any(p.name.startswith("waba.db") for p in files)
    else:  # the data lives in the server: dump every row
        engine = create_engine(database_url)
        with engine.connect() as conn:
            for table in ("account", "phone_number", "api_call"):
                blobs.append(
                    json.dumps([list(r) for r in conn.execute(text(f"SELECT * FROM {table}"))], default=str).encode()
                )
        engine.dispose()

    for key in SECRETS:
        secret = SEED_SETUP[key]
        assert secret not in captured, key
        for blob in blobs:
            assert secret.encode() not in blob, key


def test_secrets_are_fernet_tokens_readable_with_the_key(waba: Any, account: Any, database_url: str) -> None:
    fernet = Fernet(os.environ["WABA_ENCRYPTION_KEY"].encode())
    decrypted = {fernet.decrypt(v.encode()).decode() for v in _stored_tokens(database_url)}
    assert decrypted == {SEED_SETUP[k] for k in SECRETS}


def test_a_passphrase_of_32_characters_derives_a_key(
    waba: Any, setup_file: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WABA_ENCRYPTION_KEY", "correct horse battery staple, twice over")
    assert waba("account", "setup", "--from-file", str(setup_file()), "--no-verify").code == 0
    status = waba("secrets", "status", "--json").json()
    assert status == {
        "source": "env",
        "location": "WABA_ENCRYPTION_KEY",
        "keys": 1,
        "secrets": 3,
        "accounts": 1,
        "readable": True,
        "unreadable": [],
        "dropped": [],
        "problem": None,
    }


def test_short_passphrase_is_refused(waba: Any, setup_file: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WABA_ENCRYPTION_KEY", "too-short")
    result = waba("account", "setup", "--from-file", str(setup_file()), "--no-verify")
    assert result.code == 2
    assert "WABA_ENCRYPTION_KEY" in result.err


def test_legacy_variable_name_is_accepted(waba: Any, setup_file: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    key = os.environ["WABA_ENCRYPTION_KEY"]
    monkeypatch.delenv("WABA_ENCRYPTION_KEY")
    monkeypatch.setenv("WHATSAPP_ENCRYPTION_KEY", key)
    assert waba("account", "setup", "--from-file", str(setup_file()), "--no-verify").code == 0
    assert waba("secrets", "status", "--json").json()["location"] == "WHATSAPP_ENCRYPTION_KEY"


def test_no_key_anywhere_is_exit_2_naming_the_way_out(
    waba: Any, setup_file: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WABA_ENCRYPTION_KEY")
    result = waba("account", "setup", "--from-file", str(setup_file()), "--no-verify")
    assert result.code == 2
    assert "WABA_ENCRYPTION_KEY" in result.err and "waba init" in result.err
    assert waba("account", "list", "--json").json() == []


def test_read_only_commands_need_no_key(waba: Any, account: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WABA_ENCRYPTION_KEY")
    assert waba("account", "list", "--json").code == 0
    assert waba("account", "show", "--json").code == 0


def test_wrong_key_is_reported_not_crashed(waba: Any, account: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WABA_ENCRYPTION_KEY", Fernet.generate_key().decode())
    status = waba("secrets", "status", "--json").json()
    assert status["readable"] is False
    result = waba("account", "verify")
    assert result.code == 2
    assert "cannot decrypt" in result.err


def test_init_stores_a_new_key_in_the_keyring(
    waba: Any, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, isolated: Path
) -> None:
    monkeypatch.delenv("WABA_ENCRYPTION_KEY")
    result = waba("init", "--json")
    assert result.code == 0, result.err
    key = result.json()["key"]
    assert key == {"source": "keyring", "location": f"keyring ({KEYRING_SERVICE}/{KEYRING_ENTRY})", "created": True}
    stored = memory_keyring.get_password(KEYRING_SERVICE, KEYRING_ENTRY)
    assert stored and Fernet(stored.encode())
    assert not (isolated / "encryption.key").exists()

    again = waba("init", "--json").json()
    assert again["key"]["created"] is False
    assert memory_keyring.get_password(KEYRING_SERVICE, KEYRING_ENTRY) == stored


def test_init_without_keyring_writes_a_0600_key_file_with_a_warning(
    waba: Any, monkeypatch: pytest.MonkeyPatch, isolated: Path
) -> None:
    monkeypatch.delenv("WABA_ENCRYPTION_KEY")
    result = waba("init")
    assert result.code == 0, result.err
    key_file = isolated / "encryption.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "warning" in result.err and str(key_file) in result.err
    assert "key_file" in (isolated / "config.toml").read_text()
    before = key_file.read_bytes()

    assert waba("init").code == 0
    assert key_file.read_bytes() == before
    assert waba("secrets", "status", "--json").json()["source"] == "file"


def test_init_keeps_a_key_from_the_environment(waba: Any, isolated: Path) -> None:
    result = waba("init", "--json")
    assert result.json()["key"] == {"source": "env", "location": "WABA_ENCRYPTION_KEY", "created": False}
    assert not (isolated / "encryption.key").exists()


@pytest.mark.slow
def test_hung_keyring_is_bounded_by_the_timeout(
    waba: Any, monkeypatch: pytest.MonkeyPatch, isolated: Path, setup_file: Any
) -> None:
    class HungKeyring(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            time.sleep(30)
            return None

    keyring.set_keyring(HungKeyring())
    monkeypatch.delenv("WABA_ENCRYPTION_KEY")
    (isolated / "config.toml").write_text("[secrets]\nkeyring_timeout = 0.2\n")
    started = time.monotonic()
    result = waba("account", "setup", "--from-file", str(setup_file()), "--no-verify")
    assert time.monotonic() - started < 5
    assert result.code == 2 and "WABA_ENCRYPTION_KEY" in result.err


def test_rotate_key_in_the_keyring_re_encrypts_everything(
    waba: Any, setup_file: Any, database_url: str, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring
) -> None:
    monkeypatch.delenv("WABA_ENCRYPTION_KEY")
    assert waba("init").code == 0
    old_key = memory_keyring.get_password(KEYRING_SERVICE, KEYRING_ENTRY)
    assert waba("account", "setup", "--from-file", str(setup_file()), "--no-verify").code == 0
    before = _stored_tokens(database_url)

    refused = waba("secrets", "rotate-key")
    assert refused.code == 2 and "--yes" in refused.err

    result = waba("secrets", "rotate-key", "--yes", "--json")
    assert result.code == 0, result.err
    assert result.json()["secrets"] == 3
    new_key = memory_keyring.get_password(KEYRING_SERVICE, KEYRING_ENTRY)
    assert new_key and new_key != old_key and "," not in new_key
    after = _stored_tokens(database_url)
    assert set(after).isdisjoint(before)
    fernet = Fernet(new_key.encode())
    assert {fernet.decrypt(v.encode()).decode() for v in after} == {SEED_SETUP[k] for k in SECRETS}
    assert waba("secrets", "status", "--json").json()["readable"] is True


def test_rotate_key_from_the_environment_leaves_the_new_keys_in_a_file(
    waba: Any, account: Any, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = waba("secrets", "rotate-key", "--yes", "--json")
    assert result.code == 0, result.err
    pending = Path(result.json()["new_key_location"])
    assert stat.S_IMODE(pending.stat().st_mode) == 0o600
    monkeypatch.setenv("WABA_ENCRYPTION_KEY", pending.read_text().strip())
    assert waba("secrets", "status", "--json").json()["readable"] is True
    monkeypatch.setenv("WABA_ENCRYPTION_KEY", pending.read_text().strip().split(",")[0])
    assert waba("secrets", "status", "--json").json()["readable"] is True


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("EAAGm0PX4ZCpsBAKZCyZBqZAt3vZB6789", "EAAG…6789"),
        ("short-secret", "…et"),
        ("abc", "…"),
        ("", ""),
    ],
)
def test_mask(value: str, shown: str) -> None:
    assert mask(value) == shown
