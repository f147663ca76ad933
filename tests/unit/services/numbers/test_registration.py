"""`waba number add | request-code | verify-code | register | deregister | set-pin`: the request each
sends, the checks made before any request, and each Graph error as one line with the next step."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import respx
from sqlmodel import select

from tests.support.graph import body_of
from tests.support.numbers import (
    SECOND,
    THIRD,
    WABA,
    get_number,
    graph_error,
    list_numbers,
    meta_number,
    rows,
    second,
    third,
)
from waba_cli.db.engine import Database
from waba_cli.db.models.accounts import RegistrationCall
from waba_cli.db.timestamps import utcnow
from waba_cli.secrets import Cipher, require_key
from waba_cli.settings import load_settings

UNREGISTERED = {"platform_type": "NOT_APPLICABLE", "throughput": {"level": "NOT_APPLICABLE"}, "status": "DISCONNECTED"}


def _pin_of(db: Database, phone_number_id: str) -> str | None:
    stored = rows(db)[phone_number_id].pin_enc
    if stored is None:
        return None
    return Cipher(require_key(load_settings())).decrypt(stored)


def test_request_and_verify_code_send_meta_s_parameters(
    waba: Any, synced: Any, graph: respx.MockRouter, db: Database
) -> None:
    asked = graph.post(f"/{THIRD}/request_code").respond(200, json={"success": True})
    verified = graph.post(f"/{THIRD}/verify_code").respond(200, json={"success": True})

    assert waba("number", "request-code", "+15550134569", "--method", "voice", "--language", "de").code == 0
    assert body_of(asked) == {"code_method": "VOICE", "language": "de"}
    assert waba("number", "verify-code", THIRD, "123-456").code == 0
    assert body_of(verified) == {"code": "123456"}
    assert rows(db)[THIRD].code_verification_status == "VERIFIED"


def test_register_checks_the_number_then_registers_with_a_new_pin_kept_encrypted(
    waba: Any, synced: Any, graph: respx.MockRouter, db: Database
) -> None:
    read = get_number(graph, third(**UNREGISTERED))
    registered = graph.post(f"/{THIRD}/register").respond(200, json={"success": True})

    result = waba("number", "register", "+15550134569", "--data-localization-region", "de", "--json")

    assert result.code == 0, result.err
    assert read.called
    body = body_of(registered)
    assert body["messaging_product"] == "whatsapp" and body["data_localization_region"] == "DE"
    assert len(body["pin"]) == 6 and body["pin"].isdigit()
    assert result.json()["pin"] == body["pin"]  # shown once
    assert _pin_of(db, THIRD) == body["pin"]
    assert body["pin"] not in (rows(db)[THIRD].pin_enc or "")  # stored encrypted only
    assert result.json()["registrations_left"] == 9

    again = waba("number", "register", THIRD, "--json")  # the kept PIN, not a new one
    assert again.code == 0, again.err
    assert body_of(registered)["pin"] == body["pin"]
    assert "pin" not in again.json()
    with db.session() as session:
        assert [c.action for c in session.exec(select(RegistrationCall)).all()] == ["register", "register"]


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"code_verification_status": "NOT_VERIFIED"}, "waba number request-code +15550134569"),
        ({"name_status": "PENDING_REVIEW"}, "PENDING_REVIEW"),
        ({"name_status": "DECLINED"}, "DECLINED"),
    ],
)
def test_register_refuses_what_meta_would_answer_2388001_without_calling_it(
    waba: Any, synced: Any, graph: respx.MockRouter, fields: dict[str, Any], said: str
) -> None:
    get_number(graph, third(**UNREGISTERED, **fields))
    registered = graph.post(f"/{THIRD}/register").respond(200, json={"success": True})

    result = waba("number", "register", THIRD, "--pin", "482915")

    assert result.code == 2
    assert "2388001" in result.err and said in result.err
    assert not registered.called


def test_the_eleventh_register_or_deregister_within_72_hours_is_refused(
    waba: Any, synced: Any, graph: respx.MockRouter, db: Database
) -> None:
    number = rows(db)[THIRD]
    with db.transaction() as session:
        for hours in range(10):
            at = utcnow() - timedelta(hours=hours * 7)
            session.add(RegistrationCall(number_id=number.id, action="register", at=at))
    get_number(graph, third(**UNREGISTERED))
    registered = graph.post(f"/{THIRD}/register").respond(200, json={"success": True})
    deregistered = graph.post(f"/{THIRD}/deregister").respond(200, json={"success": True})

    result = waba("number", "register", THIRD, "--pin", "482915")
    assert result.code == 2
    assert "133016" in result.err and "try again after" in result.err
    assert waba("number", "deregister", THIRD, "--yes").code == 2
    assert not registered.called and not deregistered.called

    with db.transaction() as session:  # one of them is 73 hours old: one call is free again
        oldest = session.exec(select(RegistrationCall).order_by(RegistrationCall.at)).first()
        assert oldest is not None
        oldest.at = utcnow() - timedelta(hours=73)
        session.add(oldest)
    assert waba("number", "register", THIRD, "--pin", "482915").code == 0


@pytest.mark.parametrize("pin", ["12345", "1234567", "abcdef", "12 345"])
def test_a_bad_pin_is_exit_2_and_sends_nothing(waba: Any, synced: Any, graph: respx.MockRouter, pin: str) -> None:
    calls_before = len(graph.calls)
    assert waba("number", "register", THIRD, "--pin", pin).code == 2
    assert waba("number", "set-pin", THIRD, pin).code == 2
    assert len(graph.calls) == calls_before


def test_set_pin_sends_it_and_keeps_it(waba: Any, synced: Any, graph: respx.MockRouter, db: Database) -> None:
    route = graph.post(f"/{SECOND}").respond(200, json={"success": True})
    assert waba("number", "set-pin", SECOND, "482915").code == 0
    assert body_of(route) == {"pin": "482915"}
    assert _pin_of(db, SECOND) == "482915"
    assert rows(db)[SECOND].is_pin_enabled is True


def test_register_without_a_pin_on_a_number_with_an_unknown_pin_says_how(
    waba: Any, synced: Any, graph: respx.MockRouter
) -> None:
    get_number(graph, third(**UNREGISTERED, is_pin_enabled=True))
    result = waba("number", "register", THIRD)
    assert result.code == 2
    assert "waba number set-pin +15550134569" in result.err


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (graph_error(133005, "Two step verification PIN Mismatch"), "`waba number set-pin +15550134569 PIN`"),
        (graph_error(133006, "Phone number re-verification needed"), "`waba number request-code +15550134569`"),
        (graph_error(133008, "Too many two step verification PIN guesses"), "wait as the details say"),
        (graph_error(133009, "Two step verification PIN guessed too fast"), "entered too fast"),
        (graph_error(133010, "Phone number Not Registered"), "`waba number register +15550134569`"),
        (graph_error(133016, "Account register deregister rate limit exceeded"), "10 per 72 h"),
        (graph_error(100, "Invalid parameter", subcode=2388001), "Meta cannot create the certificate yet"),
    ],
)
def test_register_errors_become_one_line_with_the_next_step(
    waba: Any, synced: Any, graph: respx.MockRouter, db: Database, answer: Any, expected: str
) -> None:
    get_number(graph, third(**UNREGISTERED))
    graph.post(f"/{THIRD}/register").mock(return_value=answer)

    result = waba("number", "register", THIRD, "--pin", "482915")

    assert result.code == 1
    assert len(result.err.strip().splitlines()) == 1
    assert expected in result.err
    with db.session() as session:  # the call counts, with Meta's answer on it
        call = session.exec(select(RegistrationCall)).one()
    assert call.error_code == answer.json()["error"]["code"]


@pytest.mark.parametrize(
    ("command", "path", "answer", "expected"),
    [
        (("request-code", THIRD), "request_code", graph_error(100, "x", subcode=2388091), "WhatsApp Manager"),
        (("verify-code", THIRD, "123456"), "verify_code", graph_error(100, "x", subcode=2388093), "WhatsApp Manager"),
        (("verify-code", THIRD, "123456"), "verify_code", graph_error(136025, "Verify code error"), "request-code"),
    ],
)
def test_code_errors_say_what_to_do(
    waba: Any, synced: Any, graph: respx.MockRouter, command: tuple[str, ...], path: str, answer: Any, expected: str
) -> None:
    graph.post(f"/{THIRD}/{path}").mock(return_value=answer)
    result = waba("number", *command)
    assert result.code == 1
    assert expected in result.err


def test_deregister_needs_confirmation_without_a_terminal(waba: Any, synced: Any, graph: respx.MockRouter) -> None:
    route = graph.post(f"/{SECOND}/deregister").respond(200, json={"success": True})
    get_number(graph, second(**UNREGISTERED))

    refused = waba("number", "deregister", SECOND)
    assert refused.code == 2 and "--yes" in refused.err
    assert not route.called
    done = waba("number", "deregister", SECOND, "--yes", "--json")
    assert done.code == 0, done.err
    assert route.calls.last.request.content == b""
    assert done.json()["status"] == "DISCONNECTED"


def test_dry_run_prints_the_register_request_with_the_pin_masked(
    waba: Any, synced: Any, graph: respx.MockRouter, db: Database
) -> None:
    get_number(graph, third(**UNREGISTERED))
    result = waba("number", "register", THIRD, "--pin", "482915", "--dry-run", "--json")
    assert result.code == 0, result.err
    request = result.json()["request"]
    assert request["method"] == "POST" and request["url"].split("?")[0].endswith(f"/{THIRD}/register")
    assert request["json"]["pin"] == "******"
    with db.session() as session:
        assert session.exec(select(RegistrationCall)).all() == []


def test_add_creates_the_number_at_meta_then_records_it(
    waba: Any, account: Any, graph: respx.MockRouter, db: Database
) -> None:
    created = graph.post(f"/{WABA}/phone_numbers").respond(200, json={"id": THIRD})
    get_number(graph, third(**UNREGISTERED, code_verification_status="NOT_VERIFIED", name_status="PENDING_REVIEW"))

    result = waba("number", "add", "--cc", "1", "--phone-number", "555 013 4569", "--verified-name", "Acme", "--json")

    assert result.code == 0, result.err
    assert body_of(created) == {"cc": "1", "phone_number": "5550134569", "verified_name": "Acme"}
    stored = rows(db)[THIRD]
    assert stored.phone_number == "+15550134569" and stored.name_status == "PENDING_REVIEW"
    assert stored.is_default is False


def test_add_an_existing_number_answers_2388012_with_the_next_step(
    waba: Any, account: Any, graph: respx.MockRouter
) -> None:
    graph.post(f"/{WABA}/phone_numbers").mock(return_value=graph_error(100, "Invalid parameter", subcode=2388012))
    result = waba("number", "add", "--cc", "1", "--phone-number", "5550134569", "--verified-name", "Acme")
    assert result.code == 1
    assert "waba number add --id ID" in result.err


def test_add_by_id_records_a_number_the_waba_has(
    waba: Any, account: Any, graph: respx.MockRouter, db: Database
) -> None:
    list_numbers(graph, [meta_number(), third()])
    assert waba("number", "add", "--id", THIRD).code == 0
    assert rows(db)[THIRD].phone_number == "+15550134569"
    missing = waba("number", "add", "--id", "999999999999999")
    assert missing.code == 2 and "is not a number of WABA" in missing.err


@pytest.mark.parametrize(
    "args",
    [
        ("--cc", "1", "--phone-number", "abc", "--verified-name", "Acme"),
        ("--cc", "1234", "--phone-number", "5550134569", "--verified-name", "Acme"),
        ("--cc", "1", "--phone-number", "5550134569", "--verified-name", " "),
        ("--cc", "1", "--phone-number", "5550134569"),
        ("--id", "12ab"),
    ],
)
def test_add_checks_its_input_before_any_request(waba: Any, account: Any, graph: respx.MockRouter, args: Any) -> None:
    assert waba("number", "add", *args).code == 2
    assert not graph.calls
