"""The sandbox's Flows API (§6): metrics for endpoint flows, validation errors for broken JSON,
and what a draft and a published flow allow."""

from __future__ import annotations

import json

from tests.support.sandbox import call
from waba_cli.sandbox import fixtures
from waba_cli.sandbox.core import Sandbox
from waba_cli.sandbox.runtime import Options

ENDPOINT = "https://flows.example.com/endpoint"


def _sandbox() -> Sandbox:
    return Sandbox(fixtures.seed_state(), Options())


def _endpoint_flow(sandbox: Sandbox) -> str:
    status, created = call(
        sandbox,
        "POST",
        f"{fixtures.WABA_ID}/flows",
        {"name": "support", "categories": ["CUSTOMER_SUPPORT"], "endpoint_uri": ENDPOINT},
    )
    assert status == 200, created
    return str(created["id"])


def test_metrics_of_an_endpoint_flow_come_in_metas_shape() -> None:
    sandbox = _sandbox()
    flow_id = _endpoint_flow(sandbox)
    for name, keys in (
        ("ENDPOINT_REQUEST_COUNT", {"value"}),
        ("ENDPOINT_REQUEST_ERROR_RATE", {"value"}),
        ("ENDPOINT_AVAILABILITY", {"succeeded", "failed"}),
        ("ENDPOINT_REQUEST_LATENCY_SECONDS_CEIL", {"1", "2", "5"}),
    ):
        status, answer = call(sandbox, "GET", flow_id, fields=f"metric.name({name}).granularity(DAY)")
        assert status == 200, answer
        metric = answer["metric"]
        assert (metric["name"], metric["granularity"]) == (name, "DAY")
        assert len(metric["data_points"]) >= 7
        assert {d["key"] for d in metric["data_points"][0]["data"]} == keys
    _, rate = call(sandbox, "GET", flow_id, fields="metric.name(ENDPOINT_REQUEST_ERROR_RATE).granularity(LIFETIME)")
    assert isinstance(rate["metric"]["data_points"][0]["data"][0]["value"], str)  # a string decimal, as Meta sends


def test_metrics_are_refused_for_flows_without_endpoint_and_for_bad_arguments() -> None:
    sandbox = _sandbox()
    status, answer = call(
        sandbox, "GET", fixtures.FLOW_ID, fields="metric.name(ENDPOINT_AVAILABILITY).granularity(DAY)"
    )
    assert status == 400 and "endpoint" in answer["error"]["message"]
    flow_id = _endpoint_flow(sandbox)
    assert call(sandbox, "GET", flow_id, fields="metric.name(SPEED).granularity(DAY)")[0] == 400
    assert call(sandbox, "GET", flow_id, fields="metric.name(ENDPOINT_AVAILABILITY).granularity(WEEK)")[0] == 400
    old = "metric.name(ENDPOINT_AVAILABILITY).granularity(HOUR).since(2020-01-01)"
    assert call(sandbox, "GET", flow_id, fields=old)[0] == 400


def test_a_flow_created_with_broken_json_reports_validation_errors_with_pointers() -> None:
    sandbox = _sandbox()
    document = json.loads(json.dumps(fixtures.APPOINTMENT_FLOW_JSON))
    document["screens"][0]["layout"]["children"][0]["type"] = "Marquee"
    status, created = call(
        sandbox,
        "POST",
        f"{fixtures.WABA_ID}/flows",
        {"name": "broken", "categories": ["OTHER"], "flow_json": json.dumps(document, indent=2)},
    )
    assert status == 200
    [error] = created["validation_errors"]
    assert error["pointers"][0]["path"] == "screens[0].layout.children[0].type"
    assert error["line_start"] > 1


def test_a_flow_reply_to_a_templates_flow_button_echoes_its_token() -> None:
    from tests.support.sandbox import post_message
    from waba_cli.sandbox.inbound import customer_message

    sandbox = _sandbox()
    components = [
        {"type": "BODY", "text": "Book your visit"},
        {"type": "BUTTONS", "buttons": [{"type": "FLOW", "text": "Book", "flow_id": fixtures.FLOW_ID}]},
    ]
    sandbox.state.add(fixtures._template("1304694804498799", "book_visit", "MARKETING", components))
    button = {
        "type": "button",
        "sub_type": "flow",
        "index": "0",
        "parameters": [{"type": "action", "action": {"flow_token": "visit-ana"}}],
    }
    body = {
        "messaging_product": "whatsapp",
        "to": "+16505550123",
        "type": "template",
        "template": {"name": "book_visit", "language": {"code": "en_US"}, "components": [button]},
    }
    status, sent = post_message(sandbox, body)
    assert status == 200, sent
    offer = sandbox.state.messages[sent["messages"][0]["id"]]
    assert offer.extra == {"flow_id": fixtures.FLOW_ID, "flow_token": "visit-ana"}
    reply = customer_message("flow_reply", '{"slot": "09:00"}', "16505550123", "wamid.IN", offer=offer)
    assert json.loads(reply["interactive"]["nfm_reply"]["response_json"]) == {
        "flow_token": "visit-ana",
        "slot": "09:00",
    }
