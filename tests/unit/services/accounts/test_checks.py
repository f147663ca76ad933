"""The live checks of `waba account verify` (and of the wizard after step 3) against Meta's shapes:
a valid token passes every check, an expired one fails and skips what needs it, a number that is not
in the WABA fails, an app not subscribed to the WABA fails; a token that expires is a loud warning,
and Embedded Signup's newer event scope is accepted with a warning."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import respx

from tests.conftest import GRAPH, SEED_SETUP
from waba_cli.graph.api import GraphAPI
from waba_cli.graph.client import Credentials, GraphClient
from waba_cli.services.accounts import checks as account_checks

APP = SEED_SETUP["app_id"]
WABA = SEED_SETUP["waba_id"]
NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
# Meta's answers (reference §5.3, §5.1, §4.1, §5.2) for the seed's account
TOKEN_INFO: dict[str, Any] = {
    "app_id": APP,
    "type": "SYSTEM_USER",
    "application": "Acme Admin",
    "expires_at": 0,
    "is_valid": True,
    "issued_at": 1717000000,
    "scopes": ["whatsapp_business_management", "whatsapp_business_messaging", "public_profile"],
    "granular_scopes": [
        {"scope": "whatsapp_business_management", "target_ids": [WABA]},
        {"scope": "whatsapp_business_messaging", "target_ids": [WABA]},
    ],
    "user_id": "122100000000000001",
}
WABA_INFO = {"id": WABA, "name": "Acme", "status": "ACTIVE", "account_review_status": "APPROVED"}
NUMBERS: dict[str, Any] = {
    "data": [
        {
            "id": SEED_SETUP["phone_number_id"],
            "verified_name": "Acme",
            "code_verification_status": "VERIFIED",
            "display_phone_number": "+1 555-013-4567",
            "quality_rating": "GREEN",
            "platform_type": "CLOUD_API",
            "throughput": {"level": "STANDARD"},
            "status": "CONNECTED",
            "name_status": "APPROVED",
        }
    ]
}
SUBSCRIBED = {"data": [{"whatsapp_business_api_data": {"id": APP, "name": "Acme Admin"}}]}


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


def _statuses(result: Any) -> dict[str, str]:
    return {c["name"]: c["status"] for c in result.json()["checks"]}


def test_a_valid_token_passes_every_check(waba: Any, account: Any, graph: respx.MockRouter) -> None:
    meta_answers(graph, token={**TOKEN_INFO, "expires_at": 0})

    result = waba("account", "verify", "--json")

    assert result.code == 0, result.err
    assert _statuses(result) == {
        "token": "ok",
        "expiry": "ok",
        "scopes": "ok",
        "waba": "ok",
        "number +1 555-013-4567": "ok",
        "subscription": "ok",
    }
    assert result.json()["ok"] is True and result.json()["subscribed"] is True


def test_an_expired_token_fails_and_the_checks_that_need_it_are_skipped(
    waba: Any, account: Any, graph: respx.MockRouter
) -> None:
    expired = {
        **TOKEN_INFO,
        "is_valid": False,
        "expires_at": int(time.time()) - 3600,
        "error": {"code": 190, "message": "Error validating access token: Session has expired", "subcode": 463},
    }
    routes = meta_answers(graph, token=expired)

    result = waba("account", "verify", "--json")

    assert result.code == 1
    statuses = _statuses(result)
    assert statuses["token"] == "failed"
    assert {statuses[name] for name in statuses if name != "token"} == {"skipped"}
    assert "Session has expired" in result.err and "System User" in result.err
    assert not routes["waba"].called
    assert SEED_SETUP["access_token"] not in result.out + result.err


def test_a_number_not_in_the_waba_fails(waba: Any, account: Any, graph: respx.MockRouter) -> None:
    other = {"data": [{**NUMBERS["data"][0], "id": "555555555555555"}]}
    meta_answers(graph, numbers=other)

    result = waba("account", "verify")

    assert result.code == 1
    assert "FAILED" in result.out or "failed" in result.out
    assert "is not a number of WABA" in result.err and "555555555555555" in result.err


def test_an_app_not_subscribed_to_the_waba_fails_with_the_command_that_fixes_it(
    waba: Any, account: Any, graph: respx.MockRouter
) -> None:
    meta_answers(graph, apps={"data": []})

    result = waba("account", "verify", "--json")

    assert result.code == 1
    assert _statuses(result)["subscription"] == "failed"
    assert result.json()["subscribed"] is False
    assert "waba account subscribe" in result.err


def test_account_subscribe_posts_an_empty_subscription(waba: Any, account: Any, graph: respx.MockRouter) -> None:
    routes = meta_answers(graph)

    result = waba("account", "subscribe", "--json")

    assert result.code == 0, result.err
    assert result.json()["subscribed"] is True
    assert routes["subscribe"].calls.last.request.content in (b"", b"{}", b"null")


def _check(token: dict[str, Any], graph: respx.MockRouter) -> account_checks.LiveReport:
    meta_answers(graph, token=token)

    async def run() -> account_checks.LiveReport:
        client = GraphClient(
            Credentials(SEED_SETUP["access_token"], APP, SEED_SETUP["app_secret"]),
            base_url=GRAPH.removesuffix("/v23.0"),
            transport=httpx.MockTransport(graph.async_handler),
        )
        async with client:
            return await account_checks.check_live(
                GraphAPI(client),
                app_id=APP,
                app_secret=SEED_SETUP["app_secret"],
                access_token=SEED_SETUP["access_token"],
                waba_id=WABA,
                phone_number_ids=[SEED_SETUP["phone_number_id"]],
                now=NOW,
            )

    return asyncio.run(run())


def test_the_dashboards_24_hour_token_is_a_loud_warning_saying_how_to_make_a_system_user_token(
    graph: respx.MockRouter,
) -> None:
    report = _check({**TOKEN_INFO, "type": "USER", "expires_at": int(NOW.timestamp()) + 23 * 3600}, graph)

    expiry = report.of("expiry")
    assert expiry is not None and expiry.status == account_checks.WARNING
    assert "EXPIRES IN 23 h" in expiry.detail
    assert expiry.hint is not None and "System users" in expiry.hint and "Never" in expiry.hint
    assert report.ok  # a warning, not a failure


def test_an_embedded_signup_token_with_the_newer_event_scope_is_accepted_with_a_warning(
    graph: respx.MockRouter,
) -> None:
    scopes = ["whatsapp_business_manage_events", "whatsapp_business_messaging"]
    granular = [{"scope": s, "target_ids": [WABA]} for s in scopes]
    report = _check({**TOKEN_INFO, "scopes": scopes, "granular_scopes": granular}, graph)

    check = report.of("scopes")
    assert check is not None and check.status == account_checks.WARNING
    assert "whatsapp_business_manage_events" in check.detail
    assert report.ok


def test_a_token_without_the_messaging_permission_fails_naming_it(graph: respx.MockRouter) -> None:
    report = _check({**TOKEN_INFO, "scopes": ["whatsapp_business_management"]}, graph)

    check = report.of("scopes")
    assert check is not None and check.status == account_checks.FAILED
    assert "whatsapp_business_messaging" in check.detail and check.key == "access_token"
