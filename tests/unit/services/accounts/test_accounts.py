"""Setting up and managing accounts from files, as an operator does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.world import SEED_SETUP


def _count_accounts(waba: Any) -> int:
    return len(waba("account", "list", "--json").json())


def test_setup_from_the_seed_example_creates_account_and_number(waba: Any, setup_file: Any) -> None:
    result = waba("account", "setup", "--from-file", str(setup_file()), "--no-verify")

    assert result.code == 0, result.err
    assert "message_deliveries" in result.err  # the note about the seed's old webhook names
    listed = waba("account", "list", "--json").json()
    assert listed == [
        {
            "id": listed[0]["id"],
            "name": "My Business WhatsApp",
            "waba_id": "123456789012345",
            "phone_numbers": ["+15550134567"],
            "default": False,
            "status": None,
            "access_token": "EAAG…GHIJ",
        }
    ]


def test_setup_accepts_toml_with_native_times(waba: Any, tmp_path: Path) -> None:
    path = tmp_path / "acme.toml"
    lines = [
        f"{k} = {json.dumps(v)}"
        for k, v in SEED_SETUP.items()
        if k not in ("business_hours_start", "business_hours_end")
    ]
    path.write_text("\n".join([*lines, "business_hours_start = 08:30:00", "business_hours_end = 18:00:00"]))

    assert waba("account", "setup", "--from-file", str(path), "--no-verify").code == 0
    shown = waba("account", "show", "--json").json()
    assert shown["business_hours_start"] == "08:30:00"
    assert shown["business_vertical"] == "FINANCE"  # "Insurance" in Meta's words
    assert shown["subscribed_webhook_events"] == ["messages"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("waba_id", "12345abc"),
        ("app_id", "your_app_id"),
        ("meta_business_account_id", "not-a-number"),
        ("phone_number_id", ""),
        ("app_secret", "your_app_secret"),
        ("access_token", "your_permanent_access_token"),
        ("webhook_verify_token", "short"),
        ("phone_number", "+1234567890"),
        ("phone_number", "0151 2345678"),
        ("business_email", "contact@"),
        ("business_timezone", "Mars/Olympus_Mons"),
        ("business_hours_start", "9am"),
        ("business_hours_end", "24:00"),
        ("business_vertical", "Spaceflight"),
        ("webhook_url", "http://example.com/hook"),
        ("subscribed_webhook_events", ["messages", "message_sent"]),
        ("daily_limit", 0),
        ("enable_auto_reply", "sometimes"),
        ("name", "12345"),
        ("business_description", "x" * 257),
    ],
)
def test_setup_rejects_each_invalid_field_and_writes_nothing(
    waba: Any, setup_file: Any, isolated: Path, key: str, value: Any
) -> None:
    result = waba("account", "setup", "--from-file", str(setup_file({key: value})), "--no-verify")

    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert key in lines[0]
    assert "Traceback" not in result.err
    assert _count_accounts(waba) == 0


def test_setup_rejects_unknown_and_missing_keys(waba: Any, setup_file: Any) -> None:
    unknown = waba("account", "setup", "--from-file", str(setup_file({"colour": "blue"})), "--no-verify")
    missing = waba("account", "setup", "--from-file", str(setup_file(drop=("access_token",))), "--no-verify")

    assert unknown.code == 2 and "colour: unknown key" in unknown.err
    assert missing.code == 2 and "access_token: is required" in missing.err


def test_setup_refuses_business_hours_without_times(waba: Any, setup_file: Any) -> None:
    path = setup_file({"business_hours_end": None})
    result = waba("account", "setup", "--from-file", str(path), "--no-verify")
    assert result.code == 2
    assert "business_hours_start" in result.err


def test_setup_refuses_a_second_account_with_the_same_waba(waba: Any, setup_file: Any, account: Any) -> None:
    again = waba("account", "setup", "--from-file", str(setup_file({"name": "Other"})), "--no-verify")
    assert again.code == 2
    assert "already set up" in again.err


def test_setup_without_a_file_is_a_usage_error(waba: Any) -> None:
    result = waba("account", "setup", "--no-input")
    assert result.code == 2
    assert "--from-file" in result.err


def test_setup_file_that_is_not_json_or_toml(waba: Any, tmp_path: Path) -> None:
    path = tmp_path / "setup.json"
    path.write_text("{name: 'x'")
    result = waba("account", "setup", "--from-file", str(path), "--no-verify")
    assert result.code == 2
    assert "not valid JSON" in result.err


def test_show_masks_secrets(waba: Any, account: Any) -> None:
    shown = waba("account", "show", "My Business WhatsApp", "--json").json()
    assert shown["access_token"] == "EAAG…GHIJ"
    assert shown["app_secret"] == "(set, encrypted)"
    assert "app_secret_enc" not in shown
    assert shown["phone_numbers"][0]["id"] == "109283746501928"


def test_update_sets_plain_settings_and_validates_them(waba: Any, account: Any) -> None:
    ok = waba(
        "account",
        "update",
        "123456789012345",
        "--set",
        "daily_limit=500",
        "--set",
        "business_timezone=Europe/Berlin",
        "--set",
        "enable_auto_reply=false",
    )
    bad = waba("account", "update", "123456789012345", "--set", "business_timezone=Europe/Nowhere")

    assert ok.code == 0, ok.err
    shown = waba("account", "show", "--json").json()
    assert (shown["daily_limit"], shown["business_timezone"], shown["enable_auto_reply"]) == (
        500,
        "Europe/Berlin",
        False,
    )
    assert bad.code == 2 and "business_timezone" in bad.err


def test_update_refuses_secrets_on_the_command_line(waba: Any, account: Any) -> None:
    result = waba(
        "account", "update", "My Business WhatsApp", "--set", "access_token=EAAnewtokennewtokennewtoken1234567"
    )
    assert result.code == 2
    assert "secret" in result.err
    assert "EAAnewtoken" not in result.err


def test_update_secret_from_file(waba: Any, account: Any, tmp_path: Path) -> None:
    path = tmp_path / "token.json"
    path.write_text(json.dumps({"access_token": "EAAnewtokennewtokennewtoken1234567XYZ"}))

    result = waba("account", "update", "My Business WhatsApp", "--from-file", str(path), "--no-verify")

    assert result.code == 0, result.err
    assert waba("account", "show", "--json").json()["access_token"] == "EAAn…7XYZ"


def test_update_secret_prompt_needs_a_terminal(waba: Any, account: Any) -> None:
    result = waba("account", "update", "My Business WhatsApp", "--secret", "access_token")
    assert result.code == 2
    assert "--from-file" in result.err


def test_remove_needs_yes_without_a_terminal(waba: Any, account: Any) -> None:
    refused = waba("account", "remove", "My Business WhatsApp")
    assert refused.code == 2 and "--yes" in refused.err
    assert _count_accounts(waba) == 1

    removed = waba("account", "remove", "My Business WhatsApp", "--yes")
    assert removed.code == 0
    assert _count_accounts(waba) == 0


def test_account_resolution_default_env_and_flag(waba: Any, setup_file: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    waba("account", "setup", "--from-file", str(setup_file()), "--no-verify")
    second = setup_file(
        {
            "name": "Brand B",
            "waba_id": "223456789012345",
            "phone_number_id": "209283746501928",
            "phone_number": "+4915123456789",
        },
        name="b.json",
    )
    assert waba("account", "setup", "--from-file", str(second), "--no-verify").code == 0

    ambiguous = waba("account", "show")
    assert ambiguous.code == 2 and "account use" in ambiguous.err

    assert waba("account", "use", "Brand B").code == 0
    assert waba("account", "show", "--json").json()["name"] == "Brand B"
    assert waba("account", "show", "-a", "123456789012345", "--json").json()["name"] == "My Business WhatsApp"
    monkeypatch.setenv("WABA_ACCOUNT", "My Business WhatsApp")
    assert waba("account", "show", "--json").json()["name"] == "My Business WhatsApp"
    listed = {a["name"]: a["default"] for a in waba("account", "list", "--json").json()}
    assert listed == {"Brand B": True, "My Business WhatsApp": False}


def test_unknown_account_is_a_usage_error(waba: Any) -> None:
    result = waba("account", "show", "nobody")
    assert result.code == 2
    assert "no account 'nobody'" in result.err


def test_shared_options_work_in_the_commands_own_position_and_on_the_root(waba: Any, account: Any) -> None:
    own = waba("account", "list", "--json")
    root = waba("--json", "account", "list")
    assert own.json() == root.json()
