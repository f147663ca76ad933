"""Sending through the sandbox: Meta's answer, Meta's error codes, and the status webhooks after."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.sandbox import PNID, Receiver, SandboxProcess
from waba_cli.sandbox import fixtures

CUSTOMER = "+15551230001"


def _error(response: Any) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


def _open_window(sandbox: SandboxProcess, customer: str) -> None:
    """The customer writes first: their 24-hour window opens."""
    answer = sandbox.client.post(
        f"{sandbox.url}/_sandbox/inbound", json={"to": fixtures.PHONE_NUMBER, "from": customer, "text": "hello"}
    )
    assert answer.json()["status"] == 200


def test_send_text_answers_like_meta(sandbox: SandboxProcess) -> None:
    response = sandbox.send({"to": "+1 (555) 123-0001", "type": "text", "text": {"body": "Your order shipped"}})
    assert response.status_code == 200
    answer = response.json()
    assert answer["messaging_product"] == "whatsapp"
    assert answer["contacts"] == [{"input": "+1 (555) 123-0001", "wa_id": "15551230001"}]
    assert answer["messages"][0]["id"].startswith("wamid.")
    assert "message_status" not in answer["messages"][0]  # only template sends carry it


@pytest.mark.parametrize(
    ("body", "code", "http_status"),
    [
        ({"type": "text", "text": {"body": "no recipient"}}, 131008, 400),
        ({"to": CUSTOMER, "type": "fax", "fax": {"body": "?"}}, 100, 400),
        ({"to": CUSTOMER, "type": "text", "text": {}}, 131008, 400),
        ({"to": CUSTOMER, "type": "text", "text": {"body": "x" * 4097}}, 131009, 400),
        ({"to": "not-a-number", "type": "text", "text": {"body": "hi"}}, 131009, 400),
        ({"to": fixtures.PHONE_NUMBER, "type": "text", "text": {"body": "me"}}, 131021, 400),
        ({"to": CUSTOMER, "type": "image", "image": {"id": "999"}}, 131009, 400),
    ],
    ids=["missing-to", "unknown-type", "missing-body", "body-too-long", "bad-number", "own-number", "unknown-media"],
)
def test_send_refuses_bad_requests_with_meta_codes(
    sandbox: SandboxProcess, body: dict[str, Any], code: int, http_status: int
) -> None:
    response = sandbox.send(body)
    assert response.status_code == http_status
    error = _error(response)
    assert error["code"] == code
    assert error["message"].startswith(f"(#{code})")
    assert error["type"] == "OAuthException"
    assert error["fbtrace_id"]
    assert error["error_data"]["messaging_product"] == "whatsapp"


def _template(name: str, *params: str, language: str = "en_US") -> dict[str, Any]:
    components = [{"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}] if params else []
    return {
        "to": CUSTOMER,
        "type": "template",
        "template": {"name": name, "language": {"code": language}, "components": components},
    }


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (_template("order_update", "Ana", "8812"), 132000),
        (_template("order_update", "Ana", "8812", "Friday", "extra"), 132000),
        (_template("abandoned_cart", "2", "items"), 132001),  # REJECTED
        (_template("no_such_template"), 132001),
        (_template("hello_world", language="pt_BR"), 132001),
        (_template("summer_sale"), 132015),  # PAUSED
    ],
    ids=["too-few-params", "too-many-params", "rejected", "unknown", "other-language", "paused"],
)
def test_send_template_refuses_unsendable_or_mismatched(
    sandbox: SandboxProcess, body: dict[str, Any], code: int
) -> None:
    response = sandbox.send(body)
    assert _error(response)["code"] == code
    assert response.status_code == (404 if code == 132001 else 400)


def test_send_template_refuses_wrong_parameter_kind(sandbox: SandboxProcess) -> None:
    body = _template("order_update", "Ana", "8812", "Friday")
    body["template"]["components"].append(
        {"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [{"type": "payload", "payload": "x"}]}
    )
    assert _error(sandbox.send(body))["code"] == 132012  # button 0 is a URL button


def test_send_template_with_the_right_parameters_is_accepted(sandbox: SandboxProcess) -> None:
    body = _template("order_update", "Ana", "8812", "Friday")
    body["template"]["components"].append(
        {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "8812"}]}
    )
    response = sandbox.send(body)
    assert response.status_code == 200, response.text
    assert response.json()["messages"][0]["message_status"] == "accepted"


def test_named_template_needs_its_parameter_names(sandbox: SandboxProcess) -> None:
    body = _template("welcome_back")
    body["template"]["components"] = [
        {"type": "body", "parameters": [{"type": "text", "parameter_name": "first_name", "text": "Pablo"}]}
    ]
    assert _error(sandbox.send(body))["code"] == 132000
    body["template"]["components"][0]["parameters"].append(
        {"type": "text", "parameter_name": "account_id", "text": "A-1"}
    )
    assert sandbox.send(body).status_code == 200


def test_requests_need_a_valid_token(sandbox: SandboxProcess) -> None:
    body = {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": {"body": "hi"}}
    for headers in ({"Authorization": "Bearer EAAGnot-a-real-token"}, {"Authorization": ""}):
        response = sandbox.client.post(f"/{PNID}/messages", json=body, headers=headers)
        assert response.status_code == 401
        assert _error(response)["code"] == 190


def test_wrong_appsecret_proof_is_refused(sandbox: SandboxProcess) -> None:
    response = sandbox.client.get(f"/{fixtures.WABA_ID}", params={"appsecret_proof": "0" * 64})
    assert _error(response)["code"] == 100


def test_unknown_object_is_graph_method_exception(sandbox: SandboxProcess) -> None:
    response = sandbox.client.get("/999999999999999")
    error = _error(response)
    assert (error["code"], error["error_subcode"], error["type"]) == (100, 33, "GraphMethodException")


def test_any_api_version_is_served(sandbox: SandboxProcess) -> None:
    response = sandbox.client.get(f"{sandbox.url}/v25.0/{PNID}", params={"fields": "id,throughput"})
    assert response.json() == {"id": PNID, "throughput": {"level": "STANDARD"}}


def test_messages_get_signed_status_webhooks_up_to_read(sandbox: SandboxProcess, receiver: Receiver) -> None:
    customer = "+15551230101"
    _open_window(sandbox, customer)
    body = {"to": customer, "type": "text", "text": {"body": "On its way!"}, "biz_opaque_callback_data": "order-8812"}
    wamid = sandbox.send(body).json()["messages"][0]["id"]
    statuses = receiver.statuses({(wamid, "sent"), (wamid, "delivered"), (wamid, "read")})
    sent = statuses[(wamid, "sent")]
    assert sent["recipient_id"] == "15551230101"
    assert sent["biz_opaque_callback_data"] == "order-8812"
    assert sent["pricing"] == {
        "billable": False,
        "pricing_model": "PMP",
        "type": "free_customer_service",
        "category": "service",
    }
    assert "expiration_timestamp" in sent["conversation"]
    assert "pricing" not in statuses[(wamid, "read")]
    assert int(statuses[(wamid, "read")]["timestamp"]) >= int(sent["timestamp"])


def test_free_form_message_outside_the_window_fails_with_131047(sandbox: SandboxProcess, receiver: Receiver) -> None:
    response = sandbox.send({"to": "+15551239999", "type": "text", "text": {"body": "Hello?"}})
    assert response.status_code == 200  # Meta accepts it, then reports the failure
    wamid = response.json()["messages"][0]["id"]
    failed = receiver.statuses({(wamid, "failed")})[(wamid, "failed")]
    assert failed["errors"][0]["code"] == 131047
    assert failed["errors"][0]["title"] == failed["errors"][0]["message"]


@pytest.mark.slow
def test_status_failure_rate_fails_deliveries_with_a_real_code(start_sandbox: Any, receiver: Receiver) -> None:
    sandbox = start_sandbox("--webhook-url", receiver.url, "--status-failure-rate", "1", "--status-delay", "0.05")
    body = _template("order_update", "Ana", "8812", "Friday")
    body["template"]["components"].append(
        {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "8812"}]}
    )
    wamid = sandbox.send(body).json()["messages"][0]["id"]
    failed = receiver.statuses({(wamid, "failed")})[(wamid, "failed")]
    assert failed["errors"][0]["code"] == 131026


def test_statuses_of_many_messages_are_batched(sandbox: SandboxProcess, receiver: Receiver) -> None:
    customer = "+15551230102"
    _open_window(sandbox, customer)
    wamids = [
        sandbox.send({"to": customer, "type": "text", "text": {"body": f"#{i}"}}).json()["messages"][0]["id"]
        for i in range(10)
    ]
    batches = receiver.statuses_until({(w, "read") for w in wamids})
    assert max(len(batch) for batch in batches) > 1


def test_sent_counts_accepted_requests_per_recipient(sandbox: SandboxProcess) -> None:
    before = sandbox.client.get(f"{sandbox.url}/_sandbox/sent").json()
    for to in ("+15551230201", "+15551230201", "+15551230202"):
        sandbox.send({"to": to, "type": "text", "text": {"body": "hi"}})
    sandbox.send({"type": "text", "text": {"body": "refused: no recipient"}})
    after = sandbox.client.get(f"{sandbox.url}/_sandbox/sent").json()
    assert after["total"] == before["total"] + 3
    assert after["by_recipient"]["15551230201"] == 2
    assert after["by_recipient"]["15551230202"] == 1


def test_unregistered_number_cannot_send_until_registered_with_its_pin(sandbox: SandboxProcess) -> None:
    assert sandbox.client.post(f"/{PNID}", json={"pin": "246810"}).json() == {"success": True}
    assert sandbox.client.post(f"/{PNID}/deregister").json() == {"success": True}
    text = {"to": CUSTOMER, "type": "text", "text": {"body": "hi"}}
    assert _error(sandbox.send(text))["code"] == 133010
    wrong = sandbox.client.post(f"/{PNID}/register", json={"messaging_product": "whatsapp", "pin": "000000"})
    assert _error(wrong)["code"] == 133005
    right = sandbox.client.post(f"/{PNID}/register", json={"messaging_product": "whatsapp", "pin": "246810"})
    assert right.json() == {"success": True}
    assert sandbox.send(text).status_code == 200
