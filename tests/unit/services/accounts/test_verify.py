"""Live verification of credentials at setup and with `account verify`, against Meta's shapes."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import respx
from sqlalchemy import create_engine, text

from tests.support.world import SEED_SETUP

WABA = SEED_SETUP["waba_id"]
PHONE_ID = SEED_SETUP["phone_number_id"]
APP = SEED_SETUP["app_id"]
TOKEN_INFO = {
    "app_id": APP,
    "type": "SYSTEM_USER",
    "application": "Acme Admin",
    "data_access_expires_at": 0,
    "expires_at": 1893456000,
    "is_valid": True,
    "issued_at": 1717000000,
    "scopes": ["whatsapp_business_management", "whatsapp_business_messaging", "public_profile"],
    "granular_scopes": [
        {"scope": "whatsapp_business_management", "target_ids": [WABA]},
        {"scope": "whatsapp_business_messaging", "target_ids": [WABA]},
    ],
    "user_id": "122100000000000001",
}
WABA_INFO = {
    "id": WABA,
    "name": "Acme",
    "currency": "EUR",
    "timezone_id": "1",
    "account_review_status": "APPROVED",
    "business_verification_status": "verified",
    "country": "DE",
    "status": "ACTIVE",
}
NUMBERS = {
    "data": [
        {
            "verified_name": "Acme",
            "code_verification_status": "VERIFIED",
            "display_phone_number": "+1 555-013-4567",
            "quality_rating": "GREEN",
            "platform_type": "CLOUD_API",
            "throughput": {"level": "STANDARD"},
            "id": PHONE_ID,
            "status": "CONNECTED",
            "whatsapp_business_manager_messaging_limit": "TIER_2K",
        }
    ],
    "paging": {"cursors": {"before": "QVFIUk", "after": "QVFIUl"}},
}


SUBSCRIBED = {
    "data": [
        {
            "whatsapp_business_api_data": {
                "id": APP,
                "link": f"https://www.facebook.com/games/?app_id={APP}",
                "name": "Acme Admin",
            }
        }
    ]
}


def meta_answers(
    graph: respx.MockRouter,
    token: dict[str, Any] | None = None,
    numbers: dict[str, Any] | None = None,
    apps: dict[str, Any] | None = None,
) -> dict[str, respx.Route]:
    return {
        "debug": graph.get("/debug_token").respond(200, json={"data": token or TOKEN_INFO}),
        "waba": graph.get(f"/{WABA}").respond(200, json=WABA_INFO),
        "numbers": graph.get(f"/{WABA}/phone_numbers").respond(200, json=numbers or NUMBERS),
        "apps": graph.get(f"/{WABA}/subscribed_apps").respond(200, json=SUBSCRIBED if apps is None else apps),
        "subscribe": graph.post(f"/{WABA}/subscribed_apps").respond(200, json={"success": True}),
    }


def test_setup_verifies_with_meta_and_stores_what_meta_says(
    waba: Any, setup_file: Any, graph: respx.MockRouter, database_url: str
) -> None:
    routes = meta_answers(graph)

    result = waba("account", "setup", "--from-file", str(setup_file()), "--json")

    assert result.code == 0, result.err
    assert result.json()["verified"] is True
    debug = routes["debug"].calls.last.request
    assert debug.url.params["input_token"] == SEED_SETUP["access_token"]
    assert debug.headers["Authorization"] == f"Bearer {APP}|{SEED_SETUP['app_secret']}"
    waba_call = routes["waba"].calls.last.request
    assert waba_call.headers["Authorization"] == f"Bearer {SEED_SETUP['access_token']}"
    proof = hmac.new(SEED_SETUP["app_secret"].encode(), SEED_SETUP["access_token"].encode(), hashlib.sha256)
    assert waba_call.url.params["appsecret_proof"] == proof.hexdigest()
    shown = waba("account", "show", "--json").json()
    assert shown["status"] == "ACTIVE" and shown["currency"] == "EUR" and shown["token_type"] == "SYSTEM_USER"
    assert shown["token_expires_at"].startswith("2030-01-01")
    assert shown["phone_numbers"][0]["quality_rating"] == "GREEN"
    engine = create_engine(database_url)
    with engine.connect() as conn:
        calls = conn.execute(text("SELECT method, endpoint, status_code FROM api_call ORDER BY id")).all()
    engine.dispose()
    assert calls == [
        ("GET", "/debug_token", 200),
        ("GET", "/{id}", 200),
        ("GET", "/{id}/phone_numbers", 200),
        ("GET", "/{id}/subscribed_apps", 200),
    ]
    assert not routes["subscribe"].called  # subscribed already: nothing changes at Meta


def test_setup_subscribes_the_app_when_meta_says_it_is_not(waba: Any, setup_file: Any, graph: respx.MockRouter) -> None:
    routes = meta_answers(graph, apps={"data": []})

    result = waba("account", "setup", "--from-file", str(setup_file()), "--json")

    assert result.code == 0, result.err
    assert result.json()["subscribed"] is True
    assert routes["subscribe"].call_count == 1
    assert routes["subscribe"].calls.last.request.content in (b"", b"{}", b"null")


def test_setup_refuses_an_invalid_token_and_writes_nothing(waba: Any, setup_file: Any, graph: respx.MockRouter) -> None:
    meta_answers(
        graph,
        token={
            **TOKEN_INFO,
            "is_valid": False,
            "error": {"code": 190, "message": "Session has expired", "subcode": 463},
        },
    )

    result = waba("account", "setup", "--from-file", str(setup_file()))

    assert result.code == 2
    assert "access_token" in result.err and "Session has expired" in result.err
    assert SEED_SETUP["access_token"] not in result.err
    assert waba("account", "list", "--json").json() == []


def test_setup_refuses_a_wrong_app_secret(waba: Any, setup_file: Any, graph: respx.MockRouter) -> None:
    graph.get("/debug_token").respond(
        400,
        json={
            "error": {
                "message": "Invalid OAuth access token signature.",
                "type": "OAuthException",
                "code": 190,
                "fbtrace_id": "AbCdEf",
            }
        },
    )

    result = waba("account", "setup", "--from-file", str(setup_file()))

    assert result.code == 2
    assert "app_secret" in result.err
    assert SEED_SETUP["app_secret"] not in result.err


def test_setup_refuses_a_token_missing_a_permission(waba: Any, setup_file: Any, graph: respx.MockRouter) -> None:
    meta_answers(graph, token={**TOKEN_INFO, "scopes": ["whatsapp_business_management"]})
    result = waba("account", "setup", "--from-file", str(setup_file()))
    assert result.code == 2
    assert "whatsapp_business_messaging" in result.err


def test_setup_refuses_a_token_scoped_to_another_waba(waba: Any, setup_file: Any, graph: respx.MockRouter) -> None:
    meta_answers(
        graph,
        token={
            **TOKEN_INFO,
            "granular_scopes": [{"scope": "whatsapp_business_management", "target_ids": ["999999999999999"]}],
        },
    )
    result = waba("account", "setup", "--from-file", str(setup_file()))
    assert result.code == 2
    assert "waba_id" in result.err


def test_setup_refuses_a_number_of_another_waba(waba: Any, setup_file: Any, graph: respx.MockRouter) -> None:
    meta_answers(graph, numbers={"data": [{"id": "555555555555555", "display_phone_number": "+1 555-000-0000"}]})
    result = waba("account", "setup", "--from-file", str(setup_file()))
    assert result.code == 2
    assert "phone_number_id" in result.err and "555555555555555" in result.err
    assert waba("account", "list", "--json").json() == []


def test_setup_reports_an_unreachable_graph_api_as_a_failure(waba: Any, setup_file: Any, isolated: Any) -> None:
    (isolated / "config.toml").write_text("[graph]\nmax_retries = 1\nretry_max_wait = 0.01\n")
    result = waba("account", "setup", "--from-file", str(setup_file()))
    assert result.code == 1
    errors = [line for line in result.err.splitlines() if not line.startswith("note:")]
    assert len(errors) == 1 and "ConnectError" in errors[0] and "Traceback" not in result.err
    assert waba("account", "list", "--json").json() == []


def test_account_verify_refreshes_token_expiry_and_status(waba: Any, account: Any, graph: respx.MockRouter) -> None:
    meta_answers(graph, token={**TOKEN_INFO, "expires_at": 0})

    result = waba("account", "verify", "--json")

    assert result.code == 0, result.err
    assert result.json()["token_expires_at"] is None and result.json()["waba_status"] == "ACTIVE"
    shown = waba("account", "show", "--json").json()
    assert shown["verified_at"] is not None
    assert shown["phone_numbers"][0]["status"] == "CONNECTED"


def test_account_verify_explains_an_expired_token(waba: Any, account: Any, graph: respx.MockRouter) -> None:
    meta_answers(graph)
    graph.get(f"/{WABA}").respond(
        401,
        json={
            "error": {
                "message": "Error validating access token: Session has expired",
                "type": "OAuthException",
                "code": 190,
                "error_subcode": 463,
                "fbtrace_id": "AzXy",
            }
        },
    )

    result = waba("account", "verify")

    assert result.code == 1
    assert "waba account update" in result.err and "AzXy" in result.err


def test_a_number_in_coexistence_is_stored_as_such(
    waba: Any, setup_file: Any, graph: respx.MockRouter, database_url: str
) -> None:
    """``is_on_biz_app`` (also used in the WhatsApp Business app) fixes the number at 20 messages/s."""
    numbers = {"data": [{**NUMBERS["data"][0], "is_on_biz_app": True}]}
    routes = meta_answers(graph, numbers=numbers)

    result = waba("account", "setup", "--from-file", str(setup_file()), "--json")

    assert result.code == 0, result.err
    assert "is_on_biz_app" in routes["numbers"].calls.last.request.url.params["fields"].split(",")
    engine = create_engine(database_url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT is_on_biz_app FROM phone_number")).scalar_one()
    engine.dispose()
    assert stored in (True, 1)
