"""Customer messages the sandbox simulates (``waba sandbox inbound``), in Meta's shapes (§8.4, §8.5).

Through a running sandbox the message joins its world: the customer's 24-hour window opens, a
button tap or Flow reply quotes the message that offered it (``context``), and the delivery goes
where the number's ``messages`` webhooks go. Without one, ``standalone_payload`` builds the same
delivery for the seeded sandbox number, to be posted directly (like ``stripe trigger``).
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from waba_cli.sandbox import fixtures
from waba_cli.sandbox.errors import GraphFailure, bad_param, missing
from waba_cli.sandbox.rules.phones import country_of, wa_id_of
from waba_cli.sandbox.state import Message, wamid
from waba_cli.sandbox.webhooks import envelope, messages_value, send_once

if TYPE_CHECKING:
    from waba_cli.sandbox.runtime import Runtime

KINDS = ("text", "button", "flow_reply")


def customer_message(
    kind: str, value: str, sender: str, message_id: str, *, offer: Message | None = None, business_digits: str = ""
) -> dict[str, Any]:
    """An inbound message object: a text, a tap on a button (reply button, list row or template
    quick reply, whichever ``offer`` made), or a Flow reply (``nfm_reply``, §8.5)."""
    message: dict[str, Any] = {"from": sender, "id": message_id, "timestamp": str(int(time.time()))}
    if offer is not None:
        message["context"] = {"from": business_digits, "id": offer.wamid}
    extra = (offer.extra or {}) if offer is not None else {}
    if kind == "text":
        message.update(type="text", text={"body": value})
    elif kind == "button" and value in extra.get("rows", {}):
        message.update(
            type="interactive",
            interactive={"type": "list_reply", "list_reply": {"id": value, "title": extra["rows"][value]}},
        )
    elif kind == "button" and extra.get("quick_replies"):
        replies: dict[str, str] = extra["quick_replies"]
        text = next((t for t, payload in replies.items() if value in (t, payload)), value)
        message.update(type="button", button={"payload": replies.get(text, value), "text": text})
    elif kind == "button":
        title = extra.get("buttons", {}).get(value, value)[:20]
        message.update(
            type="interactive", interactive={"type": "button_reply", "button_reply": {"id": value, "title": title}}
        )
    else:
        response = json.loads(value)
        if not isinstance(response, dict):
            raise bad_param("--flow-reply must be a JSON object.")
        token = extra.get("flow_token")
        if token and "flow_token" not in response:
            response = {"flow_token": token, **response}
        reply = {"response_json": json.dumps(response, separators=(",", ":")), "body": "Sent", "name": "flow"}
        message.update(type="interactive", interactive={"type": "nfm_reply", "nfm_reply": reply})
    return message


def _kind_and_value(params: dict[str, Any]) -> tuple[str, str]:
    given = [k for k in KINDS if params.get(k) not in (None, "")]
    if len(given) != 1:
        raise bad_param("Give exactly one of text, button and flow_reply.")
    kind = given[0]
    value = params[kind]
    if kind == "flow_reply" and not isinstance(value, str):
        value = json.dumps(value)
    if kind == "flow_reply":
        try:
            json.loads(value)
        except ValueError:
            raise bad_param("flow_reply must be JSON.") from None
    return kind, str(value)


def _offer(sandbox: Runtime, phone_number_id: str, contact: str, kind: str, value: str) -> Message | None:
    """The newest message to this customer that offers what they answer (a button, row or Flow)."""
    if kind == "text":
        return None
    for message in reversed(list(sandbox.state.messages.values())):
        if message.direction != "out" or message.phone_number_id != phone_number_id or message.contact != contact:
            continue
        extra = message.extra or {}
        if kind == "flow_reply" and "flow_id" in extra:
            return message
        if kind == "button" and (
            value in extra.get("buttons", {})
            or value in extra.get("rows", {})
            or value in extra.get("quick_replies", {})
            or value in extra.get("quick_replies", {}).values()
        ):
            return message
    return None


async def deliver_inbound(sandbox: Runtime, params: dict[str, Any]) -> dict[str, Any]:
    """``POST /_sandbox/inbound``: record a customer's message and deliver its signed webhook."""
    state = sandbox.state
    to = params.get("to")
    if not to:
        raise missing("to")
    number = state.number_by_phone(str(to))
    if number is None:
        raise bad_param(f"{to} is not a number of this sandbox (try {fixtures.PHONE_NUMBER}).")
    sender = wa_id_of(str(params.get("from") or ""), country_of(number.digits)[1])
    if sender is None:
        raise bad_param(f"from ({params.get('from')}) is not a phone number.")
    kind, value = _kind_and_value(params)
    offer = _offer(sandbox, number.id, sender, kind, value)
    if kind == "flow_reply" and offer is None and not params.get("webhook_url"):
        sandbox.log(f"    no Flow message was sent to {sender}: the reply has no context")
    message_id = wamid(sender, inbound=True)
    body = customer_message(kind, value, sender, message_id, offer=offer, business_digits=number.digits)
    now = time.time()
    state.windows[(number.id, sender)] = now
    state.messages[message_id] = Message(
        wamid=message_id,
        direction="in",
        phone_number_id=number.id,
        contact=sender,
        type=body["type"],
        created_at=now,
        status="received",
        country=country_of(sender)[0],
    )
    state.dirty = True
    url = params.get("webhook_url") or sandbox.messages_url(number)
    if not url:
        raise GraphFailure(
            100,
            "No webhook URL: start the sandbox with --webhook-url, or subscribe a callback "
            "(POST /{app-id}/subscriptions), or pass webhook_url.",
        )
    contact = {"profile": {"name": str(params.get("name") or "Sandbox Customer")}, "wa_id": sender}
    change = messages_value(number.digits, number.id, contacts=[contact], messages=[body])
    payload = envelope(number.waba_id, [{"value": change, "field": "messages"}])
    try:
        status = await send_once(str(url), payload, state.app.secret)
    except Exception as exc:  # noqa: BLE001 - any failure to reach the receiver is reported, not raised
        sandbox.log(f"--> inbound {kind} from {sender} {url} [no answer: {type(exc).__name__}]")
        return {"wamid": message_id, "webhook_url": url, "status": None, "error": type(exc).__name__}
    sandbox.log(f"--> inbound {kind} from {sender} {url} [{status}]")
    return {"wamid": message_id, "webhook_url": url, "status": status}


