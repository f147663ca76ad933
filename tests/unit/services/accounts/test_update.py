"""`waba account update`: a changed token is verified with Meta before it is saved (unless
--no-verify); the account's own setup file applies again when its fixed keys match, changing only
what differs and listing it (secrets masked); nothing differs: "nothing changed"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import respx

from tests.support.world import SEED_SETUP
from tests.unit.services.accounts.test_verify import TOKEN_INFO, meta_answers

NAME = SEED_SETUP["name"]
NEW_TOKEN = "EAAGnewtokennewtokennewtoken1234567NEW9"


def _token_file(tmp_path: Path, token: str = NEW_TOKEN) -> Path:
    path = tmp_path / "token.json"
    path.write_text(json.dumps({"access_token": token}))
    return path


def _stored_token(waba: Any) -> str:
    return str(waba("account", "show", "--json").json()["access_token"])


def test_a_new_token_is_verified_with_meta_then_saved(
    waba: Any, account: Any, graph: respx.MockRouter, tmp_path: Path
) -> None:
    routes = meta_answers(graph)

    result = waba("account", "update", NAME, "--from-file", str(_token_file(tmp_path)), "--json")

    assert result.code == 0, result.err
    assert result.json() == {
        "account": NAME,
        "changed": ["access_token"],
        "changes": {"access_token": {"from": "EAAG…GHIJ", "to": "EAAG…NEW9"}},
        "verified": True,
    }
    assert routes["debug"].calls.last.request.url.params["input_token"] == NEW_TOKEN
    assert routes["apps"].call_count == 0 and routes["numbers"].call_count == 1
    shown = waba("account", "show", "--json").json()
    assert shown["access_token"] == "EAAG…NEW9" and shown["token_type"] == "SYSTEM_USER"
    assert NEW_TOKEN not in result.out + result.err


def test_a_token_meta_refuses_saves_nothing(waba: Any, account: Any, graph: respx.MockRouter, tmp_path: Path) -> None:
    meta_answers(graph, token={**TOKEN_INFO, "is_valid": False, "error": {"message": "Session has expired"}})

    result = waba("account", "update", NAME, "--from-file", str(_token_file(tmp_path)))

    assert result.code == 2
    [line] = result.err.strip().splitlines()
    assert "access_token" in line and "not valid" in line and "Session has expired" in line
    assert _stored_token(waba) == "EAAG…GHIJ"


def test_a_token_of_another_app_saves_nothing(waba: Any, account: Any, graph: respx.MockRouter, tmp_path: Path) -> None:
    meta_answers(graph, token={**TOKEN_INFO, "app_id": "111111111111111"})
    result = waba("account", "update", NAME, "--from-file", str(_token_file(tmp_path)))
    assert result.code == 2 and "belongs to app 111111111111111" in result.err
    assert _stored_token(waba) == "EAAG…GHIJ"


def test_no_verify_saves_without_asking_meta(waba: Any, account: Any, graph: respx.MockRouter, tmp_path: Path) -> None:
    result = waba("account", "update", NAME, "--from-file", str(_token_file(tmp_path)), "--no-verify")
    assert result.code == 0, result.err
    assert graph.calls.call_count == 0
    assert _stored_token(waba) == "EAAG…NEW9"


def test_the_original_setup_file_again_is_nothing_changed(
    waba: Any, account: Any, graph: respx.MockRouter, setup_file: Any
) -> None:
    path = setup_file()

    human = waba("account", "update", NAME, "--from-file", str(path))
    machine = waba("account", "update", NAME, "--from-file", str(path), "--json")

    assert human.code == 0, human.err
    assert "nothing changed" in human.err and human.out == ""
    assert machine.json()["changed"] == [] and machine.json()["verified"] is False
    assert graph.calls.call_count == 0  # the same token: nothing to verify


def test_the_setup_file_edited_changes_and_lists_only_what_differs(
    waba: Any, account: Any, graph: respx.MockRouter, setup_file: Any
) -> None:
    meta_answers(graph)
    path = setup_file({"access_token": NEW_TOKEN, "business_timezone": "Europe/Berlin", "daily_limit": 800})

    result = waba("account", "update", NAME, "--from-file", str(path))

    assert result.code == 0, result.err
    assert "changed access_token, business_timezone, daily_limit, credentials verified with Meta" in result.err
    rows = [line.split("\t") for line in result.out.strip().splitlines()[1:]]
    assert rows == [
        ["access_token", "EAAG…GHIJ", "EAAG…NEW9"],
        ["business_timezone", "UTC", "Europe/Berlin"],
        ["daily_limit", "", "800"],
    ]
    assert NEW_TOKEN not in result.out + result.err
    shown = waba("account", "show", "--json").json()
    assert (shown["business_timezone"], shown["daily_limit"]) == ("Europe/Berlin", 800)


def test_a_setup_file_with_other_fixed_keys_is_refused(waba: Any, account: Any, setup_file: Any) -> None:
    for changes, key in (
        ({"waba_id": "999999999999999"}, "waba_id"),
        ({"phone_number_id": "209283746501928"}, "phone_number_id"),
        ({"phone_number": "+1 555 013 9999"}, "phone_number"),
    ):
        result = waba("account", "update", NAME, "--from-file", str(setup_file(changes)))
        assert result.code == 2, (changes, result.err)
        assert key in result.err and "cannot be changed on an existing account" in result.err
    reformatted = setup_file({"display_phone_number": "+1 555-013-4567"})  # Meta's formatting, same digits
    assert waba("account", "update", NAME, "--from-file", str(reformatted)).code == 0
    assert _stored_token(waba) == "EAAG…GHIJ"
