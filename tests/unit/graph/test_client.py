"""GraphClient and graph.errors against a mocked Graph API (real httpx client, respx transport)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from tests.support.graph import TOKEN, url
from waba_cli import __version__
from waba_cli.errors import DryRunRequest, OperationError
from waba_cli.graph.client import CallRecord, Credentials, GraphClient, mask_query
from waba_cli.graph.errors import (
    AUTH_HINT,
    AccountError,
    AuthError,
    FlowError,
    GraphError,
    GraphNetworkError,
    InvalidRequest,
    MediaError,
    PairRateLimited,
    PermissionDenied,
    PhoneNumberError,
    RateLimited,
    RecipientError,
    ServiceUnavailable,
    SpamLimited,
    TemplateError,
    error_from_webhook,
)
from waba_cli.secrets import mask
from waba_cli.settings import load_settings

pytestmark = pytest.mark.anyio

APP_ID = "670843887433847"
APP_SECRET = "s3cretapp0123456789abcdef"
PROOF = hmac.new(APP_SECRET.encode(), TOKEN.encode(), hashlib.sha256).hexdigest()


def graph_error(code: int | str, message: str = "boom", **extra: Any) -> dict[str, Any]:
    return {"error": {"message": f"(#{code}) {message}", "type": "OAuthException", "code": code, **extra}}


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def calls() -> list[CallRecord]:
    return []


@pytest.fixture
async def make(
    router: respx.MockRouter, sleeps: Sleeps, calls: list[CallRecord]
) -> AsyncIterator[Callable[..., GraphClient]]:
    made: list[GraphClient] = []

    def factory(**kwargs: Any) -> GraphClient:
        options: dict[str, Any] = {
            "transport": httpx.MockTransport(router.async_handler),
            "sleep": sleeps,
            "on_call": calls.append,
            **kwargs,
        }
        credentials = options.pop("credentials", Credentials(TOKEN, APP_ID, APP_SECRET))
        client = GraphClient(credentials, **options)
        made.append(client)
        return client

    yield factory
    for client in made:
        await client.aclose()


@pytest.fixture
def client(make: Callable[..., GraphClient]) -> GraphClient:
    return make()


# --- auth and URLs ---------------------------------------------------------------------------------


async def test_bearer_header_appsecret_proof_and_user_agent(client: GraphClient, router: respx.MockRouter) -> None:
    route = router.get(url("1234")).respond(200, json={"id": "1234"})

    assert await client.get("/1234", params={"fields": "id,name"}) == {"id": "1234"}

    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.url.params["appsecret_proof"] == PROOF
    assert request.url.params["fields"] == "id,name"
    assert "access_token" not in request.url.params
    assert request.headers["User-Agent"] == f"waba-cli/{__version__}"


async def test_no_proof_without_app_secret(make: Callable[..., GraphClient], router: respx.MockRouter) -> None:
    route = router.get(url("1234")).respond(200, json={})
    await make(credentials=Credentials(TOKEN)).get("1234")
    assert "appsecret_proof" not in route.calls.last.request.url.params


async def test_auth_override_uses_that_token_without_proof(client: GraphClient, router: respx.MockRouter) -> None:
    route = router.get(url("debug_token")).respond(200, json={"data": {}})
    await client.get("debug_token", auth=f"{APP_ID}|{APP_SECRET}")
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {APP_ID}|{APP_SECRET}"
    assert "appsecret_proof" not in request.url.params


async def test_path_with_or_without_slash_and_same_origin_absolute_url(
    client: GraphClient, router: respx.MockRouter
) -> None:
    route = router.get(url("1234/phone_numbers")).respond(200, json={})
    await client.get("1234/phone_numbers")
    await client.get("/1234/phone_numbers")
    await client.get(url("1234/phone_numbers"))
    assert route.call_count == 3


async def test_refuses_to_send_the_token_to_another_host(client: GraphClient, router: respx.MockRouter) -> None:
    route = router.get("https://evil.example.com/v23.0/1234").respond(200, json={})
    with pytest.raises(OperationError, match=r"evil\.example\.com"):
        await client.get("https://evil.example.com/v23.0/1234")
    assert not route.called


async def test_empty_2xx_body_is_an_empty_dict(client: GraphClient, router: respx.MockRouter) -> None:
    router.delete(url("1234/subscribed_apps")).respond(200, content=b"")
    assert await client.delete("1234/subscribed_apps") == {}


async def test_non_json_2xx_is_a_clear_error(client: GraphClient, router: respx.MockRouter) -> None:
    router.get(url("1234")).respond(200, text="<html>captive portal</html>", content_type="text/html")
    with pytest.raises(GraphError, match=r"HTTP 200, text/html\) is not a JSON object") as caught:
        await client.get("1234")
    assert caught.value.http_status == 200
    assert not caught.value.retryable


def test_from_settings_takes_graph_settings(tmp_path: Path) -> None:
    settings = load_settings(
        config_path=tmp_path / "config.toml",
        env={"WABA_HOME": str(tmp_path), "WABA_GRAPH_BASE_URL": "http://127.0.0.1:8999/graph/"},
    )
    client = GraphClient.from_settings(settings, None, api_version="v24.0", dry_run=True)
    assert client.base_url == "http://127.0.0.1:8999/graph"
    assert client.api_version == "v24.0"
    assert client.max_retries == settings.graph_max_retries
    assert client.dry_run


# --- pagination ------------------------------------------------------------------------------------


def _page(items: list[int], after: str | None, next_url: str | None) -> dict[str, Any]:
    paging: dict[str, Any] = {"cursors": {"before": "B", "after": after or "END"}}
    if next_url:
        paging["next"] = next_url
    return {"data": [{"id": str(i)} for i in items], "paging": paging}


async def test_paginate_follows_next_over_three_pages(client: GraphClient, router: respx.MockRouter) -> None:
    pages = {
        None: _page([1, 2], "c1", url("55/message_templates?limit=2&after=c1")),
        "c1": _page([3, 4], "c2", url("55/message_templates?limit=2&after=c2")),
        "c2": _page([5], None, None),
    }
    route = router.get(url("55/message_templates")).mock(
        side_effect=lambda request: httpx.Response(200, json=pages[request.url.params.get("after")])
    )

    items = [item["id"] async for item in client.paginate("55/message_templates", {"limit": 2})]

    assert items == ["1", "2", "3", "4", "5"]
    assert route.call_count == 3
    last = route.calls.last.request
    assert last.url.params["after"] == "c2"
    assert last.url.params["appsecret_proof"] == PROOF
    assert last.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_paginate_stops_at_limit(client: GraphClient, router: respx.MockRouter) -> None:
    route = router.get(url("55/phone_numbers")).mock(
        side_effect=lambda request: httpx.Response(200, json=_page([1, 2], "c", url("55/phone_numbers?after=c")))
    )
    items = [item async for item in client.paginate("55/phone_numbers", limit=3)]
    assert len(items) == 3
    assert route.call_count == 2


async def test_paginate_uses_the_cursor_when_next_points_elsewhere(
    client: GraphClient, router: respx.MockRouter
) -> None:
    evil = router.get(host="evil.example.com").respond(200, json=_page([9], None, None))
    pages = {
        None: _page([1], "c1", "https://evil.example.com/v23.0/55/phone_numbers?after=c1"),
        "c1": _page([2], None, None),
    }
    route = router.get(url("55/phone_numbers")).mock(
        side_effect=lambda request: httpx.Response(200, json=pages[request.url.params.get("after")])
    )

    items = [item["id"] async for item in client.paginate("55/phone_numbers", {"fields": "id"})]

    assert items == ["1", "2"]
    assert not evil.called
    assert route.calls.last.request.url.params["fields"] == "id"


async def test_paginate_refuses_foreign_next_without_cursor(client: GraphClient, router: respx.MockRouter) -> None:
    evil = router.get(host="evil.example.com").respond(200, json={"data": []})
    router.get(url("55/phone_numbers")).respond(
        200, json={"data": [{"id": "1"}], "paging": {"next": "https://evil.example.com/x"}}
    )
    with pytest.raises(OperationError, match="another host"):
        [item async for item in client.paginate("55/phone_numbers")]
    assert not evil.called


# --- retries (§1.7) --------------------------------------------------------------------------------


async def test_network_error_then_success(client: GraphClient, router: respx.MockRouter, sleeps: Sleeps) -> None:
    route = router.get(url("1234")).mock(
        side_effect=[httpx.ConnectError("connection refused"), httpx.Response(200, json={"id": "1234"})]
    )
    assert await client.get("1234") == {"id": "1234"}
    assert route.call_count == 2
    assert len(sleeps) == 1
    assert 1 <= sleeps[0] <= 2


async def test_read_timeout_retries_a_get_but_not_a_send(
    client: GraphClient, router: respx.MockRouter, sleeps: Sleeps
) -> None:
    get = router.get(url("1234")).mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json={"id": "1234"})]
    )
    assert await client.get("1234") == {"id": "1234"}
    assert get.call_count == 2

    # Meta may have accepted the message before the answer was lost; a retry could send it twice
    send = router.post(url("1234/messages")).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(GraphNetworkError) as caught:
        await client.post("1234/messages", json={"to": "+1"})
    assert send.call_count == 1
    assert not caught.value.retryable


async def test_connect_error_retries_a_send(client: GraphClient, router: respx.MockRouter) -> None:
    send = router.post(url("1234/messages")).mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json={"messages": [{"id": "w"}]})]
    )
    assert (await client.post("1234/messages", json={}))["messages"] == [{"id": "w"}]
    assert send.call_count == 2


async def test_throughput_limit_backs_off_exponentially(
    client: GraphClient, router: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = router.post(url("1234/messages")).mock(
        side_effect=[
            httpx.Response(400, json=graph_error(130429, "Rate limit hit")),
            httpx.Response(400, json=graph_error(130429, "Rate limit hit")),
            httpx.Response(400, json=graph_error(130429, "Rate limit hit")),
            httpx.Response(200, json={"messages": [{"id": "wamid.1"}]}),
        ]
    )
    assert await client.post("1234/messages", json={}) == {"messages": [{"id": "wamid.1"}]}
    assert route.call_count == 4
    assert len(sleeps) == 3
    for attempt, seconds in enumerate(sleeps):
        assert 2**attempt <= seconds <= 2**attempt + 1


async def test_backoff_is_capped(make: Callable[..., GraphClient], router: respx.MockRouter, sleeps: Sleeps) -> None:
    router.get(url("1234")).respond(400, json=graph_error(4, "Application request limit reached"))
    with pytest.raises(RateLimited):
        await make(max_retries=6, retry_max_wait=5.0).get("1234")
    assert len(sleeps) == 6
    assert max(sleeps) == 5.0


async def test_pair_rate_limit_waits_four_to_the_x(
    make: Callable[..., GraphClient], router: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = router.post(url("1234/messages")).respond(400, json=graph_error(131056, "Pair rate limit hit"))
    with pytest.raises(PairRateLimited) as caught:
        await make(retry_max_wait=60.0).post("1234/messages", json={})
    assert sleeps == [1, 4, 16, 60, 60]
    assert route.call_count == 6
    assert caught.value.code == 131056


async def test_auth_error_is_not_retried_and_has_the_hint(
    client: GraphClient, router: respx.MockRouter, sleeps: Sleeps
) -> None:
    body = graph_error(190, "Error validating access token", error_subcode=463, fbtrace_id="Ab12")
    route = router.get(url("1234")).respond(401, json=body)
    with pytest.raises(AuthError) as caught:
        await client.get("1234")
    assert route.call_count == 1
    assert sleeps == []
    error = caught.value
    assert error.hint == (
        "the access token expired or is invalid; run `waba account update ACC --from-file F` "
        "or answer the hidden prompt"
    )
    assert error.hint == AUTH_HINT
    assert error.exit_code == 1
    assert str(error) == (
        "Graph API error 190/463: (#190) Error validating access token [fbtrace_id Ab12]; " + AUTH_HINT
    )


async def test_exhausted_retries_raise_the_last_graph_error(
    make: Callable[..., GraphClient], router: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = router.get(url("1234")).mock(
        side_effect=[
            httpx.Response(503, json=graph_error(2, "Service temporarily unavailable", fbtrace_id=f"t{i}"))
            for i in range(3)
        ]
    )
    with pytest.raises(ServiceUnavailable) as caught:
        await make(max_retries=2).get("1234")
    assert route.call_count == 3
    assert len(sleeps) == 2
    assert caught.value.fbtrace_id == "t2"


async def test_retry_false_raises_at_once(client: GraphClient, router: respx.MockRouter, sleeps: Sleeps) -> None:
    route = router.post(url("1234/messages")).respond(400, json=graph_error(130429))
    with pytest.raises(RateLimited) as caught:
        await client.post("1234/messages", json={}, retry=False)
    assert route.call_count == 1
    assert sleeps == []
    assert caught.value.retryable


async def test_is_transient_makes_an_unknown_code_retryable(client: GraphClient, router: respx.MockRouter) -> None:
    route = router.get(url("1234")).mock(
        side_effect=[
            httpx.Response(400, json=graph_error(987654, "odd", is_transient=True)),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    assert await client.get("1234") == {"ok": True}
    assert route.call_count == 2


async def test_a_known_permanent_code_is_not_retried_despite_a_500(
    client: GraphClient, router: respx.MockRouter
) -> None:
    route = router.get(url("1234")).respond(500, json=graph_error(3, "Capability missing"))
    with pytest.raises(PermissionDenied):
        await client.get("1234")
    assert route.call_count == 1


async def test_non_json_502_is_retried_then_reported_on_one_line(
    make: Callable[..., GraphClient], router: respx.MockRouter
) -> None:
    route = router.get(url("1234")).respond(502, text="<html>\n<h1>502 Bad Gateway</h1>\n</html>")
    with pytest.raises(ServiceUnavailable) as caught:
        await make(max_retries=1).get("1234")
    assert route.call_count == 2
    assert str(caught.value).startswith("Graph API error HTTP 502: <html> <h1>502 Bad Gateway</h1> </html>")
    assert "\n" not in str(caught.value)


async def test_retry_later_codes_are_not_retried(client: GraphClient, router: respx.MockRouter) -> None:
    route = router.post(url("1234/messages")).respond(400, json=graph_error(131048, "Spam rate limit hit"))
    with pytest.raises(SpamLimited) as caught:
        await client.post("1234/messages", json={})
    assert route.call_count == 1
    assert caught.value.retry_later


# --- error parsing and classes -------------------------------------------------------------------


def test_error_data_as_string_and_code_as_string() -> None:
    body = {
        "error": {
            "message": "(#131026) Message undeliverable",
            "code": "131026",
            "error_subcode": "2494010",
            "error_data": "the user's app is too old",
            "fbtrace_id": "Zx9",
        }
    }
    error = GraphError.from_response(400, json.dumps(body).encode())
    assert type(error) is RecipientError
    assert (error.code, error.subcode) == (131026, 2494010)
    assert error.details == "the user's app is too old"
    assert str(error).startswith(
        "Graph API error 131026/2494010: (#131026) Message undeliverable (the user's app is too old) [fbtrace_id Zx9]; "
    )


def test_full_envelope_fields() -> None:
    body = {
        "error": {
            "message": "Invalid parameter",
            "type": "OAuthException",
            "code": 100,
            "error_subcode": 2388040,
            "error_data": {"messaging_product": "whatsapp", "details": "Body too long"},
            "error_user_title": "Too long",
            "error_user_msg": "Shorten the body",
            "is_transient": False,
            "fbtrace_id": "F1",
        }
    }
    error = GraphError.from_response(400, body)
    assert isinstance(error, TemplateError)
    assert error.error_type == "OAuthException"
    assert error.graph_message == "Invalid parameter"
    assert (error.details, error.user_title, error.user_msg) == (
        "Body too long",
        "Too long",
        "Shorten the body",
    )
    assert error.http_status == 400
    assert not error.is_transient
    assert not error.retryable


@pytest.mark.parametrize(
    "body",
    [
        None,
        b"",
        b"not json at all",
        b"[1, 2]",
        b'{"error": "a string"}',
        {"error": {}},
        b'{"error": {"code": null}}',
    ],
)
def test_from_response_never_fails_on_odd_bodies(body: Any) -> None:
    error = GraphError.from_response(400, body)
    assert type(error) is GraphError
    assert error.code is None
    assert str(error).startswith("Graph API error")
    assert "\n" not in str(error)


@pytest.mark.parametrize(
    ("code", "error_class", "retryable"),
    [
        (0, AuthError, False),
        (190, AuthError, False),
        (3, PermissionDenied, False),
        (10, PermissionDenied, False),
        (200, PermissionDenied, False),
        (299, PermissionDenied, False),
        (131005, PermissionDenied, False),
        (4, RateLimited, True),
        (17, RateLimited, True),
        (341, RateLimited, True),
        (80007, RateLimited, True),
        (130429, RateLimited, True),
        (131056, PairRateLimited, True),
        (131048, SpamLimited, False),
        (100, InvalidRequest, False),
        (131008, InvalidRequest, False),
        (131009, InvalidRequest, False),
        (135000, InvalidRequest, False),
        (131021, RecipientError, False),
        (131026, RecipientError, False),
        (131047, RecipientError, False),
        (131049, RecipientError, False),
        (131050, RecipientError, False),
        (130472, RecipientError, False),
        (130497, RecipientError, False),
        (131031, AccountError, False),
        (131053, MediaError, False),
        (132000, TemplateError, False),
        (132015, TemplateError, False),
        (2388019, TemplateError, False),
        (132069, FlowError, False),
        (139000, FlowError, False),
        (139004, FlowError, False),
        (133005, PhoneNumberError, False),
        (133010, PhoneNumberError, False),
        (133015, PhoneNumberError, True),
        (1, ServiceUnavailable, True),
        (2, ServiceUnavailable, True),
        (131000, ServiceUnavailable, True),
        (131016, ServiceUnavailable, True),
        (131057, ServiceUnavailable, True),
        (133004, ServiceUnavailable, True),
        (2494100, ServiceUnavailable, True),
        (139005, GraphError, False),
        (506, GraphError, False),
    ],
)
def test_error_classes_by_code(code: int, error_class: type[GraphError], retryable: bool) -> None:
    error = GraphError.from_response(400, graph_error(code))
    assert type(error) is error_class
    assert error.retryable is retryable


def test_unknown_code_with_5xx_is_service_unavailable() -> None:
    error = GraphError.from_response(503, graph_error(424242))
    assert type(error) is ServiceUnavailable
    assert error.retryable


def test_every_code_of_the_table_has_a_hint() -> None:
    for code in (0, 10, 4, 131056, 131048, 100, 131047, 131026, 132001, 133010, 139002, 131000, 2388019):
        assert GraphError.from_response(400, graph_error(code)).hint, code


def test_error_from_webhook() -> None:
    info = error_from_webhook(
        {
            "code": 131047,
            "title": "Re-engagement message",
            "message": "Re-engagement message",
            "error_data": {"details": "Message failed to send because more than 24 hours have passed"},
            "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
        }
    )
    assert info.code == 131047
    assert info.title == "Re-engagement message"
    assert info.details == "Message failed to send because more than 24 hours have passed"
    assert info.href is not None
    assert info.hint is not None
    assert "template" in info.hint
    assert error_from_webhook({"code": "130429", "error_data": "plain"}).details == "plain"


# --- dry run --------------------------------------------------------------------------------------


async def test_dry_run_shows_the_change_and_sends_nothing(
    make: Callable[..., GraphClient], router: respx.MockRouter, calls: list[CallRecord]
) -> None:
    post = router.post(url("55/message_templates")).respond(200, json={"id": "1"})
    delete = router.delete(url("55/message_templates")).respond(200, json={"success": True})
    get = router.get(url("55/message_templates")).respond(200, json={"data": []})
    client = make(dry_run=True)

    with pytest.raises(DryRunRequest) as caught:
        await client.post("55/message_templates", json={"name": "promo"})
    request = caught.value.request
    assert request["method"] == "POST"
    assert request["headers"] == {"Authorization": "Bearer " + mask(TOKEN)}
    assert request["json"] == {"name": "promo"}
    assert request["data"] is None
    assert request["url"] == f"{url('55/message_templates')}?appsecret_proof={mask(PROOF)}"
    assert not post.called

    with pytest.raises(DryRunRequest):
        await client.delete("55/message_templates", params={"name": "promo"})
    assert not delete.called

    assert await client.get("55/message_templates") == {"data": []}
    assert get.called
    assert [call.method for call in calls] == ["GET"]

    text = f"{caught.value} {request!r}"
    for secret in (TOKEN, APP_SECRET, PROOF):
        assert secret not in text


# --- call records -------------------------------------------------------------------------------


async def test_on_call_records_every_attempt(
    client: GraphClient, router: respx.MockRouter, calls: list[CallRecord]
) -> None:
    router.post(url("1234/messages")).mock(
        side_effect=[
            httpx.ConnectError("down"),
            httpx.Response(400, json=graph_error(130429)),
            httpx.Response(200, json={"messages": [{"id": "w"}]}),
        ]
    )
    await client.post("/1234/messages", params={"x": "1"}, json={"to": "+1"})

    assert [(c.method, c.endpoint, c.status_code, c.error_code, c.attempt) for c in calls] == [
        ("POST", "/{id}/messages", None, None, 1),
        ("POST", "/{id}/messages", 400, 130429, 2),
        ("POST", "/{id}/messages", 200, None, 3),
    ]
    assert all(call.latency_ms >= 0 and call.at.tzinfo is not None for call in calls)


async def test_endpoint_template_strips_base_path_and_version(
    make: Callable[..., GraphClient], router: respx.MockRouter, calls: list[CallRecord]
) -> None:
    router.get("http://127.0.0.1:8999/graph/v23.0/debug_token").respond(200, json={})
    router.get("http://127.0.0.1:8999/graph/v23.0/104839201938475/phone_numbers").respond(200, json={})
    client = make(base_url="http://127.0.0.1:8999/graph/")
    await client.get("debug_token", params={"input_token": "abc"})
    await client.get("104839201938475/phone_numbers")
    assert [call.endpoint for call in calls] == ["/debug_token", "/{id}/phone_numbers"]


async def test_a_failing_on_call_hook_does_not_break_the_request(
    make: Callable[..., GraphClient], router: respx.MockRouter
) -> None:
    def broken(record: CallRecord) -> None:
        raise RuntimeError("metrics store is down")

    router.get(url("1234")).respond(200, json={"id": "1234"})
    assert await make(on_call=broken).get("1234") == {"id": "1234"}


# --- secrets ---------------------------------------------------------------------------------------


async def test_secrets_never_leak(
    make: Callable[..., GraphClient],
    router: respx.MockRouter,
    calls: list[CallRecord],
    caplog: pytest.LogCaptureFixture,
) -> None:
    inspected = "EAAGinspected0987654321zyxwvutsrqponmlk"
    caplog.set_level(logging.DEBUG, logger="waba.graph")
    caplog.set_level(logging.DEBUG, logger="httpx")
    # Meta sometimes echoes what it was given; the echo must be masked too
    router.get(url("debug_token")).respond(
        400, json=graph_error(190, f"bad token {TOKEN} for app {APP_SECRET}", error_data=f"got {inspected}")
    )
    router.get(url("1234")).mock(side_effect=httpx.ConnectError(f"refused while sending {TOKEN}"))
    router.post(url("1234/messages")).respond(200, json={})
    client = make(max_retries=1)
    texts: list[str] = [repr(client.credentials)]

    with pytest.raises(AuthError) as auth:
        await client.get("debug_token", params={"input_token": inspected})
    with pytest.raises(GraphNetworkError) as network:
        await client.get("1234")
    with pytest.raises(AuthError) as app_auth:
        await client.get("debug_token", params={"input_token": inspected}, auth=f"{APP_ID}|{APP_SECRET}")
    with pytest.raises(DryRunRequest) as dry:
        await make(dry_run=True).post("1234/messages", params={"input_token": inspected}, json={})

    for caught in (auth, network, app_auth, dry):
        texts += [str(caught.value), repr(caught.value), repr(caught.value.args)]
    texts += [repr(dry.value.request), repr(calls), caplog.text]
    texts += [record.getMessage() for record in caplog.records]
    assert any(record.name == "httpx" and "debug_token" in record.getMessage() for record in caplog.records)
    assert any(record.name == "waba.graph" for record in caplog.records)
    assert "bad token" in str(auth.value)
    for text in texts:
        for secret in (TOKEN, APP_SECRET, PROOF, inspected):
            assert secret not in text


def test_mask_query_masks_token_parameters_only() -> None:
    masked = mask_query(f"GET https://x/v23.0/debug_token?input_token={TOKEN}&fields=a,b&appsecret_proof={PROOF}")
    assert masked == (
        f"GET https://x/v23.0/debug_token?input_token={mask(TOKEN)}&fields=a,b&appsecret_proof={mask(PROOF)}"
    )


async def test_the_secret_half_of_an_app_token_is_masked(
    make: Callable[..., GraphClient], router: respx.MockRouter
) -> None:
    other_secret = "othersecret0123456789abcd"
    router.get(url("debug_token")).respond(400, json=graph_error(190, f"secret {other_secret} is wrong"))
    client = make(credentials=Credentials(TOKEN))
    with pytest.raises(AuthError) as caught:
        await client.get("debug_token", params={"input_token": "x"}, auth=f"{APP_ID}|{other_secret}")
    assert other_secret not in str(caught.value)
    assert mask(other_secret) in str(caught.value)