def standalone_payload(
    to: str, sender: str, kind: str, value: str, *, name: str = "Sandbox Customer"
) -> dict[str, Any]:
    """The delivery of one customer message to a seeded sandbox number, without a sandbox."""
    numbers = {
        fixtures.PHONE_NUMBER_ID: fixtures.PHONE_NUMBER,
        fixtures.SECOND_PHONE_NUMBER_ID: fixtures.SECOND_PHONE_NUMBER,
    }
    digits = "".join(ch for ch in numbers.get(to, to) if ch.isdigit())
    phone_number_id = next((pnid for pnid, phone in numbers.items() if phone.lstrip("+") == digits), None)
    if phone_number_id is None:
        raise bad_param(f"{to} is not a sandbox number ({fixtures.PHONE_NUMBER} or {fixtures.SECOND_PHONE_NUMBER}).")
    wa_id = wa_id_of(sender, "1")
    if wa_id is None:
        raise bad_param(f"--from {sender} is not a phone number.")
    kind, value = _kind_and_value({kind: value})
    body = customer_message(kind, value, wa_id, wamid(wa_id, inbound=True), business_digits=digits)
    contact = {"profile": {"name": name}, "wa_id": wa_id}
    change = messages_value(digits, phone_number_id, contacts=[contact], messages=[body])
    return envelope(fixtures.WABA_ID, [{"value": change, "field": "messages"}])
