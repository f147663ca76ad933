"""GraphAPI: the exact request each wrapper sends, against a mocked Graph API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from tests.support.graph import TOKEN, body_of, no_sleep, url
from waba_cli.graph.api import PHONE_NUMBER_FIELDS, GraphAPI
from waba_cli.graph.client import Credentials, GraphClient
from waba_cli.graph.errors import RateLimited

pytestmark = pytest.mark.anyio

WABA = "104839201938475"
PHONE = "109283746501928"


@pytest.fixture
async def api(router: respx.MockRouter) -> AsyncIterator[GraphAPI]:
    transport = httpx.MockTransport(router.async_handler)
    async with GraphClient(Credentials(TOKEN), transport=transport, sleep=no_sleep) as client:
        yield GraphAPI(client)


async def test_debug_token_uses_the_app_token(api: GraphAPI, router: respx.MockRouter) -> None:
    data = {"app_id": "670843887433847", "type": "SYSTEM_USER", "is_valid": True, "expires_at": 0}
    route = router.get(url("debug_token")).respond(200, json={"data": data})

    info = await api.debug_token("EAAGinspected", app_id="670843887433847", app_secret="appsecret123")

    assert info == data
    request = route.calls.last.request
    assert request.method == "GET"
    assert request.url.path == "/v23.0/debug_token"
    assert dict(request.url.params) == {"input_token": "EAAGinspected"}
    assert request.headers["Authorization"] == "Bearer 670843887433847|appsecret123"


async def test_get_waba_asks_for_fields(api: GraphAPI, router: respx.MockRouter) -> None:
    route = router.get(url(WABA)).respond(200, json={"id": WABA, "name": "Lucky Shrub"})
    assert (await api.get_waba(WABA, fields=["id", "name"]))["name"] == "Lucky Shrub"
    assert route.calls.last.request.url.params["fields"] == "id,name"


async def test_list_phone_numbers_reads_every_page(api: GraphAPI, router: respx.MockRouter) -> None:
    pages = {
        None: {
            "data": [{"id": "1"}, {"id": "2"}],
            "paging": {"cursors": {"after": "A"}, "next": url(f"{WABA}/phone_numbers?after=A")},
        },
        "A": {"data": [{"id": "3"}], "paging": {"cursors": {"before": "A", "after": "B"}}},
    }
    route = router.get(url(f"{WABA}/phone_numbers")).mock(
        side_effect=lambda request: httpx.Response(200, json=pages[request.url.params.get("after")])
    )

    numbers = await api.list_phone_numbers(WABA)

    assert [number["id"] for number in numbers] == ["1", "2", "3"]
    assert route.call_count == 2
    assert route.calls[0].request.url.params["fields"] == ",".join(PHONE_NUMBER_FIELDS)


async def test_get_phone_number(api: GraphAPI, router: respx.MockRouter) -> None:
    route = router.get(url(PHONE)).respond(200, json={"id": PHONE, "quality_rating": "GREEN"})
    assert (await api.get_phone_number(PHONE, fields="quality_rating"))["quality_rating"] == "GREEN"
    assert route.calls.last.request.url.params["fields"] == "quality_rating"


async def test_send_message_adds_the_envelope(api: GraphAPI, router: respx.MockRouter) -> None:
    answer = {
        "messaging_product": "whatsapp",
        "contacts": [{"input": "+16505550123", "wa_id": "16505550123"}],
        "messages": [{"id": "wamid.HBgL"}],
    }
    route = router.post(url(f"{PHONE}/messages")).respond(200, json=answer)
    payload = {"to": "+16505550123", "type": "text", "text": {"body": "hello"}}

    assert await api.send_message(PHONE, payload) == answer

    assert body_of(route) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+16505550123",
        "type": "text",
        "text": {"body": "hello"},
    }
    assert payload == {"to": "+16505550123", "type": "text", "text": {"body": "hello"}}
    assert route.calls.last.request.headers["Content-Type"] == "application/json"


async def test_send_message_keeps_a_given_recipient_type(api: GraphAPI, router: respx.MockRouter) -> None:
    route = router.post(url(f"{PHONE}/messages")).respond(200, json={})
    await api.send_message(PHONE, {"recipient_type": "group", "to": "G1", "type": "text", "text": {"body": "x"}})
    assert body_of(route)["recipient_type"] == "group"


async def test_send_message_without_retry(api: GraphAPI, router: respx.MockRouter) -> None:
    route = router.post(url(f"{PHONE}/messages")).respond(
        400, json={"error": {"code": 130429, "message": "(#130429) Rate limit hit"}}
    )
    with pytest.raises(RateLimited):
        await api.send_message(PHONE, {"to": "+1", "type": "text", "text": {"body": "x"}}, retry=False)
    assert route.call_count == 1


async def test_list_templates_with_filters_and_limit(api: GraphAPI, router: respx.MockRouter) -> None:
    page = {
        "data": [{"id": str(i), "name": f"t{i}"} for i in range(3)],
        "paging": {"next": url(f"{WABA}/message_templates?after=X")},
    }
    route = router.get(url(f"{WABA}/message_templates")).respond(200, json=page)

    templates = await api.list_templates(WABA, fields=("name", "status"), limit=2, status="APPROVED")

    assert [template["name"] for template in templates] == ["t0", "t1"]
    assert route.call_count == 1
    assert dict(route.calls.last.request.url.params) == {"fields": "name,status", "status": "APPROVED"}


async def test_create_template_posts_the_body(api: GraphAPI, router: respx.MockRouter) -> None:
    route = router.post(url(f"{WABA}/message_templates")).respond(
        200, json={"id": "594425479261596", "status": "PENDING", "category": "MARKETING"}
    )
    body = {
        "name": "seasonal_promotion",
        "language": "en_US",
        "category": "MARKETING",
        "components": [{"type": "BODY", "text": "Shop now with code {{1}}", "example": {"body_text": [["25OFF"]]}}],
    }

    created = await api.create_template(WABA, body)

    assert created == {"id": "594425479261596", "status": "PENDING", "category": "MARKETING"}
    assert body_of(route) == body


async def test_delete_template_by_name_and_hsm_id(api: GraphAPI, router: respx.MockRouter) -> None:
    route = router.delete(url(f"{WABA}/message_templates")).respond(200, json={"success": True})
    assert await api.delete_template(WABA, "promo") == {"success": True}
    assert dict(route.calls.last.request.url.params) == {"name": "promo"}
    await api.delete_template(WABA, "promo", hsm_id="1304694804498707")
    assert dict(route.calls.last.request.url.params) == {"name": "promo", "hsm_id": "1304694804498707"}


async def test_subscribed_apps(api: GraphAPI, router: respx.MockRouter) -> None:
    app = {"whatsapp_business_api_data": {"id": "670843887433847", "name": "Lucky Shrub Admin"}}
    router.get(url(f"{WABA}/subscribed_apps")).respond(200, json={"data": [app]})
    post = router.post(url(f"{WABA}/subscribed_apps")).respond(200, json={"success": True})

    assert await api.list_subscribed_apps(WABA) == [app]
    assert await api.subscribe_app(WABA) == {"success": True}
    assert post.calls.last.request.content == b""
    await api.subscribe_app(WABA, override_callback_uri="https://hooks.example.com/w", verify_token="v")
    assert body_of(post) == {"override_callback_uri": "https://hooks.example.com/w", "verify_token": "v"}


async def test_business_profile(api: GraphAPI, router: respx.MockRouter) -> None:
    profile = {"about": "Succulent specialists!", "vertical": "RETAIL", "messaging_product": "whatsapp"}
    get = router.get(url(f"{PHONE}/whatsapp_business_profile")).respond(200, json={"data": [profile]})
    post = router.post(url(f"{PHONE}/whatsapp_business_profile")).respond(200, json={"success": True})

    assert await api.get_business_profile(PHONE) == profile
    assert get.calls.last.request.url.params["fields"].startswith("about,address,description")
    assert await api.update_business_profile(PHONE, {"about": "New"}) == {"success": True}
    assert body_of(post) == {"messaging_product": "whatsapp", "about": "New"}
