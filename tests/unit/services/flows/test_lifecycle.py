"""`waba flow create | upload | publish | delete | sync` against a mocked Graph API (respx)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import respx

from tests.support.flows import BARE_ERROR, BOOKING_ID, POINTED_ERROR, WABA, booking_file, meta_flow
from tests.support.graph import body_of


def _created(
    graph: respx.MockRouter, *, errors: list[dict[str, Any]] | None = None, status: str = "DRAFT"
) -> dict[str, respx.Route]:
    return {
        "create": graph.post(f"/{WABA}/flows").mock(return_value=httpx.Response(200, json={"id": BOOKING_ID})),
        "assets": graph.post(f"/{BOOKING_ID}/assets").mock(
            return_value=httpx.Response(200, json={"success": True, "validation_errors": errors or []})
        ),
        "publish": graph.post(f"/{BOOKING_ID}/publish").mock(return_value=httpx.Response(200, json={"success": True})),
        "get": graph.get(f"/{BOOKING_ID}").mock(
            return_value=httpx.Response(
                200, json=meta_flow(BOOKING_ID, "booking", status, validation_errors=errors or [])
            )
        ),
    }


def test_create_uploads_the_json_as_the_flow_json_asset_and_publishes(
    waba: Any, account: Any, graph: respx.MockRouter, tmp_path: Path
) -> None:
    routes = _created(graph, status="PUBLISHED")

    result = waba(
        "flow",
        "create",
        "booking",
        "--json",
        str(booking_file(tmp_path)),
        "--category",
        "appointment_booking",
        "--publish",
    )

    assert result.code == 0, result.err
    assert "published flow booking (1111111111111111): PUBLISHED" in result.err
    assert body_of(routes["create"]) == {"name": "booking", "categories": ["APPOINTMENT_BOOKING"]}
    upload = routes["assets"].calls.last.request
    assert upload.headers["content-type"].startswith("multipart/form-data")
    assert b'name="asset_type"\r\n\r\nFLOW_JSON' in upload.content
    assert b'filename="flow.json"' in upload.content and b"APPOINTMENT" in upload.content
    assert routes["publish"].call_count == 1
    shown = waba("flow", "show", "booking", "--json").json()
    assert (shown["status"], shown["first_screen"], shown["json_version"]) == ("PUBLISHED", "APPOINTMENT", "7.1")


def test_meta_validation_errors_are_shown_with_their_pointers_and_exit_1(
    waba: Any, account: Any, graph: respx.MockRouter, tmp_path: Path
) -> None:
    routes = _created(graph, errors=[POINTED_ERROR])

    result = waba("flow", "create", "booking", "--json", str(booking_file(tmp_path)), "--publish")

    assert result.code == 1
    assert (
        "INVALID_PROPERTY_VALUE: Invalid value found for property 'type'. "
        "(line 10, column 21; screens[0].layout.children[0].type)"
    ) in result.err
    assert routes["publish"].call_count == 0  # not published with errors
    listed = waba("flow", "list", "--json").json()
    assert listed[0]["validation_errors"] == [POINTED_ERROR]


def test_meta_validation_errors_without_pointers_still_say_what_is_wrong(
    waba: Any, account: Any, graph: respx.MockRouter, tmp_path: Path
) -> None:
    _created(graph, errors=[BARE_ERROR])

    result = waba("--json", "flow", "create", "booking", "--json", str(booking_file(tmp_path)))

    assert result.code == 1
    assert "INVALID_PROPERTY: Property 'x' is not allowed.\n" in result.err
    assert result.json()["validation_errors"] == [BARE_ERROR]


def test_a_broken_flow_json_is_exit_2_and_nothing_is_sent(
    waba: Any, account: Any, graph: respx.MockRouter, tmp_path: Path
) -> None:
    routes = _created(graph)
    document = json.loads(booking_file(tmp_path).read_text())
    document["screens"][0]["terminal"] = False
    document["routing_model"] = {"APPOINTMENT": ["NOWHERE"]}

    result = waba("flow", "create", "booking", "--json", str(booking_file(tmp_path, document)))

    assert result.code == 2
    assert "terminal-screen" in result.err and "routing-model-screen" in result.err
    assert "2 problems in the Flow JSON, nothing was sent" in result.err
    assert all(route.call_count == 0 for route in routes.values())
    assert waba("flow", "list", "--json").json() == []


def test_unknown_category_is_exit_2(waba: Any, account: Any, graph: respx.MockRouter, tmp_path: Path) -> None:
    result = waba("flow", "create", "booking", "--json", str(booking_file(tmp_path)), "--category", "BOOKING")
    assert result.code == 2 and "unknown category 'BOOKING'" in result.err


def test_dry_run_prints_every_request_and_sends_nothing(
    waba: Any, account: Any, graph: respx.MockRouter, tmp_path: Path
) -> None:
    routes = _created(graph)

    result = waba("flow", "create", "booking", "--json", str(booking_file(tmp_path)), "--publish", "--dry-run")

    assert result.code == 0, result.err
    assert [line.split("?")[0] for line in result.out.splitlines() if line.startswith("POST ")] == [
        f"POST http://127.0.0.1:9/v23.0/{WABA}/flows",
        "POST http://127.0.0.1:9/v23.0/NEW_FLOW_ID/assets",
        "POST http://127.0.0.1:9/v23.0/NEW_FLOW_ID/publish",
    ]
    assert all(route.call_count == 0 for route in routes.values())


def test_upload_refuses_a_published_flow_and_says_to_clone_it(
    waba: Any, account: Any, graph: respx.MockRouter, tmp_path: Path
) -> None:
    _created(graph, status="PUBLISHED")
    assert waba("flow", "create", "booking", "--json", str(booking_file(tmp_path)), "--publish").code == 0

    result = waba("flow", "upload", "booking", "--json", str(booking_file(tmp_path)))

    assert result.code == 2
    assert "only a draft's JSON can change" in result.err and "--clone booking" in result.err


def test_delete_needs_yes_without_a_terminal_and_keeps_the_row(
    waba: Any, account: Any, graph: respx.MockRouter, tmp_path: Path
) -> None:
    _created(graph)
    assert waba("flow", "create", "booking", "--json", str(booking_file(tmp_path))).code == 0
    deleted = graph.delete(f"/{BOOKING_ID}").mock(return_value=httpx.Response(200, json={"success": True}))

    assert waba("flow", "delete", "booking").code == 2
    assert deleted.call_count == 0
    result = waba("flow", "delete", "booking", "--yes", "--json")
    assert result.code == 0, result.err
    assert result.json()["status"] == "DELETED"


def test_sync_follows_every_page(waba: Any, account: Any, graph: respx.MockRouter) -> None:
    pages = {
        None: {
            "data": [meta_flow("31", "survey", "PUBLISHED", health_status={"can_send_message": "AVAILABLE"})],
            "paging": {"cursors": {"after": "P2"}, "next": f"http://127.0.0.1:9/v23.0/{WABA}/flows?after=P2"},
        },
        "P2": {
            "data": [
                meta_flow(
                    "32",
                    "support",
                    "THROTTLED",
                    endpoint_uri="https://x.example",
                    data_api_version="3.0",
                    health_status={"can_send_message": "LIMITED"},
                )
            ],
            "paging": {"cursors": {"after": "P3"}},
        },
    }

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=pages[request.url.params.get("after")])

    route = graph.get(f"/{WABA}/flows").mock(side_effect=answer)

    result = waba("flow", "sync", "--json")

    assert result.code == 0, result.err
    assert result.json() | {"fetched": 2, "added": 2} == result.json()
    assert route.call_count == 2
    assert "health_status" in route.calls[0].request.url.params["fields"]
    listed = {f["name"]: f for f in waba("flow", "list", "--json").json()}
    assert (
        listed["support"] | {"status": "THROTTLED", "health": "LIMITED", "endpoint_uri": "https://x.example"}
        == listed["support"]
    )
    assert set(listed["survey"]) >= {"id", "name", "status", "categories", "validation_errors"}

    pages[None] = {"data": [meta_flow("31", "survey", "DEPRECATED")], "paging": {"cursors": {}}}
    again = waba("flow", "sync", "--json").json()
    assert (again["updated"], again["gone"]) == (1, 1)
