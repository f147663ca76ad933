"""Numbers, profile, subscriptions, tokens, analytics, Flows and uploads in the sandbox, through
waba's own Graph client where it has a method, over loopback."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from tests.support.sandbox import PNID, WABA, Receiver, SandboxProcess
from waba_cli.graph.api import GraphAPI
from waba_cli.graph.client import Credentials, GraphClient
from waba_cli.sandbox import fixtures

T = TypeVar("T")


def _with_api(sandbox: SandboxProcess, call: Callable[[GraphAPI], Awaitable[T]]) -> T:
    async def run() -> T:
        credentials = Credentials(fixtures.ACCESS_TOKEN, fixtures.APP_ID, fixtures.APP_SECRET)
        async with GraphClient(credentials, base_url=sandbox.url) as client:
            return await call(GraphAPI(client))

    return asyncio.run(run())


def test_debug_token_describes_the_sandbox_token(sandbox: SandboxProcess) -> None:
    info = _with_api(
        sandbox,
        lambda api: api.debug_token(fixtures.ACCESS_TOKEN, app_id=fixtures.APP_ID, app_secret=fixtures.APP_SECRET),
    )
    assert info["is_valid"] is True
    assert info["app_id"] == fixtures.APP_ID
    assert info["expires_at"] == 0
    assert {"scope": "whatsapp_business_messaging", "target_ids": [WABA]} in info["granular_scopes"]
    unknown = _with_api(
        sandbox, lambda api: api.debug_token("EAAGnot-issued", app_id=fixtures.APP_ID, app_secret=fixtures.APP_SECRET)
    )
    assert unknown["is_valid"] is False
    assert unknown["error"]["code"] == 190


def test_debug_token_with_a_wrong_app_secret_is_190(sandbox: SandboxProcess) -> None:
    response = sandbox.client.get(
        "/debug_token",
        params={"input_token": fixtures.ACCESS_TOKEN},
        headers={"Authorization": f"Bearer {fixtures.APP_ID}|wrong"},
    )
    assert response.json()["error"]["code"] == 190


def test_phone_numbers_list_and_fields(sandbox: SandboxProcess) -> None:
    numbers = _with_api(sandbox, lambda api: api.list_phone_numbers(WABA))
    # the last onboarded first: the number waiting for its review, then the sending ones
    assert [n["id"] for n in numbers] == [
        fixtures.PENDING_PHONE_NUMBER_ID,
        fixtures.PHONE_NUMBER_ID,
        fixtures.SECOND_PHONE_NUMBER_ID,
        fixtures.UNREGISTERED_PHONE_NUMBER_ID,
    ]
    first = numbers[1]
    assert first["status"] == "CONNECTED"
    assert first["whatsapp_business_manager_messaging_limit"] == "TIER_10K"
    assert first["throughput"] == {"level": "STANDARD"}
    unknown = sandbox.client.get(f"/{PNID}", params={"fields": "id,favourite_colour"}).json()["error"]
    assert unknown["code"] == 100
    assert "favourite_colour" in unknown["message"]


def test_request_and_verify_code(sandbox: SandboxProcess) -> None:
    assert sandbox.client.post(f"/{PNID}/request_code", params={"code_method": "SMS", "language": "en_US"}).json() == {
        "success": True
    }
    assert sandbox.client.post(f"/{PNID}/verify_code", data={"code": "000000"}).json()["error"]["code"] == 136025
    assert sandbox.client.post(f"/{PNID}/verify_code", data={"code": "123456"}).json() == {"success": True}
    assert (
        sandbox.client.post(f"/{PNID}/request_code", params={"code_method": "FAX", "language": "en"}).json()["error"][
            "code"
        ]
        == 100
    )


def test_business_profile_round_trip_and_limits(sandbox: SandboxProcess) -> None:
    changes = {"about": "Fresh succulents, every day", "websites": ["https://shop.example.com"]}
    assert _with_api(sandbox, lambda api: api.update_business_profile(PNID, changes)) == {"success": True}
    profile = _with_api(sandbox, lambda api: api.get_business_profile(PNID))
    assert profile["about"] == "Fresh succulents, every day"
    assert profile["vertical"] == "RETAIL"
    too_long = sandbox.client.post(
        f"/{PNID}/whatsapp_business_profile", json={"messaging_product": "whatsapp", "about": "x" * 140}
    )
    assert too_long.json()["error"]["code"] == 100


def test_subscribed_apps_subscribe_with_a_verified_override(sandbox: SandboxProcess, receiver: Receiver) -> None:
    apps = _with_api(sandbox, lambda api: api.list_subscribed_apps(WABA))
    assert apps[0]["whatsapp_business_api_data"]["id"] == fixtures.APP_ID
    refused = sandbox.client.post(
        f"/{WABA}/subscribed_apps", json={"override_callback_uri": receiver.url, "verify_token": "wrong"}
    )
    assert refused.json()["error"]["code"] == 2200
    ok = _with_api(
        sandbox,
        lambda api: api.subscribe_app(WABA, override_callback_uri=receiver.url, verify_token=fixtures.VERIFY_TOKEN),
    )
    assert ok == {"success": True}
    assert _with_api(sandbox, lambda api: api.list_subscribed_apps(WABA))[0]["override_callback_uri"] == receiver.url
    assert _with_api(sandbox, lambda api: api.subscribe_app(WABA)) == {"success": True}  # removes the override
    assert "override_callback_uri" not in _with_api(sandbox, lambda api: api.list_subscribed_apps(WABA))[0]


def test_waba_analytics_count_what_was_sent(sandbox: SandboxProcess) -> None:
    customer = "+15551230501"
    sandbox.client.post(
        f"{sandbox.url}/_sandbox/inbound", json={"to": fixtures.PHONE_NUMBER, "from": customer, "text": "hi"}
    )
    for _ in range(3):
        sandbox.send({"to": customer, "type": "text", "text": {"body": "hello"}})
    time.sleep(0.5)
    now = int(time.time())
    fields = f"analytics.start({now - 86400}).end({now + 60}).granularity(DAY)"
    analytics = sandbox.client.get(f"/{WABA}", params={"fields": fields}).json()["analytics"]
    assert analytics["granularity"] == "DAY"
    assert sum(p["sent"] for p in analytics["data_points"]) >= 3
    assert sum(p["delivered"] for p in analytics["data_points"]) >= 3
    span = f"start({now - 86400}).end({now + 60}).granularity(DAILY)"
    fields = f"pricing_analytics.{span}.dimensions(PRICING_CATEGORY,PRICING_TYPE)"
    pricing = sandbox.client.get(f"/{WABA}", params={"fields": fields}).json()["pricing_analytics"]
    points = pricing["data"][0]["data_points"]
    assert any(p["pricing_category"] == "SERVICE" and p["pricing_type"] == "FREE_CUSTOMER_SERVICE" for p in points)
    bad = sandbox.client.get(f"/{WABA}", params={"fields": f"analytics.start({now}).end({now + 60}).granularity(WEEK)"})
    assert bad.json()["error"]["code"] == 100


def test_flow_lifecycle_create_upload_publish_deprecate(sandbox: SandboxProcess, receiver: Receiver) -> None:
    created = sandbox.client.post(f"/{WABA}/flows", json={"name": "survey_demo", "categories": ["SURVEY"]}).json()
    flow_id = created["id"]
    bad_json = json.dumps(
        {
            "version": "7.1",
            "screens": [{"id": "START", "layout": {"type": "SingleColumnLayout", "children": [{"type": "Sparkles"}]}}],
        }
    )
    files = {"file": ("flow.json", bad_json, "application/json")}
    upload = sandbox.client.post(
        f"/{flow_id}/assets", data={"name": "flow.json", "asset_type": "FLOW_JSON"}, files=files
    )
    errors = upload.json()["validation_errors"]
    assert {e["error"] for e in errors} >= {"INVALID_PROPERTY_VALUE", "MISSING_TERMINAL_SCREEN"}
    assert sandbox.client.post(f"/{flow_id}/publish").json()["error"]["code"] == 139002
    good_json = json.dumps(fixtures.APPOINTMENT_FLOW_JSON)
    files = {"file": ("flow.json", good_json, "application/json")}
    upload = sandbox.client.post(
        f"/{flow_id}/assets", data={"name": "flow.json", "asset_type": "FLOW_JSON"}, files=files
    )
    assert upload.json() == {"success": True, "validation_errors": []}
    assert sandbox.client.post(f"/{flow_id}/publish").json() == {"success": True}
    changes = [c for c in receiver.changes() if c["field"] == "flows"]
    while not changes:
        changes = [c for c in receiver.changes() if c["field"] == "flows"]
    assert changes[0]["value"]["new_status"] == "PUBLISHED"
    assert sandbox.client.delete(f"/{flow_id}").json()["error"]["code"] == 139004
    assert sandbox.client.post(f"/{flow_id}/deprecate").json() == {"success": True}
    listed = sandbox.client.get(f"/{WABA}/flows").json()["data"]
    assert {
        "id": flow_id,
        "name": "survey_demo",
        "status": "DEPRECATED",
        "categories": ["SURVEY"],
        "validation_errors": [],
    } in listed


def test_media_upload_then_send_by_id(sandbox: SandboxProcess) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    media_id = _with_api(sandbox, lambda api: api.upload_media(PNID, png, filename="logo.png", mime="image/png"))
    info = sandbox.client.get(f"/{media_id}").json()
    assert (info["mime_type"], info["file_size"]) == ("image/png", len(png))
    download = sandbox.client.get(info["url"])
    assert download.content == png
    sent = sandbox.send({"to": "+15551230601", "type": "image", "image": {"id": media_id}})
    assert sent.status_code == 200
    wrong = _with_api_error(
        sandbox, lambda api: api.upload_media(PNID, b"MZ", filename="x.exe", mime="application/x-msdownload")
    )
    assert wrong == 131053


def _with_api_error(sandbox: SandboxProcess, call: Callable[[GraphAPI], Awaitable[Any]]) -> int | None:
    from waba_cli.graph.errors import GraphError

    try:
        _with_api(sandbox, call)
    except GraphError as exc:
        return exc.code
    return None


def test_resumable_upload_gives_a_handle_for_the_profile_picture(sandbox: SandboxProcess) -> None:
    data = b"\xff\xd8\xff" + b"\x01" * 300

    async def upload(api: GraphAPI) -> tuple[str, int, str]:
        session = await api.create_upload_session(
            fixtures.APP_ID, file_name="logo.jpg", file_length=len(data), file_type="image/jpeg"
        )
        partial = await api.upload_file(session["id"], data[:100])
        progress = await api.get_upload_session(session["id"])
        done = await api.upload_file(session["id"], data[100:], file_offset=100)
        return str(partial.get("h")), int(progress["file_offset"]), done["h"]

    partial_handle, offset, handle = _with_api(sandbox, upload)
    assert partial_handle == "None"
    assert offset == 100
    assert handle.startswith("4::")
    picture = {"messaging_product": "whatsapp", "profile_picture_handle": handle}
    assert sandbox.client.post(f"/{PNID}/whatsapp_business_profile", json=picture).json() == {"success": True}
