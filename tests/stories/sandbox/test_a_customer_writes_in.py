"""`waba sandbox inbound`: a customer's message arrives signed, quoting what it answers."""

from __future__ import annotations

import json
from typing import Any

from tests.support.sandbox import Receiver, SandboxProcess
from waba_cli.sandbox import fixtures


def test_inbound_text_is_delivered_signed_with_meta_shape(
    waba: Any, sandbox: SandboxProcess, receiver: Receiver
) -> None:
    result = waba(
        "sandbox",
        "inbound",
        "--to",
        fixtures.PHONE_NUMBER,
        "--from",
        "+15551230301",
        "--text",
        "Olá, ça va? 👋",
        "--sandbox-url",
        sandbox.url,
        "--json",
    )
    assert result.code == 0, result.err
    answer = result.json()
    assert answer["status"] == 200
    delivery, value = receiver.messages("15551230301")
    assert delivery.signed_by(fixtures.APP_SECRET)
    assert not delivery.signed_by("another-secret")
    assert b"\\u00e7" in delivery.body  # non-ASCII escaped like Meta's wire format
    assert value["metadata"] == {"display_phone_number": "15550134567", "phone_number_id": fixtures.PHONE_NUMBER_ID}
    assert value["contacts"][0]["wa_id"] == "15551230301"
    [message] = value["messages"]
    assert message["id"] == answer["wamid"]
    assert message["type"] == "text"
    assert message["text"] == {"body": "Olá, ça va? 👋"}
    assert isinstance(message["timestamp"], str)
    payload = delivery.json()
    assert payload["object"] == "whatsapp_business_account"
    assert payload["entry"][0]["id"] == fixtures.WABA_ID


def test_inbound_opens_the_window_for_free_form_replies(sandbox: SandboxProcess, receiver: Receiver, waba: Any) -> None:
    customer = "+15551230302"
    waba(
        "sandbox",
        "inbound",
        "--to",
        fixtures.PHONE_NUMBER_ID,
        "--from",
        customer,
        "--text",
        "hi",
        "--sandbox-url",
        sandbox.url,
    )
    wamid = sandbox.send({"to": customer, "type": "text", "text": {"body": "Hello!"}}).json()["messages"][0]["id"]
    assert (wamid, "read") in receiver.statuses({(wamid, "read")})


def test_button_tap_quotes_the_interactive_message(waba: Any, sandbox: SandboxProcess, receiver: Receiver) -> None:
    customer = "+15551230303"
    waba(
        "sandbox",
        "inbound",
        "--to",
        fixtures.PHONE_NUMBER,
        "--from",
        customer,
        "--text",
        "hi",
        "--sandbox-url",
        sandbox.url,
    )
    receiver.messages("15551230303")
    buttons = [
        {"type": "reply", "reply": {"id": "confirm", "title": "Confirm"}},
        {"type": "reply", "reply": {"id": "cancel", "title": "Cancel"}},
    ]
    interactive = {"type": "button", "body": {"text": "Keep your booking?"}, "action": {"buttons": buttons}}
    offer = sandbox.send({"to": customer, "type": "interactive", "interactive": interactive}).json()["messages"][0][
        "id"
    ]
    result = waba(
        "sandbox",
        "inbound",
        "--to",
        fixtures.PHONE_NUMBER,
        "--from",
        customer,
        "--button",
        "cancel",
        "--sandbox-url",
        sandbox.url,
    )
    assert result.code == 0, result.err
    _delivery, value = receiver.messages("15551230303")
    [message] = value["messages"]
    assert message["context"] == {"from": "15550134567", "id": offer}
    assert message["interactive"] == {"type": "button_reply", "button_reply": {"id": "cancel", "title": "Cancel"}}


def test_flow_reply_carries_the_flow_token(waba: Any, sandbox: SandboxProcess, receiver: Receiver) -> None:
    customer = "+15551230304"
    waba(
        "sandbox",
        "inbound",
        "--to",
        fixtures.PHONE_NUMBER,
        "--from",
        customer,
        "--text",
        "book",
        "--sandbox-url",
        sandbox.url,
    )
    receiver.messages("15551230304")
    parameters = {
        "flow_message_version": "3",
        "flow_token": "booking-42",
        "flow_id": fixtures.FLOW_ID,
        "flow_cta": "Book now",
        "flow_action": "navigate",
        "flow_action_payload": {"screen": "APPOINTMENT"},
    }
    interactive = {
        "type": "flow",
        "body": {"text": "Pick a time"},
        "action": {"name": "flow", "parameters": parameters},
    }
    offer = sandbox.send({"to": customer, "type": "interactive", "interactive": interactive})
    assert offer.status_code == 200, offer.text
    reply = json.dumps({"appointment_date": "2026-12-01", "time_slot": "10:30"})
    result = waba(
        "sandbox",
        "inbound",
        "--to",
        fixtures.PHONE_NUMBER,
        "--from",
        customer,
        "--flow-reply",
        reply,
        "--sandbox-url",
        sandbox.url,
    )
    assert result.code == 0, result.err
    _delivery, value = receiver.messages("15551230304")
    nfm = value["messages"][0]["interactive"]["nfm_reply"]
    assert nfm["name"] == "flow"
    assert json.loads(nfm["response_json"]) == {
        "flow_token": "booking-42",
        "appointment_date": "2026-12-01",
        "time_slot": "10:30",
    }


def test_inbound_without_a_sandbox_posts_directly_when_given_a_url(waba: Any, receiver: Receiver) -> None:
    result = waba(
        "sandbox",
        "inbound",
        "--to",
        fixtures.PHONE_NUMBER,
        "--from",
        "+15551230305",
        "--button",
        "STOP",
        "--webhook-url",
        receiver.url,
        "--sandbox-url",
        "http://127.0.0.1:9",
    )
    assert result.code == 0, result.err
    assert "[200]" in result.out
    delivery, value = receiver.messages("15551230305")
    assert delivery.signed_by(fixtures.APP_SECRET)
    assert value["messages"][0]["interactive"]["button_reply"]["id"] == "STOP"


def test_inbound_reports_a_receiver_that_refuses(waba: Any, receiver: Receiver) -> None:
    receiver.status = 401
    try:
        result = waba(
            "sandbox",
            "inbound",
            "--to",
            fixtures.PHONE_NUMBER,
            "--from",
            "+15551230306",
            "--text",
            "hi",
            "--webhook-url",
            receiver.url,
            "--sandbox-url",
            "http://127.0.0.1:9",
        )
    finally:
        receiver.status = 200
    assert result.code == 1
    assert "[401]" in result.out
    assert "did not accept" in result.err


def test_inbound_needs_exactly_one_kind_of_message(waba: Any) -> None:
    result = waba(
        "sandbox", "inbound", "--to", fixtures.PHONE_NUMBER, "--from", "+15551230307", "--text", "a", "--button", "b"
    )
    assert result.code == 2
    bad_json = waba(
        "sandbox", "inbound", "--to", fixtures.PHONE_NUMBER, "--from", "+15551230307", "--flow-reply", "{oops"
    )
    assert bad_json.code == 2
    assert "--flow-reply" in bad_json.err


def test_inbound_without_sandbox_or_url_says_how_to_fix_it(waba: Any) -> None:
    result = waba(
        "sandbox",
        "inbound",
        "--to",
        fixtures.PHONE_NUMBER,
        "--from",
        "+15551230308",
        "--text",
        "hi",
        "--sandbox-url",
        "http://127.0.0.1:9",
    )
    assert result.code == 1
    assert "waba sandbox serve" in result.err
