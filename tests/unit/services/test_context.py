"""The account a command acts on is resolved once, by the command context, in one order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from waba_cli.errors import NotFoundError, UsageError
from waba_cli.services.context import CommandContext
from waba_cli.settings import load_settings

BRAND_B = {
    "name": "Brand B",
    "waba_id": "223456789012345",
    "phone_number_id": "209283746501928",
    "phone_number": "+4915123456789",
}
SEED = "My Business WhatsApp"


@pytest.fixture
def two_accounts(waba: Any, setup_file: Any) -> None:
    for path in (setup_file(), setup_file(BRAND_B, name="b.json")):
        assert waba("account", "setup", "--from-file", str(path), "--no-verify").code == 0


@pytest.fixture
def context() -> Iterator[Any]:
    opened: list[CommandContext] = []

    def make(flag: str | None = None) -> CommandContext:
        opened.append(CommandContext(load_settings(account=flag)))
        return opened[-1]

    yield make
    for ctx in opened:
        ctx.close()


def test_the_only_account_needs_no_name(account: Any, context: Any) -> None:
    ctx = context()
    assert ctx.account.name == SEED
    assert ctx.named_account is None  # `message list` then covers every account


def test_none_or_several_unchosen_accounts_are_usage_errors(waba: Any, context: Any, two_accounts: None) -> None:
    with pytest.raises(UsageError, match="none is chosen"):
        _ = context().account
    assert waba("account", "remove", "Brand B", "--yes").code == 0
    assert waba("account", "remove", SEED, "--yes").code == 0
    with pytest.raises(NotFoundError, match="no account is set up yet"):
        _ = context().account


def test_order_argument_flag_env_config_default(
    waba: Any, context: Any, two_accounts: None, monkeypatch: pytest.MonkeyPatch, isolated: Any
) -> None:
    assert waba("account", "use", "Brand B").code == 0
    assert context().account.name == "Brand B"
    (isolated / "config.toml").write_text(f'[defaults]\naccount = "{SEED}"\n')
    assert context().account.name == SEED
    monkeypatch.setenv("WABA_ACCOUNT", "223456789012345")
    assert context().account.name == "Brand B"
    assert context(flag=SEED).account.name == SEED

    argument = context(flag=SEED)
    argument.name_account("Brand B")
    assert argument.account.name == "Brand B"
    assert argument.named_account is argument.account


def test_a_files_account_ranks_below_the_flag_and_above_the_environment(
    context: Any, two_accounts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WABA_ACCOUNT", SEED)
    from_file = context()
    from_file.name_account("Brand B", over_flag=False)
    assert from_file.account.name == "Brand B"

    flagged = context(flag=SEED)
    flagged.name_account("Brand B", over_flag=False)
    assert flagged.account.name == SEED


def test_an_unknown_name_is_the_same_error_as_before(context: Any, account: Any) -> None:
    ctx = context(flag="nobody")
    with pytest.raises(NotFoundError, match="no account 'nobody'"):
        _ = ctx.account
    with pytest.raises(NotFoundError, match="no account 'nobody'"):
        _ = ctx.named_account
