"""``POST /{phone-number-id}/messages`` (§2): sends, and what follows them (status webhooks §8.6).

* a number sends at its throughput and pair rate (``rules.throughput``); ``--bench`` turns both
  off, and the status webhooks with them.
* a free-form message outside the customer's 24-hour window is accepted, then fails with a
  ``failed`` status carrying 131047, as Meta does; the window opens with ``sandbox inbound``.
* ``status=read`` with a ``message_id`` marks a customer's message read.
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any

from waba_cli.sandbox.auth import MESSAGING, require_scope
from waba_cli.sandbox.errors import GraphFailure, invalid, missing, webhook_error
from waba_cli.sandbox.rules import messages as send_rules
from waba_cli.sandbox.rules import pricing
from waba_cli.sandbox.rules.phones import country_of
from waba_cli.sandbox.state import STATUS_ORDER, Message, PhoneNumber, wamid
from waba_cli.sandbox.webhooks import messages_value

if TYPE_CHECKING:
    from waba_cli.sandbox.runtime import Call, Runtime


async def send_message(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MESSAGING)
    number: PhoneNumber = call.obj
    params = call.params
    if params.get("status") == "read" and "message_id" in params:
        return _mark_read(sandbox, number, params)
    if number.status != "CONNECTED" or number.platform_type != "CLOUD_API":
        raise GraphFailure(133010, f"Phone number {number.id} is not registered with the Cloud API.")
    send = send_rules.check_send(params, sandbox.state, number.id, country_of(number.digits)[1])
    bench = sandbox.options.bench
    if not bench:
        sandbox.pacer.take(number, send.wa_id)
    if sandbox.options.throttle_rate and sandbox.random.random() < sandbox.options.throttle_rate:
        raise GraphFailure(130429, "Injected by --throttle-rate.")
    message_id = wamid(send.wa_id)
    sent = sandbox.sent
    sent.total += 1
    sent.by_recipient[send.wa_id] = sent.by_recipient.get(send.wa_id, 0) + 1
    if not bench:
        _accept(sandbox, call, number, send, message_id)
    item: dict[str, Any] = {"id": message_id}
    if send.template is not None:
        item["message_status"] = "accepted"
    return {
        "messaging_product": "whatsapp",
        "contacts": [{"input": str(params.get("to")), "wa_id": send.wa_id}],
        "messages": [item],
    }


def _accept(sandbox: Runtime, call: Call, number: PhoneNumber, send: send_rules.Send, message_id: str) -> None:
    now = time.time()
    window = pricing.in_window(sandbox.state, number.id, send.wa_id, now)
    message = Message(
        wamid=message_id,
        direction="out",
        phone_number_id=number.id,
        contact=send.wa_id,
        type=send.type,
        created_at=now,
        category=send.category,
        pricing_type=pricing.pricing_type(send, window),
        template_id=send.template.id if send.template else None,
        api_version=call.version,
        country=country_of(send.wa_id)[0],
        biz_opaque_callback_data=call.params.get("biz_opaque_callback_data"),
        extra=send.extra,
    )
    sandbox.state.messages[message_id] = message
    delay = sandbox.options.status_delay
    if send.free_form and not window:
        details = "Message failed to send because more than 24 hours have passed since the customer last replied."
        sandbox.later(delay, _fail, sandbox, message_id, 131047, details)
    elif sandbox.options.status_failure_rate and sandbox.random.random() < sandbox.options.status_failure_rate:
        sandbox.later(delay, _fail, sandbox, message_id, *send_rules.failure_for(message))
    else:
        for step, status in ((1, "sent"), (2, "delivered"), (4, "read")):
            sandbox.later(delay * step, _advance, sandbox, message_id, status)


def _mark_read(sandbox: Runtime, number: PhoneNumber, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("messaging_product") != "whatsapp":
        raise missing("messaging_product")
    message = sandbox.state.messages.get(str(params["message_id"]))
    if message is None or message.direction != "in" or message.phone_number_id != number.id:
        raise invalid(f"Message {params['message_id']} is not a message this number received.")
    message.status = "read"
    return {"success": True}


def _advance(sandbox: Runtime, wamid: str, status: str) -> None:
    message = sandbox.state.messages.get(wamid)
    if message is None or message.status == "failed":
        return
    now = time.time()
    if STATUS_ORDER[status] > STATUS_ORDER.get(message.status, 0):
        message.status = status
    setattr(message, f"{status}_at", now)
    if message.conversation_id is None:
        message.conversation_id = secrets.token_hex(16)
    sandbox.state.dirty = True
    _emit_status(sandbox, message, _status_item(message, status, now))


def _fail(sandbox: Runtime, wamid: str, code: int, details: str) -> None:
    message = sandbox.state.messages.get(wamid)
    if message is None:
        return
    now = time.time()
    message.status, message.error_code, message.failed_at = "failed", code, now
    sandbox.state.dirty = True
    item = _status_item(message, "failed", now)
    item["errors"] = [webhook_error(code, details)]
    _emit_status(sandbox, message, item)


def _status_item(message: Message, status: str, now: float) -> dict[str, Any]:
    """A status object (§8.6): conversation up to v23.0, pricing on sent and delivered."""
    item: dict[str, Any] = {
        "id": message.wamid,
        "status": status,
        "timestamp": str(int(now)),
        "recipient_id": message.contact,
    }
    if message.biz_opaque_callback_data:
        item["biz_opaque_callback_data"] = message.biz_opaque_callback_data
    if status not in ("sent", "delivered"):
        return item
    category = message.category or "service"
    if _major(message.api_version) < 24:
        conversation: dict[str, Any] = {"id": message.conversation_id or secrets.token_hex(16)}
        if status == "sent":
            conversation["expiration_timestamp"] = str(int(message.created_at) + 86400)
        conversation["origin"] = {"type": category}
        item["conversation"] = conversation
    pricing_type = message.pricing_type or "regular"
    item["pricing"] = {
        "billable": pricing_type == "regular",
        "pricing_model": "PMP",
        "type": pricing_type,
        "category": category,
    }
    return item


def _emit_status(sandbox: Runtime, message: Message, item: dict[str, Any]) -> None:
    number = sandbox.state.phone_numbers.get(message.phone_number_id)
    if number is None:
        return
    url = sandbox.messages_url(number)
    if url is None:
        return
    value = messages_value(number.digits, number.id, statuses=[item])
    sandbox.emitter.emit(url, number.waba_id, "messages", value)


def _major(version: str) -> int:
    try:
        return int(version[1:].split(".", maxsplit=1)[0])
    except ValueError:
        return 23
