"""serve-webhook as Meta meets it: a real server on 127.0.0.1, signed bytes, repeats and reordering."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select

from tests.support.webhook import (
    CUSTOMER,
    OTHER_APP_SECRET,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    WEBHOOKS,
    Receiver,
    envelope,
    fixture_bytes,
    inbound_text,
    start_receiver,
)
from waba_cli.db.models.logs import AccountHealthLog
from waba_cli.db.models.messages import Message, MessageStatus
from waba_cli.db.models.templates import MessageTemplate
from waba_cli.db.models.webhooks import WebhookEvent, WebhookItem

SAMPLES = sorted(p.name for p in WEBHOOKS.glob("*.json"))


def count(receiver: Receiver, model: Any, *where: Any) -> int:
    with receiver.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


def rows(receiver: Receiver, model: Any, *where: Any) -> list[Any]:
    with receiver.connect() as conn:
        return list(conn.execute(select(model).where(*where)).all())


def statuses(*items: dict[str, Any]) -> dict[str, Any]:
    return {
        "field": "messages",
        "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550134567", "phone_number_id": PHONE_NUMBER_ID},
            "statuses": list(items),
        },
    }


def status(wamid: str, name: str, at: int, **extra: Any) -> dict[str, Any]:
    return {"id": wamid, "status": name, "timestamp": str(at), "recipient_id": CUSTOMER, **extra}


def sent_message(receiver: Receiver, wamid: str, status_name: str = "accepted") -> None:
    """A message waba sent earlier (as `waba send` records it)."""
    now = datetime.now(UTC)
    with receiver.connect() as conn, conn.begin():
        conn.execute(
            insert(Message.__table__),  # type: ignore[attr-defined]
            {
                "account_id": 1,
                "phone_number_id": PHONE_NUMBER_ID,
                "direction": "out",
                "wamid": wamid,
                "contact": "+" + CUSTOMER,
                "type": "text",
                "status": status_name,
                "created_at": now,
                "updated_at": now,
            },
        )


def message(receiver: Receiver, wamid: str) -> Any:
    return rows(receiver, Message.__table__, Message.wamid == wamid)[0]  # type: ignore[attr-defined]


# -- every sample Meta might send --------------------------------------------------------------


def test_every_sample_delivery_is_acknowledged_stored_and_applied(receiver: Receiver) -> None:
    for name in SAMPLES:
        response = receiver.post(fixture_bytes(name))
        assert response.status_code == 200, (name, response.text)
    events = rows(receiver, WebhookEvent.__table__)  # type: ignore[attr-defined]
    assert len(events) == len(SAMPLES)
    assert {e.status for e in events} == {"applied"}, [(e.id, e.error) for e in events if e.error]
    assert sorted(bytes(e.body) for e in events) == sorted(fixture_bytes(n) for n in SAMPLES)
    # every inbound message type of the reference is stored once per wamid
    stored_types = {m.type for m in rows(receiver, Message.__table__, Message.direction == "in")}  # type: ignore[attr-defined]
    assert {
        "text",
        "image",
        "audio",
        "video",
        "document",
        "sticker",
        "location",
        "reaction",
        "contacts",
        "interactive",
        "button",
        "order",
        "system",
        "unsupported",
    } <= stored_types
    # the business events wrote health-log entries and template rows
    checks = {h.check for h in rows(receiver, AccountHealthLog.__table__)}  # type: ignore[attr-defined]
    assert {"account_update", "phone_number_quality_update", "phone_number_name_update", "security", "flows"} <= checks
    assert count(receiver, MessageTemplate.__table__) >= 1  # type: ignore[attr-defined]
    # one log line per delivery, with its field
    applied_lines = [line for line in receiver.log.lines() if "[200] applied" in line]
    assert len(applied_lines) == len(SAMPLES)


def test_template_events_update_their_rows_and_write_health_log_entries(receiver: Receiver) -> None:
    response = receiver.post(fixture_bytes("17-template-events.json"))

    assert response.status_code == 200, response.text
    logged = [
        (h.check, h.status, h.source, h.detail)
        for h in rows(receiver, AccountHealthLog.__table__)  # type: ignore[attr-defined]
    ]
    assert logged == [
        ("template", "OK", "webhook", "template order_update en_US: APPROVED"),
        ("template", "CRITICAL", "webhook", "template abandoned_cart pt_BR: REJECTED (INVALID_FORMAT)"),
        ("template", "WARNING", "webhook", "template summer_sale en_US: PAUSED (FIRST_PAUSE)"),
        ("template", "WARNING", "webhook", "template summer_sale en_US: quality GREEN -> YELLOW"),
        (
            "template",
            "WARNING",
            "webhook",
            "template welcome_template en_US: category UTILITY will become MARKETING on 2025-05-02 07:00 UTC",
        ),
        ("template", "WARNING", "webhook", "template loyalty_points es_MX: category UTILITY -> MARKETING"),
        ("template", "OK", "webhook", "template order_update en_US: components updated"),
    ]
    templates = {
        (t.name, t.language): t.status
        for t in rows(receiver, MessageTemplate.__table__)  # type: ignore[attr-defined]
    }
    assert templates[("summer_sale", "en_US")] == "PAUSED"
    assert templates[("abandoned_cart", "pt_BR")] == "REJECTED"

    # a repeated delivery is applied once: no second entry
    assert receiver.post(fixture_bytes("17-template-events.json")).status_code == 200
    assert count(receiver, AccountHealthLog.__table__) == len(logged)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("value", "status", "detail"),
    [
        ({"event": "DISABLED", "reason": "NONE"}, "CRITICAL", "DISABLED"),
        ({"event": "FLAGGED", "reason": None}, "WARNING", "FLAGGED"),
        ({"event": "REINSTATED", "reason": "NONE", "other_info": {"title": "UNPAUSE"}}, "OK", "REINSTATED (UNPAUSE)"),
        ({"new_quality_score": "RED", "previous_quality_score": "YELLOW"}, "CRITICAL", "quality YELLOW -> RED"),
    ],
)
def test_template_statuses_map_to_health_statuses(
    receiver: Receiver, value: dict[str, Any], status: str, detail: str
) -> None:
    # a quality update under the status field, as Meta's own example sends it, is a quality update
    value = {"message_template_id": 42, "message_template_name": "promo", "message_template_language": "en-US", **value}
    response = receiver.post(envelope({"field": "message_template_status_update", "value": value}))

    assert response.status_code == 200, response.text
    [entry] = rows(receiver, AccountHealthLog.__table__)  # type: ignore[attr-defined]
    assert (entry.check, entry.status, entry.detail) == ("template", status, f"template promo en_US: {detail}")


def test_an_inbound_text_keeps_the_contact_and_opens_the_window(receiver: Receiver) -> None:
    from sqlmodel import Session

    from waba_cli.services.messaging.rules import window_open

    assert receiver.post(inbound_text("wamid.window-1", "Olá, tudo bem?")).status_code == 200
    stored = message(receiver, "wamid.window-1")
    assert (stored.contact, stored.contact_name, stored.text, stored.direction) == (
        "+" + CUSTOMER,
        "Ana Souza",
        "Olá, tudo bem?",
        "in",
    )
    with Session(receiver.db().engine) as session:
        assert window_open(session, PHONE_NUMBER_ID, "+" + CUSTOMER)
        assert not window_open(session, PHONE_NUMBER_ID, "+15550009999")


def test_a_flow_reply_keeps_its_response_for_flow_responses(receiver: Receiver) -> None:
    assert receiver.post(fixture_bytes("08-flow-nfm-reply.json")).status_code == 200
    stored = rows(receiver, Message.__table__, Message.type == "interactive")[0]  # type: ignore[attr-defined]
    reply = stored.payload["interactive"]["nfm_reply"]
    assert "flow_token" in json.loads(reply["response_json"])


def test_a_batch_of_several_entries_and_changes_applies_every_item(receiver: Receiver) -> None:
    assert receiver.post(fixture_bytes("20-batched-multi-entry.json")).status_code == 200
    inbound = rows(receiver, Message.__table__, Message.direction == "in")  # type: ignore[attr-defined]
    assert len(inbound) == 3
    luca = next(m for m in inbound if m.contact_username)
    # the 2026 business-scoped user id and username are kept beside the number
    assert (luca.contact, luca.contact_user_id, luca.contact_username) == (
        "+393471234567",
        "IT.72910385561029384756",
        "luca.plants",
    )
    assert count(receiver, MessageStatus.__table__) >= 2  # type: ignore[attr-defined]
    event = rows(receiver, WebhookEvent.__table__)[0]  # type: ignore[attr-defined]
    assert event.status == "applied"
    assert "messages" in event.field
    assert "message_template_status_update" in event.field


def test_a_message_without_a_phone_number_is_stored_under_its_user_id(receiver: Receiver) -> None:
    body = envelope(
        {
            "field": "messages",
            "value": {
                "metadata": {"phone_number_id": PHONE_NUMBER_ID},
                "contacts": [{"profile": {"name": "Kim"}, "user_id": "US.13491208655302741918", "username": "kim"}],
                "messages": [
                    {
                        "from_user_id": "US.13491208655302741918",
                        "id": "wamid.no-wa-id",
                        "timestamp": "1750700005",
                        "type": "text",
                        "text": {"body": "hello"},
                    }
                ],
            },
        }
    )
    assert receiver.post(body).status_code == 200
    stored = message(receiver, "wamid.no-wa-id")
    assert (stored.contact, stored.contact_name) == ("US.13491208655302741918", "Kim")


# -- signatures, verification, refusals --------------------------------------------------------


def second_app(waba: Any, setup_file: Any) -> None:
    """Another account, of another Meta app, on the same server."""
    other = setup_file(
        {
            "name": "Second app",
            "waba_id": "118273645509182",
            "app_secret": "0123456789abcdef0123456789abcdef",
            "phone_number_id": "120394857601234",
            "phone_number": "+447700900123",
        },
        name="other.json",
    )
    assert waba("account", "setup", "--from-file", str(other), "--no-verify").code == 0


def test_a_wire_escaped_unicode_delivery_verifies_against_the_raw_bytes(
    receiver: Receiver, waba: Any, setup_file: Any
) -> None:
    second_app(waba, setup_file)
    # Meta's app secrets are 32 hex digits, the test vector's is not: store it as setup would have
    _set_app_secret(receiver, "My Business WhatsApp", OTHER_APP_SECRET)
    receiver.app.intake.keys = _reload_keys(receiver)
    assert receiver.app.intake.keys.apps == 2
    body = fixture_bytes("03-text-unicode-wire-escaped.json")
    assert b"\\u00e9" in body  # é, escaped as Meta sends it
    assert receiver.post(body, secret=OTHER_APP_SECRET).status_code == 200
    # re-serialised JSON would not verify: the signature is over the bytes as sent
    reserialised = json.dumps(json.loads(body), ensure_ascii=False).encode()
    response = receiver.client.post(
        receiver.url + "/webhook",
        content=reserialised,
        headers={"x-hub-signature-256": "sha256=fb37d8b0043a951d294cb36623db8096b1539e132d935027370e74d23582d58c"},
    )
    assert response.status_code == 401
    literal = json.loads(fixture_bytes("02-text-unicode.json"))
    text = literal["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"]
    assert count(receiver, Message.__table__, Message.text == text) == 1  # type: ignore[attr-defined]


def test_another_apps_signature_does_not_apply_changes_for_this_apps_numbers(
    receiver: Receiver, waba: Any, setup_file: Any
) -> None:
    second_app(waba, setup_file)
    receiver.app.intake.keys = _reload_keys(receiver)
    body = fixture_bytes("01-text.json")
    assert receiver.post(body, secret="0123456789abcdef0123456789abcdef").status_code == 200
    assert count(receiver, Message.__table__) == 0  # type: ignore[attr-defined]
    event = rows(receiver, WebhookEvent.__table__)[0]  # type: ignore[attr-defined]
    assert "other apps' accounts" in event.summary or "another app's account" in event.summary


def _set_app_secret(receiver: Receiver, name: str, secret: str) -> None:
    from sqlalchemy import update

    from waba_cli.db.models.accounts import Account
    from waba_cli.services.context import CommandContext
    from waba_cli.settings import load_settings

    encrypted = CommandContext(load_settings()).cipher().encrypt(secret)
    table = Account.__table__  # type: ignore[attr-defined]
    with receiver.connect() as conn, conn.begin():
        conn.execute(update(table).where(table.c.name == name).values(app_secret_enc=encrypted))


def _reload_keys(receiver: Receiver) -> Any:
    from waba_cli.services.context import CommandContext
    from waba_cli.services.webhooks.store import load_keys
    from waba_cli.settings import load_settings

    return load_keys(receiver.db(), CommandContext(load_settings()).cipher())


def test_the_reference_signature_test_vector_holds() -> None:
    from waba_cli.services.webhooks.parse import Keys

    keys = Keys({OTHER_APP_SECRET: [7]}, [])
    body = fixture_bytes("03-text-unicode-wire-escaped.json")
    vector = b"sha256=fb37d8b0043a951d294cb36623db8096b1539e132d935027370e74d23582d58c"
    assert keys.verify(body, vector) == frozenset({7})
    assert keys.verify(body + b" ", vector) is None


@pytest.mark.parametrize(
    "signature",
    [None, "sha256=" + "0" * 64, "sha1=abc", "sha256=", "garbage"],
    ids=["missing", "wrong", "sha1", "empty", "garbage"],
)
def test_a_delivery_without_a_valid_signature_is_refused_and_not_stored(
    receiver: Receiver, signature: str | None
) -> None:
    headers = {"x-hub-signature-256": signature} if signature is not None else {}
    response = receiver.post(fixture_bytes("01-text.json"), secret=None, **headers)
    assert response.status_code == 401
    assert count(receiver, WebhookEvent.__table__) == 0  # type: ignore[attr-defined]


def test_a_delivery_signed_with_another_apps_secret_is_refused(receiver: Receiver) -> None:
    assert receiver.post(fixture_bytes("01-text.json"), secret="not-our-app").status_code == 401
    assert count(receiver, Message.__table__) == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("body", [b"{not json", b"", b"[NaN]", b"\xff\xfe"], ids=["broken", "empty", "nan", "binary"])
def test_malformed_json_is_refused_with_400(receiver: Receiver, body: bytes) -> None:
    assert receiver.post(body).status_code == 400
    assert count(receiver, WebhookEvent.__table__) == 0  # type: ignore[attr-defined]


def test_a_body_above_the_limit_is_refused_with_413(business: Any, isolated: Path) -> None:
    (isolated / "config.toml").write_text("[webhook]\nmax_body_bytes = 2048\n")
    app, uvicorn_server, thread, _ = start_receiver()
    port = uvicorn_server.servers[0].sockets[0].getsockname()[1]
    try:
        big = envelope({"field": "messages", "value": {"padding": "x" * 4096}})
        receiver = Receiver(f"http://127.0.0.1:{port}", httpx.Client(timeout=10), app, _)
        assert receiver.post(big).status_code == 413
        # also when the size is not announced (chunked upload)
        chunked = receiver.client.post(
            receiver.url + "/webhook",
            content=iter([big[:1000], big[1000:]]),
            headers={"x-hub-signature-256": "sha256=" + "0" * 64},
        )
        assert chunked.status_code == 413
        assert receiver.post(fixture_bytes("01-text.json")).status_code == 200
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=15)


def test_verification_answers_the_challenge_for_a_configured_token(receiver: Receiver) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    response = receiver.client.get(receiver.url + "/webhook", params=query)
    assert (response.status_code, response.text) == (200, "1158201444")


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ],
    ids=["wrong-token", "wrong-mode", "no-token"],
)
def test_verification_is_refused_with_403_otherwise(receiver: Receiver, query: dict[str, str]) -> None:
    response = receiver.client.get(receiver.url + "/webhook", params=query)
    assert response.status_code == 403
    assert "1" not in response.text


def test_other_paths_and_methods_are_404_and_405_and_healthz_answers(receiver: Receiver) -> None:
    assert receiver.client.get(receiver.url + "/elsewhere").status_code == 404
    assert receiver.client.post(receiver.url + "/elsewhere", content=b"{}").status_code == 404
    response = receiver.client.put(receiver.url + "/webhook", content=b"{}")
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]
    health = receiver.client.get(receiver.url + "/healthz")
    assert (health.status_code, health.text) == (200, "ok\n")


# -- idempotency and ordering ------------------------------------------------------------------


def test_repeated_deliveries_change_nothing(receiver: Receiver) -> None:
    samples = (
        "01-text.json",
        "15-statuses-lifecycle.json",
        "17-template-events.json",
        "18-account-and-phone-events.json",
    )
    for _ in range(3):
        for name in samples:
            assert receiver.post(fixture_bytes(name)).status_code == 200
    assert count(receiver, Message.__table__) == 1  # type: ignore[attr-defined]
    assert count(receiver, WebhookEvent.__table__) == 12  # type: ignore[attr-defined]  # every delivery is kept
    once = count(receiver, AccountHealthLog.__table__)  # type: ignore[attr-defined]
    items = count(receiver, WebhookItem.__table__)  # type: ignore[attr-defined]
    for name in ("17-template-events.json", "18-account-and-phone-events.json"):
        assert receiver.post(fixture_bytes(name)).status_code == 200
    assert count(receiver, AccountHealthLog.__table__) == once  # type: ignore[attr-defined]
    assert count(receiver, WebhookItem.__table__) == items  # type: ignore[attr-defined]
    history = rows(receiver, MessageStatus.__table__)  # type: ignore[attr-defined]
    assert len(history) == len({(h.wamid, h.status) for h in history})


def test_statuses_only_move_forward_whatever_order_they_arrive_in(receiver: Receiver) -> None:
    sent_message(receiver, "wamid.out-1")
    for name, at in (("read", 300), ("delivered", 200), ("sent", 100)):
        assert receiver.post(envelope(statuses(status("wamid.out-1", name, at)))).status_code == 200
    stored = message(receiver, "wamid.out-1")
    assert stored.status == "read"
    assert stored.status_at == datetime.fromtimestamp(300, UTC).replace(tzinfo=stored.status_at.tzinfo)
    # each status keeps its own timestamp in the history
    history = {h.status: h.status_at for h in rows(receiver, MessageStatus.__table__)}  # type: ignore[attr-defined]
    assert set(history) == {"read", "delivered", "sent"}


def test_a_late_sent_after_read_changes_nothing_and_failed_after_read_neither(receiver: Receiver) -> None:
    sent_message(receiver, "wamid.out-2")
    body = envelope(statuses(status("wamid.out-2", "read", 200)))
    assert receiver.post(body).status_code == 200
    late = envelope(
        statuses(status("wamid.out-2", "sent", 100), status("wamid.out-2", "failed", 150, errors=[{"code": 131026}]))
    )
    assert receiver.post(late).status_code == 200
    stored = message(receiver, "wamid.out-2")
    assert (stored.status, stored.error_code) == ("read", None)


def test_failed_replaces_sent_and_keeps_its_error_and_a_later_delivered_wins(receiver: Receiver) -> None:
    sent_message(receiver, "wamid.out-3")
    error = {
        "code": 131049,
        "title": "This message was not delivered to maintain healthy ecosystem engagement.",
        "message": "This message was not delivered to maintain healthy ecosystem engagement.",
        "error_data": {"details": "In order to maintain a healthy ecosystem engagement, the message failed."},
    }
    pricing = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"}
    first = envelope(
        statuses(
            status("wamid.out-3", "sent", 100, pricing=pricing, biz_opaque_callback_data="order-8812"),
            status("wamid.out-3", "failed", 110, errors=[error]),
        )
    )
    assert receiver.post(first).status_code == 200
    stored = message(receiver, "wamid.out-3")
    assert (stored.status, stored.error_code, stored.error_title) == ("failed", 131049, error["title"])
    assert stored.error_details == error["error_data"]["details"]
    assert stored.pricing == pricing
    assert stored.biz_opaque_callback_data == "order-8812"
    # multi-device: a later delivered wins over failed; the failure stays in the history
    assert receiver.post(envelope(statuses(status("wamid.out-3", "delivered", 120)))).status_code == 200
    assert message(receiver, "wamid.out-3").status == "delivered"
    failed = rows(receiver, MessageStatus.__table__, MessageStatus.status == "failed")[0]  # type: ignore[attr-defined]
    assert (failed.error_code, failed.errors[0]["code"]) == (131049, 131049)


def test_statuses_for_messages_waba_did_not_send_are_kept(receiver: Receiver) -> None:
    assert receiver.post(fixture_bytes("15-statuses-lifecycle.json")).status_code == 200
    history = rows(receiver, MessageStatus.__table__)  # type: ignore[attr-defined]
    assert {"sent", "delivered", "read", "played"} <= {h.status for h in history}
    sent = next(h for h in history if h.status == "sent")
    assert sent.pricing is not None
    assert sent.conversation is not None
    assert count(receiver, Message.__table__) == 0  # type: ignore[attr-defined]


def test_message_show_tells_what_the_statuses_say_of_a_message_waba_did_not_send(receiver: Receiver, waba: Any) -> None:
    error = {"code": 131026, "title": "Message undeliverable", "error_data": {"details": "not on WhatsApp"}}
    body = envelope(
        statuses(
            status("wamid.elsewhere-1", "sent", 100, biz_opaque_callback_data="crm-77"),
            status("wamid.elsewhere-1", "failed", 110, errors=[error]),
        )
    )
    assert receiver.post(body).status_code == 200

    shown = waba("message", "show", "wamid.elsewhere-1", "--json")

    assert shown.code == 0, shown.err
    data = shown.json()
    assert (data["status"], data["to"], data["error_code"]) == ("failed", f"+{CUSTOMER}", 131026)
    assert data["from"] and data["phone_number_id"] == PHONE_NUMBER_ID
    assert data["biz_opaque_callback_data"] == "crm-77"
    assert [h["biz_opaque_callback_data"] for h in data["history"]] == ["crm-77", None]


def test_an_unknown_field_is_kept_as_an_event_and_crashes_nothing(receiver: Receiver) -> None:
    body = envelope({"field": "calls", "value": {"calls": [{"id": "c1", "event": "connect"}]}})
    assert receiver.post(body).status_code == 200
    event = rows(receiver, WebhookEvent.__table__)[0]  # type: ignore[attr-defined]
    assert (event.field, event.status) == ("calls", "applied")
    assert "unknown" in event.summary


def test_json_logs_give_one_object_per_delivery(business: Any) -> None:
    app, uvicorn_server, thread, log = start_receiver(json_logs=True)
    port = uvicorn_server.servers[0].sockets[0].getsockname()[1]
    try:
        receiver = Receiver(f"http://127.0.0.1:{port}", httpx.Client(timeout=10), app, log)
        assert receiver.post(fixture_bytes("01-text.json")).status_code == 200
        assert receiver.post(b"{}", secret="wrong").status_code == 401
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=15)
    applied, refused = (json.loads(line) for line in log.lines())
    assert (applied["status"], applied["result"], applied["field"]) == (200, "applied", "messages")
    assert applied["ids"] == ["wamid.HBgLMTY1MDU1NTAxMjMVAgASGBQ0ODA1NDc4MTczRkZBQzYyNEIxNwA="]
    assert isinstance(applied["event_id"], int)
    assert (refused["status"], refused["result"]) == (401, "invalid signature")


def test_two_instances_on_one_database_apply_each_change_once(receiver: Receiver) -> None:
    from concurrent.futures import ThreadPoolExecutor

    app, uvicorn_server, thread, log = start_receiver()
    port = uvicorn_server.servers[0].sockets[0].getsockname()[1]
    other = Receiver(f"http://127.0.0.1:{port}", httpx.Client(timeout=10), app, log)
    sent_message(receiver, "wamid.both")
    bodies = [fixture_bytes(name) for name in SAMPLES] + [
        envelope(statuses(status("wamid.both", name, at))) for name, at in (("sent", 1), ("read", 3), ("delivered", 2))
    ]
    try:
        # Meta retries reach whichever instance the load balancer picks: here, both at once
        with ThreadPoolExecutor(8) as pool:
            jobs = [(r, b) for b in bodies for r in (receiver, other)]
            answers = list(pool.map(lambda job: job[0].post(job[1]).status_code, jobs))
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=15)
    assert set(answers) == {200}
    inbound = rows(receiver, Message.__table__, Message.direction == "in")  # type: ignore[attr-defined]
    assert len(inbound) == len({m.wamid for m in inbound})
    assert message(receiver, "wamid.both").status == "read"
    # every business event was applied by exactly one of them: no health-log entry twice
    logged = [(h.check, h.detail) for h in rows(receiver, AccountHealthLog.__table__)]  # type: ignore[attr-defined]
    assert logged
    assert len(logged) == len(set(logged))
    assert count(receiver, MessageStatus.__table__) == len(  # type: ignore[attr-defined]
        {(h.wamid, h.status) for h in rows(receiver, MessageStatus.__table__)}  # type: ignore[attr-defined]
    )


@pytest.mark.slow
def test_an_event_stored_but_not_applied_when_the_server_died_is_applied_at_start(business: Any) -> None:
    import hashlib

    from waba_cli.services.webhooks.store import open_store
    from waba_cli.settings import load_settings

    body = fixture_bytes("01-text.json")
    store = open_store(load_settings())
    with store.engine.begin() as conn:
        conn.execute(
            insert(WebhookEvent.__table__),  # type: ignore[attr-defined]
            {"body": body, "body_sha256": hashlib.sha256(body).hexdigest(), "status": "received", "headers": {}},
        )
    store.dispose()
    app, uvicorn_server, thread, log = start_receiver()
    try:
        receiver = Receiver("", httpx.Client(), app, log)
        deadline = time.monotonic() + 10
        while count(receiver, WebhookEvent.__table__, WebhookEvent.status == "applied") == 0:  # type: ignore[attr-defined]
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert count(receiver, Message.__table__) == 1  # type: ignore[attr-defined]
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=15)


def test_absent_json_values_are_stored_as_sql_null(receiver: Receiver) -> None:
    from sqlalchemy import text

    assert receiver.post(fixture_bytes("01-text.json")).status_code == 200
    assert receiver.post(envelope(statuses(status("wamid.no-pricing", "delivered", 5)))).status_code == 200
    with receiver.connect() as conn:
        inbound = conn.execute(text("SELECT count(*) FROM message WHERE pricing IS NULL")).scalar_one()
        history = conn.execute(
            text("SELECT count(*) FROM message_status WHERE pricing IS NULL AND errors IS NULL")
        ).scalar_one()
    assert (inbound, history) == (1, 1)


def test_pricing_from_a_status_lands_on_a_message_sent_with_waba_send(receiver: Receiver) -> None:
    from waba_cli.services.messaging.send import Outgoing, _queue

    outgoing = Outgoing(1, "My Business WhatsApp", PHONE_NUMBER_ID, "+" + CUSTOMER, {"type": "text"}, "text", "hi")
    message_id = _queue(receiver.db(), outgoing, datetime.now(UTC))  # recorded as `waba send` records it
    with receiver.connect() as conn, conn.begin():
        conn.execute(
            Message.__table__.update().where(Message.__table__.c.id == message_id).values(wamid="wamid.orm")  # type: ignore[attr-defined]
        )
    pricing = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}
    assert receiver.post(envelope(statuses(status("wamid.orm", "sent", 1, pricing=pricing)))).status_code == 200
    assert message(receiver, "wamid.orm").pricing == pricing
