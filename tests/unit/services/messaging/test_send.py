"""`waba send ...`: the exact request of every message type, and what is recorded."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.messaging import (
    BUSINESS,
    CONTACT,
    MESSAGES_URL,
    PNID,
    accepted,
    add_inbound,
    apply_webhook,
    outbound,
    status_webhook,
    webp,
)
from waba_cli.db.engine import Database
from waba_cli.db.models.flows import Flow


@pytest.fixture
def in_window(db: Database, account_id: int) -> None:
    add_inbound(db, account_id)


def sent_body(route: Any, index: int = -1) -> Any:
    return json.loads(route.calls[index].request.content)


def test_send_text_posts_the_reference_body_and_records_it_accepted(
    waba: Any, graph: Any, db: Database, in_window: None
) -> None:
    route = graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json=accepted("wamid.T1")))

    result = waba(
        "send",
        "text",
        "--to",
        "+1 (650) 555-0123",
        "--body",
        "Shipped: https://x.example/8812",
        "--preview-url",
        "--json",
    )

    assert result.code == 0, result.err
    assert sent_body(route) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CONTACT,
        "type": "text",
        "text": {"preview_url": True, "body": "Shipped: https://x.example/8812"},
    }
    assert route.calls[0].request.headers["Authorization"].startswith("Bearer EAAG")
    assert result.json() | {"message_id": None, "error_code": None, "error_title": None} == {
        "wamid": "wamid.T1",
        "to": CONTACT,
        "status": "accepted",
        "account": "My Business WhatsApp",
        "phone_number_id": PNID,
        "message_id": None,
        "error_code": None,
        "error_title": None,
    }
    [row] = outbound(db)
    assert (row.wamid, row.status, row.contact, row.type, row.text) == (
        "wamid.T1",
        "accepted",
        CONTACT,
        "text",
        "Shipped: https://x.example/8812",
    )
    assert row.payload == sent_body(route)


def test_send_text_with_reply_to_quotes_the_message(waba: Any, graph: Any, in_window: None) -> None:
    route = graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json=accepted()))

    result = waba("send", "text", "--to", CONTACT, "--body", "Yes", "--reply-to", "wamid.IN1")

    assert result.code == 0, result.err
    assert sent_body(route)["context"] == {"message_id": "wamid.IN1"}


@pytest.mark.parametrize("age", [None, timedelta(hours=24, minutes=1)], ids=["never-wrote", "wrote-25h-ago"])
def test_send_text_refuses_outside_the_window_and_records_nothing(
    waba: Any, graph: Any, db: Database, account_id: int, age: timedelta | None
) -> None:
    if age is not None:
        add_inbound(db, account_id, age=age)
    route = graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json=accepted()))

    result = waba("send", "text", "--to", CONTACT, "--body", "hello")

    assert result.code == 2
    assert "24-hour customer-service window" in result.err
    assert "send an approved template instead" in result.err
    assert not route.called
    assert outbound(db) == []


def test_send_text_with_force_sends_outside_the_window(waba: Any, graph: Any, db: Database, account_id: int) -> None:
    route = graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json=accepted()))

    result = waba("send", "text", "--to", CONTACT, "--body", "hello", "--force")

    assert result.code == 0, result.err
    assert route.called


def test_the_window_is_per_business_number(waba: Any, graph: Any, db: Database, account_id: int) -> None:
    add_inbound(db, account_id, contact="+16505550199")  # someone else wrote
    route = graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json=accepted()))

    assert waba("send", "text", "--to", CONTACT, "--body", "hi").code == 2
    assert not route.called


@pytest.mark.parametrize("number", ["12", "not a number", "6505550123"])
def test_send_refuses_a_bad_number_and_records_nothing(
    waba: Any, graph: Any, db: Database, account_id: int, number: str
) -> None:
    route = graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json=accepted()))

    result = waba("send", "text", "--to", number, "--body", "hi", "--force")

    assert result.code == 2
    assert "--to" in result.err
    assert not route.called
    assert outbound(db) == []


def test_send_uses_the_configured_region_for_national_numbers(
    waba: Any, graph: Any, in_window: None, monkeypatch: pytest.MonkeyPatch, isolated: Path
) -> None:
    (isolated / "config.toml").write_text('[defaults]\nregion = "US"\n')
    route = graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json=accepted()))

    result = waba("send", "text", "--to", "(650) 555-0123", "--body", "hi")

    assert result.code == 0, result.err
    assert sent_body(route)["to"] == CONTACT


def test_send_refuses_when_the_daily_limit_is_reached(
    waba: Any, graph: Any, db: Database, account_id: int, in_window: None
) -> None:
    assert waba("account", "update", "My Business WhatsApp", "--set", "daily_limit=1").code == 0
    route = graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json=accepted("wamid.A")))
    assert waba("send", "text", "--to", CONTACT, "--body", "one").code == 0

    result = waba("send", "text", "--to", CONTACT, "--body", "two")

    assert result.code == 2
    assert "daily limit of 1" in result.err
    assert route.call_count == 1
    assert len(outbound(db)) == 1


def test_send_warns_about_a_contact_that_stopped_marketing(
    waba: Any, graph: Any, db: Database, in_window: None
) -> None:
    graph.post(MESSAGES_URL).mock(
        return_value=httpx.Response(
            400,
            json={
                "error": {
                    "message": "(#131050) User stopped marketing",
                    "code": 131050,
                    "error_data": {"details": "opted out"},
                }
            },
        )
    )
    assert waba("send", "text", "--to", CONTACT, "--body", "first").code == 1
    graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json=accepted("wamid.B")))

    result = waba("send", "text", "--to", CONTACT, "--body", "again")

    assert result.code == 0
    assert "stopped marketing messages" in result.err
    assert "131050" in result.err


def test_a_graph_error_is_recorded_failed_and_exits_1_with_the_hint(
    waba: Any, graph: Any, db: Database, in_window: None
) -> None:
    graph.post(MESSAGES_URL).mock(
        return_value=httpx.Response(
            400,
            json={
                "error": {
                    "message": "(#131026) Message undeliverable",
                    "code": 131026,
                    "type": "OAuthException",
                    "error_data": {"messaging_product": "whatsapp", "details": "not on WhatsApp"},
                    "fbtrace_id": "Atrace",
                }
            },
        )
    )

    result = waba("send", "text", "--to", CONTACT, "--body", "hi")

    assert result.code == 1
    assert "131026" in result.err
    assert "Traceback" not in result.err
    [row] = outbound(db)
    assert (row.status, row.error_code, row.error_title, row.error_details, row.wamid) == (
        "failed",
        131026,
        "(#131026) Message undeliverable",
        "not on WhatsApp",
        None,
    )


def test_the_message_is_recorded_queued_while_the_request_is_in_flight(
    waba: Any, graph: Any, db: Database, in_window: None
) -> None:
    seen: list[tuple[str, str | None]] = []

    def meta(request: httpx.Request) -> httpx.Response:
        [row] = outbound(db)  # another connection: the queued row is committed before the call
        seen.append((row.status, row.wamid))
        return httpx.Response(200, json=accepted("wamid.Q"))

    graph.post(MESSAGES_URL).mock(side_effect=meta)

    assert waba("send", "text", "--to", CONTACT, "--body", "hi").code == 0
    assert seen == [("queued", None)]
    assert [(m.status, m.wamid) for m in outbound(db)] == [("accepted", "wamid.Q")]


def test_a_status_webhook_before_accepted_is_recorded_wins(
    waba: Any, graph: Any, db: Database, in_window: None
) -> None:
    def meta(request: httpx.Request) -> httpx.Response:
        # Meta's webhooks overtake its answer: serve-webhook applies sent + delivered first
        apply_webhook(db, status_webhook("wamid.RACE", "sent", "delivered"))
        return httpx.Response(200, json=accepted("wamid.RACE"))

    graph.post(MESSAGES_URL).mock(side_effect=meta)

    result = waba("send", "text", "--to", CONTACT, "--body", "hi", "--json")

    assert result.code == 0, result.err
    [row] = outbound(db)
    assert (row.wamid, row.status) == ("wamid.RACE", "delivered")
    assert row.pricing is not None
    assert row.pricing["type"] == "free_customer_service"
    # and a later, older status changes nothing
    apply_webhook(db, status_webhook("wamid.RACE", "sent"))
    assert outbound(db)[0].status == "delivered"


def test_dry_run_prints_the_request_and_records_nothing(waba: Any, graph: Any, db: Database, in_window: None) -> None:
    route = graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json=accepted()))

    result = waba("send", "text", "--to", CONTACT, "--body", "hi", "--dry-run", "--json")

    assert result.code == 0, result.err
    shown = result.json()
    assert shown["dry_run"] is True
    assert shown["request"]["json"]["text"] == {"preview_url": False, "body": "hi"}
    assert "EAAGm0PX4ZCpsBAKZCyZBqZAt3vZBZCpLmnOpQrStUvWxYz0123456789abcdefGHIJ" not in result.out
    assert not route.called
    assert outbound(db) == []


def test_send_from_an_unknown_number_is_refused(waba: Any, graph: Any, in_window: None) -> None:
    route = graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json=accepted()))

    result = waba("send", "text", "--to", CONTACT, "--body", "hi", "--from", "+15550009999")

    assert result.code == 2
    assert "no number" in result.err
    assert not route.called


def test_send_from_the_number_in_e164_or_by_id(waba: Any, graph: Any, in_window: None) -> None:
    route = graph.post(MESSAGES_URL).mock(
        side_effect=[httpx.Response(200, json=accepted("wamid.1")), httpx.Response(200, json=accepted("wamid.2"))]
    )

    assert waba("send", "text", "--to", CONTACT, "--body", "a", "--from", BUSINESS).code == 0
    assert waba("send", "text", "--to", CONTACT, "--body", "b", "--from", PNID).code == 0
    assert route.call_count == 2


def test_text_longer_than_4096_is_refused(waba: Any, graph: Any, db: Database, in_window: None) -> None:
    route = graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json=accepted()))

    result = waba("send", "text", "--to", CONTACT, "--body", "x" * 4097)

    assert result.code == 2
    assert "4096" in result.err
    assert not route.called
    assert outbound(db) == []


# -- interactive -------------------------------------------------------------------------------


def test_send_reply_buttons_matches_the_reference(waba: Any, graph: Any, in_window: None) -> None:
    route = graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json=accepted()))

    result = waba(
        "send",
        "interactive",
        "--to",
        CONTACT,
        "--body",
        "Need to change it?",
        "--button",
        "change-button:Change",
        "--button",
        "cancel-button:Cancel",
        "--header",
        "Workshop details",
        "--footer",
        "Lucky Shrub",
    )

    assert result.code == 0, result.err
    assert sent_body(route) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CONTACT,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "header": {"type": "text", "text": "Workshop details"},
            "body": {"text": "Need to change it?"},
            "footer": {"text": "Lucky Shrub"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": "change-button", "title": "Change"}},
                    {"type": "reply", "reply": {"id": "cancel-button", "title": "Cancel"}},
                ]
            },
        },
    }


def test_send_interactive_refuses_four_buttons(waba: Any, graph: Any, db: Database, in_window: None) -> None:
    route = graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json=accepted()))

    result = waba(
        "send",
        "interactive",
        "--to",
        CONTACT,
        "--body",
        "Pick",
        *(arg for i in range(4) for arg in ("--button", f"b{i}:B{i}")),
    )

    assert result.code == 2
    assert "1 to 3" in result.err
    assert not route.called
    assert outbound(db) == []


def test_send_list_from_a_toml_file_matches_the_reference(
    waba: Any, graph: Any, in_window: None, tmp_path: Path
) -> None:
    list_file = tmp_path / "shipping.toml"
    list_file.write_text(
        'button = "Shipping options"\nheader = "Choose shipping"\nbody = "Which shipping option do you prefer?"\n'
        'footer = "Lucky Shrub"\n'
        '[[sections]]\ntitle = "Fast"\n'
        '[[sections.rows]]\nid = "priority_express"\ntitle = "Priority Express"\ndescription = "Next day to 2 days"\n'
        '[[sections]]\ntitle = "Cheap"\n'
        '[[sections.rows]]\nid = "ground"\ntitle = "Ground"\ndescription = "2-5 days"\n'
    )
    route = graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json=accepted()))

    result = waba("send", "interactive", "--to", CONTACT, "--list-file", str(list_file))

    assert result.code == 0, result.err
    assert sent_body(route)["interactive"] == {
        "type": "list",
        "header": {"type": "text", "text": "Choose shipping"},
        "body": {"text": "Which shipping option do you prefer?"},
        "footer": {"text": "Lucky Shrub"},
        "action": {
            "button": "Shipping options",
            "sections": [
                {
                    "title": "Fast",
                    "rows": [
                        {"id": "priority_express", "title": "Priority Express", "description": "Next day to 2 days"}
                    ],
                },
                {"title": "Cheap", "rows": [{"id": "ground", "title": "Ground", "description": "2-5 days"}]},
            ],
        },
    }


def test_send_cta_url_matches_the_reference(waba: Any, graph: Any, in_window: None) -> None:
    route = graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json=accepted()))

    result = waba(
        "send",
        "interactive",
        "--to",
        CONTACT,
        "--body",
        "Tap below to see available dates.",
        "--cta-url",
        "https://example.com/dates?c=8812",
        "--cta-text",
        "See dates",
        "--footer",
        "Dates subject to change.",
    )

    assert result.code == 0, result.err
    assert sent_body(route)["interactive"] == {
        "type": "cta_url",
        "body": {"text": "Tap below to see available dates."},
        "footer": {"text": "Dates subject to change."},
        "action": {
            "name": "cta_url",
            "parameters": {"display_text": "See dates", "url": "https://example.com/dates?c=8812"},
        },
    }


# -- flows -------------------------------------------------------------------------------------


def test_send_flow_by_id_matches_the_reference(waba: Any, graph: Any, in_window: None) -> None:
    route = graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json=accepted()))

    result = waba(
        "send",
        "flow",
        "1234567890123456",
        "--to",
        CONTACT,
        "--token",
        "booking-8812-7f3a",
        "--cta",
        "Book now",
        "--screen",
        "APPOINTMENT",
        "--body",
        "Pick a time that suits you.",
        "--data",
        '{"customer_name": "Ana"}',
    )

    assert result.code == 0, result.err
    assert sent_body(route)["interactive"] == {
        "type": "flow",
        "body": {"text": "Pick a time that suits you."},
        "action": {
            "name": "flow",
            "parameters": {
                "flow_message_version": "3",
                "flow_token": "booking-8812-7f3a",
                "flow_id": "1234567890123456",
                "flow_cta": "Book now",
                "flow_action": "navigate",
                "flow_action_payload": {"screen": "APPOINTMENT", "data": {"customer_name": "Ana"}},
                "mode": "published",
            },
        },
    }


def test_send_flow_by_name_needs_a_screen_unless_known_locally(
    waba: Any, graph: Any, db: Database, account_id: int, in_window: None
) -> None:
    route = graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json=accepted()))

    refused = waba("send", "flow", "booking", "--to", CONTACT, "--token", "t1")
    assert refused.code == 2
    assert "--screen" in refused.err
    assert not route.called

    with db.transaction() as session:
        session.add(
            Flow(account_id=account_id, name="booking", flow_id="555", status="PUBLISHED", first_screen="WELCOME")
        )
    result = waba("send", "flow", "booking", "--to", CONTACT, "--token", "t1")

    assert result.code == 0, result.err
    parameters = sent_body(route)["interactive"]["action"]["parameters"]
    assert parameters["flow_name"] == "booking"
    assert "flow_id" not in parameters
    assert parameters["flow_action_payload"] == {"screen": "WELCOME"}


# -- media -------------------------------------------------------------------------------------


def test_send_media_by_link_matches_the_reference(waba: Any, graph: Any, in_window: None) -> None:
    route = graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json=accepted()))

    result = waba(
        "send",
        "media",
        "--to",
        CONTACT,
        "--document",
        "https://example.com/invoices/INV-8812.pdf",
        "--filename",
        "INV-8812.pdf",
        "--caption",
        "Invoice",
    )

    assert result.code == 0, result.err
    assert sent_body(route) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CONTACT,
        "type": "document",
        "document": {
            "link": "https://example.com/invoices/INV-8812.pdf",
            "caption": "Invoice",
            "filename": "INV-8812.pdf",
        },
    }


def test_send_media_from_a_file_uploads_it_then_sends_its_id(
    waba: Any, graph: Any, db: Database, in_window: None, tmp_path: Path
) -> None:
    photo = tmp_path / "catalogue.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    upload = graph.post(f"{PNID}/media").mock(return_value=httpx.Response(200, json={"id": "1037543291543636"}))
    route = graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json=accepted()))

    result = waba("send", "media", "--to", CONTACT, "--image", str(photo), "--caption", "Spring catalogue")

    assert result.code == 0, result.err
    form = upload.calls[0].request
    assert form.headers["Content-Type"].startswith("multipart/form-data")
    content = form.content
    assert b'name="messaging_product"\r\n\r\nwhatsapp' in content
    assert b'name="type"\r\n\r\nimage/png' in content
    assert b'name="file"; filename="catalogue.png"' in content
    assert sent_body(route)["image"] == {"id": "1037543291543636", "caption": "Spring catalogue"}
    assert outbound(db)[0].type == "image"


def test_send_media_refuses_a_file_of_the_wrong_type_before_uploading(
    waba: Any, graph: Any, db: Database, in_window: None, tmp_path: Path
) -> None:
    gif = tmp_path / "anim.gif"
    gif.write_bytes(b"GIF89a")
    upload = graph.post(f"{PNID}/media").mock(return_value=httpx.Response(200, json={"id": "1"}))

    result = waba("send", "media", "--to", CONTACT, "--image", str(gif))

    assert result.code == 2
    assert "image/gif" in result.err
    assert not upload.called
    assert outbound(db) == []


def test_dry_run_of_a_local_file_uploads_nothing(
    waba: Any, graph: Any, db: Database, in_window: None, tmp_path: Path
) -> None:
    photo = tmp_path / "p.jpg"
    photo.write_bytes(b"\xff\xd8\xff" + b"\0" * 10)
    upload = graph.post(f"{PNID}/media").mock(return_value=httpx.Response(200, json={"id": "1"}))

    result = waba("send", "media", "--to", CONTACT, "--image", str(photo), "--dry-run")

    assert result.code == 0, result.err
    assert "would first be uploaded" in result.err
    assert "<media id of p.jpg>" in result.out
    assert not upload.called
    assert outbound(db) == []


def test_no_answer_from_meta_leaves_the_message_queued_and_in_doubt(
    waba: Any, graph: Any, db: Database, in_window: None
) -> None:
    route = graph.post(MESSAGES_URL).mock(side_effect=httpx.ReadTimeout("timed out"))

    result = waba("send", "text", "--to", CONTACT, "--body", "hi")

    assert result.code == 1
    assert "no answer from the Graph API" in result.err
    assert route.call_count == 1  # a send that may have arrived is never retried blindly
    [row] = outbound(db)
    assert row.status == "queued"
    assert row.error_details is not None
    assert row.error_details.startswith("in doubt")


@pytest.mark.parametrize("failure", [httpx.ConnectError("All connection attempts failed"), httpx.WriteError("broken")])
def test_a_request_that_never_left_records_the_message_failed_not_in_doubt(
    waba: Any, graph: Any, db: Database, in_window: None, isolated: Path, failure: Exception
) -> None:
    # one quick retry, so that the test also sees what the operator is told while waiting
    (isolated / "config.toml").write_text("[graph]\nmax_retries = 2\nretry_max_wait = 0.01\n", encoding="utf-8")
    route = graph.post(MESSAGES_URL).mock(side_effect=failure)

    result = waba("send", "text", "--to", CONTACT, "--body", "hi")

    assert result.code == 1
    assert route.call_count == 3  # nothing reached Meta: retrying cannot duplicate the message
    retries = [line.partition("; ")[2] for line in result.err.splitlines() if "trying again" in line]
    assert retries == [
        "trying again in 0.0 s (attempt 2 of 3, Ctrl-C stops)",
        "trying again in 0.0 s (attempt 3 of 3, Ctrl-C stops)",
    ]
    error_line = result.err.strip().splitlines()[-1]
    assert "the message was not sent (recorded as failed" in error_line
    assert type(failure).__name__ in error_line
    [row] = outbound(db)
    assert (row.status, row.wamid) == ("failed", None)
    assert row.error_title == "not sent: the request never reached the Graph API"
    assert row.error_details is not None
    assert not row.error_details.startswith("in doubt")
    assert type(failure).__name__ in row.error_details


def test_a_static_sticker_over_100_kb_is_refused_in_one_line(
    waba: Any, graph: Any, db: Database, in_window: None, tmp_path: Path
) -> None:
    static, animated = tmp_path / "s.webp", tmp_path / "a.webp"
    static.write_bytes(webp(200 * 1024))
    animated.write_bytes(webp(500 * 1024, vp8x_flags=0x02))

    refused = waba("send", "media", "--to", CONTACT, "--sticker", str(static), "--dry-run")
    allowed = waba("send", "media", "--to", CONTACT, "--sticker", str(animated), "--dry-run")

    assert refused.code == 2
    assert refused.err.strip().splitlines() == [
        "waba: --sticker: s.webp is 204,800 bytes; a static sticker may be at most 102,400 bytes (100 KB)"
    ]
    assert allowed.code == 0, allowed.err
    assert "a.webp (image/webp, 512,000 bytes) would first be uploaded" in allowed.err
    assert outbound(db) == []


def test_send_interactive_needs_exactly_one_kind(waba: Any, graph: Any, in_window: None, tmp_path: Path) -> None:
    route = graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json=accepted()))

    neither = waba("send", "interactive", "--to", CONTACT, "--body", "Pick")
    both = waba("send", "interactive", "--to", CONTACT, "--body", "Pick", "--button", "a:A",
                "--cta-url", "https://example.com", "--cta-text", "Go")  # fmt: skip

    assert (neither.code, both.code) == (2, 2)
    assert "exactly one of" in neither.err
    assert "--button, --cta-url" in both.err
    assert not route.called
