"""Without a terminal (or with --no-input) `waba account setup` asks nothing: a missing value is
exit 2 naming every missing key and pointing at --from-file, and nothing is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

REQUIRED = ("name", "waba_id", "app_id", "app_secret", "phone_number_id", "phone_number", "access_token")


def _nothing_written(waba: Any, home: Path) -> None:
    assert waba("account", "list", "--json").json() == []
    assert not (home / "setup").exists()


@pytest.mark.parametrize("flags", [(), ("--no-input",)], ids=["no-terminal", "no-input"])
def test_setup_without_a_terminal_lists_every_missing_key_and_writes_nothing(
    waba: Any, isolated: Path, flags: tuple[str, ...]
) -> None:
    result = waba("account", "setup", *flags)

    assert result.code == 2
    line = result.err.strip().splitlines()[-1]
    assert all(key in line for key in REQUIRED), line
    assert "--from-file" in line and "are required" in line
    _nothing_written(waba, isolated)


def test_a_file_missing_keys_names_each_of_them(waba: Any, setup_file: Any, isolated: Path) -> None:
    path = setup_file(drop=("access_token", "app_secret"))

    result = waba("account", "setup", "--from-file", str(path))

    assert result.code == 2
    assert "app_secret, access_token: are required" in result.err and str(path) in result.err
    _nothing_written(waba, isolated)


def test_resume_with_nothing_to_resume_says_so(waba: Any, isolated: Path) -> None:
    result = waba("account", "setup", "--resume")

    assert result.code == 2
    assert "nothing to resume" in result.err
    _nothing_written(waba, isolated)


def test_resume_without_a_terminal_completes_from_the_kept_answers_and_the_file(
    waba: Any, setup_file: Any, isolated: Path
) -> None:
    """Answers kept by an interrupted wizard, completed by a file, need no prompt."""
    from tests.conftest import SEED_SETUP
    from waba_cli.secrets import Cipher, require_key
    from waba_cli.services.accounts import progress as setup_progress
    from waba_cli.settings import load_settings

    settings = load_settings()
    kept = {k: SEED_SETUP[k] for k in ("name", "waba_id", "app_id", "app_secret")}
    setup_progress.save(settings, Cipher(require_key(settings)), setup_progress.Progress(kept, 2))
    assert SEED_SETUP["app_secret"] not in setup_progress.path_of(settings).read_text()
    rest = {k: v for k, v in SEED_SETUP.items() if k not in kept}
    path = setup_file(rest | {"name": SEED_SETUP["name"]}, drop=("waba_id", "app_id", "app_secret"))

    result = waba("account", "setup", "--resume", "--from-file", str(path), "--no-verify", "--json")

    assert result.code == 0, result.err
    assert result.json()["waba_id"] == SEED_SETUP["waba_id"]
    assert not setup_progress.path_of(settings).exists()
