"""Local data is the operator's alone: a 0700 data directory, 0600 files whatever the umask; others'
read access is a warning with the chmod that fixes it, their write access a refusal (exit 2).
And the locations the operator names must exist: only `waba init` creates a home, a config or a database."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The loosest umask: every mode below comes from waba, none from the umask."""
    previous = os.umask(0)
    yield
    os.umask(previous)


@pytest.fixture
def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A WABA_HOME that does not exist yet, its database the default one in it, no key anywhere."""
    home = tmp_path / "fresh-home"
    monkeypatch.setenv("WABA_HOME", str(home))
    monkeypatch.delenv("WABA_DATABASE_URL")
    monkeypatch.delenv("WABA_ENCRYPTION_KEY")
    return home


def test_init_and_every_write_path_leave_owner_only_modes(
    waba: Any, fresh_home: Path, open_umask: None, setup_file: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = waba("init")

    assert result.code == 0, result.err
    assert mode(fresh_home) == 0o700
    for name in ("config.toml", "encryption.key", "waba.db"):
        assert mode(fresh_home / name) == 0o600, name
    assert "key_file" in (fresh_home / "config.toml").read_text()  # rewritten by init, still 0600

    # SQLite's journal files while a connection holds them open, and a write through waba meanwhile
    database = fresh_home / "waba.db"
    with sqlite3.connect(database) as held:
        held.execute("PRAGMA journal_mode=WAL")
        held.execute("SELECT count(*) FROM account").fetchone()
        assert waba("account", "setup", "--from-file", str(setup_file()), "--no-verify").code == 0
        for journal in ("waba.db-wal", "waba.db-shm"):
            assert mode(fresh_home / journal) == 0o600, journal
    held.close()

    # the keys `rotate-key` leaves for a key from the environment
    monkeypatch.setenv("WABA_ENCRYPTION_KEY", (fresh_home / "encryption.key").read_text().strip())
    rotated = waba("secrets", "rotate-key", "--yes", "--json")
    assert rotated.code == 0, rotated.err
    assert mode(Path(rotated.json()["new_key_location"])) == 0o600
    assert sorted(p.name for p in fresh_home.iterdir() if mode(p) & 0o077) == []


def test_the_wizard_resume_state_and_exports_are_private(isolated: Path, open_umask: None) -> None:
    from cryptography.fernet import Fernet

    from waba_cli.private import private_dir, write_private
    from waba_cli.secrets import Cipher, KeyMaterial
    from waba_cli.services.accounts import progress
    from waba_cli.settings import load_settings

    cipher = Cipher(KeyMaterial((Fernet.generate_key(),), "env", "WABA_ENCRYPTION_KEY"))
    saved = progress.save(load_settings(), cipher, progress.Progress(answers={"name": "Acme"}, step=2))
    export = isolated / "exports" / "answers.csv"
    private_dir(export.parent)
    write_private(export, "a,b\n")

    assert (mode(saved), mode(saved.parent)) == (0o600, 0o700)
    assert (mode(export), mode(export.parent)) == (0o600, 0o700)


@pytest.mark.parametrize("name", ["home", "waba.db", "config.toml"])
def test_something_others_can_read_gets_one_warning_with_the_chmod(
    waba: Any, isolated: Path, database_url: str, name: str
) -> None:
    if name == "waba.db" and not database_url.startswith("sqlite"):
        pytest.skip("the database is a server's")
    target = isolated if name == "home" else isolated / name
    target.touch(exist_ok=True)
    target.chmod(0o755 if name == "home" else 0o644)

    result = waba("account", "list")

    assert result.code == 0, result.err
    fix = f"chmod {'700' if name == 'home' else '600'} {target}"
    what, was = ("directory", "0755") if name == "home" else ("file", "0644")
    expected = f"warning: the {what} {target} is readable by other users (mode {was}); fix it with: {fix}"
    assert [line for line in result.err.splitlines() if "warning" in line] == [expected]


@pytest.mark.parametrize("name", ["home", "waba.db", "config.toml", "encryption.key"])
def test_something_others_can_write_is_refused(
    waba: Any, isolated: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, setup_file: Any, name: str
) -> None:
    if name == "waba.db" and not database_url.startswith("sqlite"):
        pytest.skip("the database is a server's")
    if name == "encryption.key":
        monkeypatch.delenv("WABA_ENCRYPTION_KEY")
        assert waba("init").code == 0
    target = isolated if name == "home" else isolated / name
    target.touch(exist_ok=True)
    target.chmod(0o757 if name == "home" else 0o646)

    result = waba("account", "setup", "--from-file", str(setup_file()), "--no-verify")

    assert result.code == 2
    assert waba("account", "list", "--json").code == (0 if name == "encryption.key" else 2)  # no key needed
    assert f"{target} is writable by other users" in result.err
    assert f"chmod {'700' if name == 'home' else '600'} {target}" in result.err


# -- the locations the operator names ------------------------------------------------------------

READ_ONLY = [
    ("account", "list"),
    ("account", "show"),
    ("message", "list"),
    ("events", "list"),
    ("template", "list"),
    ("analytics", "report"),
    ("usage",),
    ("health", "history"),
    ("db", "info"),
    ("secrets", "status"),
]


@pytest.mark.parametrize("args", [*READ_ONLY, ("account", "setup", "--from-file", "x.json")], ids=" ".join)
def test_a_mistyped_waba_home_is_exit_2_and_creates_nothing(
    waba: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    missing = tmp_path / "mistyped"
    monkeypatch.setenv("WABA_HOME", str(missing))
    monkeypatch.delenv("WABA_DATABASE_URL")

    result = waba(*args)

    assert result.code == 2
    assert f"WABA_HOME={missing} does not exist" in result.err and "waba init" in result.err
    assert not missing.exists()


@pytest.mark.parametrize("args", READ_ONLY, ids=" ".join)
def test_read_only_commands_never_create_a_database(
    waba: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    home = tmp_path / "empty-home"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("WABA_HOME", str(home))
    monkeypatch.delenv("WABA_DATABASE_URL")

    result = waba(*args)

    assert result.code == 2
    assert f"no waba database at {home / 'waba.db'}" in result.err and "run `waba init`" in result.err
    assert list(home.iterdir()) == []


@pytest.mark.parametrize("how", ["flag", "flag-before-the-command", "environment"])
def test_a_config_file_that_does_not_exist_is_exit_2(
    waba: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    missing = tmp_path / "nope.toml"
    if how == "environment":
        monkeypatch.setenv("WABA_CONFIG", str(missing))
        result = waba("account", "list")
    elif how == "flag":
        result = waba("account", "list", "--config", str(missing))
    else:
        result = waba("--config", str(missing), "account", "list")

    assert result.code == 2
    assert f"config file {missing}" in result.err and "does not exist" in result.err
    assert not missing.exists()


def test_init_creates_the_named_home_and_config(waba: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, config = tmp_path / "new-home", tmp_path / "etc" / "waba.toml"
    monkeypatch.setenv("WABA_HOME", str(home))
    monkeypatch.delenv("WABA_DATABASE_URL")

    result = waba("init", "--config", str(config), "--json")

    assert result.code == 0, result.err
    assert json.loads(result.out)["config"] == str(config)
    assert (home / "waba.db").exists() and config.exists()
    assert waba("account", "list", "--config", str(config)).code == 0


def test_an_unwritable_home_is_exit_2_with_the_reason(waba: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WABA_HOME", "/sys/waba-home")  # not even root may create it
    monkeypatch.delenv("WABA_DATABASE_URL")

    result = waba("init")

    assert result.code == 2
    assert "cannot create the directory /sys/waba-home" in result.err
    assert "unexpected error" not in result.err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_home_is_exit_2_with_the_reason(
    waba: Any, isolated: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the database is a server's")
    isolated.chmod(0o500)
    try:
        result = waba("account", "setup", "--from-file", "x.json")
    finally:
        isolated.chmod(0o700)

    assert result.code == 2 and "not writable" in result.err
