"""The sandbox's numbers (§4, §5.6) in process: two pages when asked, a number not registered yet,
one whose display name is in review, 2388001 before verification, 133005 on a wrong PIN, 133016
after ten calls, health per number, and the upload session for a profile picture."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.support.sandbox import call
from waba_cli.sandbox import fixtures
from waba_cli.sandbox.core import Sandbox
from waba_cli.sandbox.runtime import Options, Request
from waba_cli.sandbox.state import PhoneNumber

WABA = fixtures.WABA_ID
UNREGISTERED = fixtures.UNREGISTERED_PHONE_NUMBER_ID
PENDING = fixtures.PENDING_PHONE_NUMBER_ID


def _sandbox() -> Sandbox:
    return Sandbox(fixtures.seed_state(), Options())


def test_the_list_comes_in_two_pages_when_asked_for_two_a_page() -> None:
    sandbox = _sandbox()
    status, first = call(sandbox, "GET", f"{WABA}/phone_numbers", limit="2", fields="id,status")
    assert status == 200
    assert len(first["data"]) == 2 and "next" in first["paging"]
    query = dict(parse_qsl(urlsplit(first["paging"]["next"]).query))
    status, rest = call(sandbox, "GET", f"{WABA}/phone_numbers", **query)
    assert status == 200
    assert "next" not in rest["paging"]
    ids = [n["id"] for n in first["data"] + rest["data"]]
    assert sorted(ids) == sorted([fixtures.PHONE_NUMBER_ID, fixtures.SECOND_PHONE_NUMBER_ID, UNREGISTERED, PENDING])
    assert urlencode({"fields": "id,status"}) in first["paging"]["next"]


def test_the_seed_has_a_number_not_registered_and_one_whose_name_is_in_review() -> None:
    sandbox = _sandbox()
    fields = "status,platform_type,throughput,code_verification_status,name_status,health_status"
    _, unregistered = call(sandbox, "GET", UNREGISTERED, fields=fields)
    assert unregistered["platform_type"] == "NOT_APPLICABLE"
    assert unregistered["throughput"] == {"level": "NOT_APPLICABLE"}
    assert unregistered["health_status"]["can_send_message"] == "BLOCKED"
    _, pending = call(sandbox, "GET", PENDING, fields=fields)
    assert pending["name_status"] == "PENDING_REVIEW"
    assert pending["code_verification_status"] == "NOT_VERIFIED"
    _, healthy = call(sandbox, "GET", fixtures.PHONE_NUMBER_ID, fields="health_status")
    entities = healthy["health_status"]["entities"]
    assert [e["entity_type"] for e in entities] == ["PHONE_NUMBER", "WABA", "BUSINESS", "APP"]
    assert healthy["health_status"]["can_send_message"] == "AVAILABLE"
    _, waba = call(sandbox, "GET", WABA, fields="health_status")
    assert "PHONE_NUMBER" not in [e["entity_type"] for e in waba["health_status"]["entities"]]


def test_register_needs_a_verified_number_with_an_approved_name() -> None:
    sandbox = _sandbox()
    status, refused = call(sandbox, "POST", f"{PENDING}/register", {"messaging_product": "whatsapp", "pin": "482915"})
    assert status == 400
    assert (refused["error"]["code"], refused["error"]["error_subcode"]) == (100, 2388001)
    call(sandbox, "POST", f"{PENDING}/request_code", code_method="SMS", language="en_US")
    assert call(sandbox, "POST", f"{PENDING}/verify_code", {"code": "123456"})[0] == 200
    call(sandbox, "POST", f"_sandbox/phone_numbers/{PENDING}", {"name_status": "APPROVED"})
    status, done = call(sandbox, "POST", f"{PENDING}/register", {"messaging_product": "whatsapp", "pin": "482915"})
    assert (status, done) == (200, {"success": True})
    _, number = call(sandbox, "GET", PENDING, fields="status,platform_type,throughput")
    assert number == {
        "status": "CONNECTED",
        "platform_type": "CLOUD_API",
        "throughput": {"level": "STANDARD"},
        "id": PENDING,
    }


def test_a_wrong_pin_is_133005_and_the_eleventh_call_in_72_hours_133016() -> None:
    sandbox = _sandbox()
    register = {"messaging_product": "whatsapp", "pin": "482915"}
    assert call(sandbox, "POST", f"{UNREGISTERED}/register", register)[0] == 200
    status, wrong = call(sandbox, "POST", f"{UNREGISTERED}/register", {**register, "pin": "000000"})
    assert (status, wrong["error"]["code"]) == (400, 133005)
    number: PhoneNumber = sandbox.state.phone_numbers[UNREGISTERED]
    assert len(number.registrations) == 2
    for _ in range(8):
        assert call(sandbox, "POST", f"{UNREGISTERED}/register", register)[0] == 200
    status, limited = call(sandbox, "POST", f"{UNREGISTERED}/deregister")
    assert limited["error"]["code"] == 133016


def test_deregister_makes_the_number_need_registering_again() -> None:
    sandbox = _sandbox()
    assert call(sandbox, "POST", f"{fixtures.SECOND_PHONE_NUMBER_ID}/deregister")[0] == 200
    _, number = call(sandbox, "GET", fixtures.SECOND_PHONE_NUMBER_ID, fields="platform_type,throughput")
    assert number["platform_type"] == "NOT_APPLICABLE" and number["throughput"] == {"level": "NOT_APPLICABLE"}


def test_an_added_number_waits_for_its_code_name_and_registration() -> None:
    sandbox = _sandbox()
    status, created = call(
        sandbox, "POST", f"{WABA}/phone_numbers", {"cc": "1", "phone_number": "6505550199", "verified_name": "Acme"}
    )
    assert status == 200
    _, number = call(sandbox, "GET", created["id"], fields="code_verification_status,name_status,throughput")
    assert number["code_verification_status"] == "NOT_VERIFIED"
    assert number["name_status"] == "PENDING_REVIEW"
    assert number["throughput"] == {"level": "NOT_APPLICABLE"}
    again = call(
        sandbox, "POST", f"{WABA}/phone_numbers", {"cc": "1", "phone_number": "6505550199", "verified_name": "A"}
    )
    assert again[1]["error"]["code"] == 100


def test_the_upload_session_gives_a_handle_the_profile_accepts() -> None:
    sandbox = _sandbox()
    picture = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
    status, session = call(
        sandbox,
        "POST",
        f"{fixtures.APP_ID}/uploads",
        file_name="logo.png",
        file_length=str(len(picture)),
        file_type="image/png",
    )
    assert status == 200 and session["id"].startswith("upload:")
    request = Request(
        "POST",
        f"/v23.0/{session['id'].split('?')[0]}",
        {},
        {"authorization": f"OAuth {fixtures.ACCESS_TOKEN}", "file_offset": "0"},
        picture,
        "http://127.0.0.1",
    )
    status, uploaded = asyncio.run(sandbox.handle(request))
    assert status == 200, uploaded
    body = {"messaging_product": "whatsapp", "profile_picture_handle": uploaded["h"]}
    assert call(sandbox, "POST", f"{fixtures.PHONE_NUMBER_ID}/whatsapp_business_profile", body)[0] == 200
    bad = {"messaging_product": "whatsapp", "profile_picture_handle": "4::not-a-handle"}
    assert call(sandbox, "POST", f"{fixtures.PHONE_NUMBER_ID}/whatsapp_business_profile", bad)[0] == 400
