"""`waba send template`: values counted against the local template, Meta's body exactly (§2.9)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.messaging import (
    CONTACT,
    MESSAGES_URL,
    PNID,
    accepted,
    add_template,
    outbound,
)
from waba_cli.db.engine import Database

ORDER_UPDATE: list[dict[str, Any]] = [
    {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::aW1hZ2U="]}},
    {
        "type": "BODY",
        "text": "Hi {{1}}, your order {{2}} has shipped.",
        "example": {"body_text": [["Ana", "8812"]]},
    },
    {"type": "FOOTER", "text": "Lucky Shrub"},
    {
        "type": "BUTTONS",
        "buttons": [
            {"type": "QUICK_REPLY", "text": "Stop promos"},
            {"type": "URL", "text": "Track", "url": "https://example.com/track/{{1}}", "example": ["8812"]},
        ],
    },
]


@pytest.fixture
def order_update(db: Database, account_id: int) -> None:
    add_template(db, account_id, "order_update", ORDER_UPDATE)


@pytest.fixture
def meta(graph: Any) -> Any:
    return graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json=accepted("wamid.TPL")))


def sent_template(route: Any) -> Any:
    return json.loads(route.calls[-1].request.content)


def test_send_positional_template_with_header_media_and_buttons_matches_the_reference(
    waba: Any, meta: Any, db: Database, order_update: None
) -> None:
    # no inbound message: templates need no customer-service window
    result = waba(
        "send", "template", "order_update", "--to", CONTACT,
        "--param", "Ana", "--param", "8812",
        "--header-image", "https://example.com/banner.png",
        "--button-payload", "STOP_PROMOS", "--button-url-suffix", "8812?ref=wa",
        "--json",
    )  # fmt: skip

    assert result.code == 0, result.err
    assert sent_template(meta) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CONTACT,
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "en_US"},
            "components": [
                {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://example.com/banner.png"}}]},
                {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "8812"}]},
                {"type": "button", "sub_type": "quick_reply", "index": "0",
                 "parameters": [{"type": "payload", "payload": "STOP_PROMOS"}]},
                {"type": "button", "sub_type": "url", "index": "1",
                 "parameters": [{"type": "text", "text": "8812?ref=wa"}]},
            ],
        },
    }  # fmt: skip
    [row] = outbound(db)
    assert (row.type, row.template_name, row.status) == ("template", "order_update", "accepted")
    assert row.text is not None
    assert row.text.startswith("[IMAGE]\n\nHi Ana, your order 8812 has shipped.")


def test_the_url_suffix_may_follow_the_params_as_in_template_preview(waba: Any, meta: Any, order_update: None) -> None:
    result = waba("send", "template", "order_update", "--to", CONTACT, "--param", "Ana", "--param", "8812",
                  "--param", "8812", "--header-image", "https://example.com/banner.png")  # fmt: skip

    assert result.code == 0, result.err
    assert sent_template(meta)["template"]["components"][-1] == {
        "type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "8812"}]
    }  # fmt: skip


def test_header_media_from_a_local_file_is_uploaded_first(
    waba: Any, graph: Any, meta: Any, order_update: None, tmp_path: Path
) -> None:
    banner = tmp_path / "banner.jpg"
    banner.write_bytes(b"\xff\xd8\xff" + b"\0" * 100)
    upload = graph.post(f"{PNID}/media").mock(return_value=httpx.Response(200, json={"id": "1339522734477770"}))

    result = waba("send", "template", "order_update", "--to", CONTACT, "--param", "Ana", "--param", "8812",
                  "--param", "8812", "--header-image", str(banner))  # fmt: skip

    assert result.code == 0, result.err
    assert upload.called
    header = sent_template(meta)["template"]["components"][0]
    assert header == {"type": "header", "parameters": [{"type": "image", "image": {"id": "1339522734477770"}}]}


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--param", "Ana"], "takes 3 value(s)"),
        (["--param", "Ana", "--param", "8812", "--param", "x", "--param", "extra"], "takes 3 value(s)"),
        (["--param", "Ana", "--param", "8812", "--button-url-suffix", "a", "--button-url-suffix", "b"], "1 URL button"),
        (["--param", "Ana", "--param", "", "--param", "x"], "empty"),
        (["--param", "Ana", "--param", "8812", "--param", "x", "--coupon-code", "SAVE"], "no copy-code button"),
    ],
    ids=["too-few", "too-many", "suffixes", "empty-value", "no-copy-code"],
)
def test_send_template_refuses_wrong_params_and_records_nothing(
    waba: Any, meta: Any, db: Database, order_update: None, args: list[str], complaint: str
) -> None:
    result = waba("send", "template", "order_update", "--to", CONTACT, "--header-image",
                  "https://example.com/b.png", *args)  # fmt: skip

    assert result.code == 2
    assert complaint in result.err
    assert not meta.called
    assert outbound(db) == []


def test_send_template_refuses_a_missing_media_header(waba: Any, meta: Any, db: Database, order_update: None) -> None:
    result = waba("send", "template", "order_update", "--to", CONTACT, "--param", "a", "--param", "b", "--param", "c")

    assert result.code == 2
    assert "--header-image" in result.err
    assert not meta.called


def test_send_named_template_matches_the_reference(waba: Any, meta: Any, db: Database, account_id: int) -> None:
    add_template(
        db,
        account_id,
        "welcome",
        [{"type": "BODY", "text": "Welcome {{first_name}}! Use {{discount_code}} today."}],
        category="MARKETING",
        parameter_format="NAMED",
    )

    result = waba("send", "template", "welcome", "--to", CONTACT,
                  "--param", "discount_code=WELCOME25", "--param", "first_name=Jessica")  # fmt: skip

    assert result.code == 0, result.err
    assert sent_template(meta)["template"]["components"] == [
        {"type": "body", "parameters": [
            {"type": "text", "parameter_name": "first_name", "text": "Jessica"},
            {"type": "text", "parameter_name": "discount_code", "text": "WELCOME25"},
        ]}
    ]  # fmt: skip


def test_send_named_template_refuses_an_unknown_name(waba: Any, meta: Any, db: Database, account_id: int) -> None:
    add_template(db, account_id, "welcome", [{"type": "BODY", "text": "Welcome {{first_name}}!"}],
                 parameter_format="NAMED")  # fmt: skip

    result = waba("send", "template", "welcome", "--to", CONTACT, "--param", "name=Jessica")

    assert result.code == 2
    assert "no variable 'name'" in result.err
    assert not meta.called


def test_text_header_variable_comes_first(waba: Any, meta: Any, db: Database, account_id: int) -> None:
    add_template(db, account_id, "shipped", [
        {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
        {"type": "BODY", "text": "Hi {{1}}, it is on its way."},
    ])  # fmt: skip

    result = waba("send", "template", "shipped", "--to", CONTACT, "--param", "8812", "--param", "Ana")

    assert result.code == 0, result.err
    assert sent_template(meta)["template"]["components"] == [
        {"type": "header", "parameters": [{"type": "text", "text": "8812"}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Ana"}]},
    ]


def test_copy_code_button_takes_the_coupon_code(waba: Any, meta: Any, db: Database, account_id: int) -> None:
    add_template(db, account_id, "promo", [
        {"type": "BODY", "text": "Twenty percent off this week."},
        {"type": "BUTTONS", "buttons": [{"type": "COPY_CODE", "example": "SAVE20"}]},
    ], category="MARKETING")  # fmt: skip

    missing = waba("send", "template", "promo", "--to", CONTACT)
    assert missing.code == 2
    assert "--coupon-code" in missing.err

    result = waba("send", "template", "promo", "--to", CONTACT, "--coupon-code", "SAVE20")

    assert result.code == 0, result.err
    assert sent_template(meta)["template"]["components"] == [
        {"type": "button", "sub_type": "copy_code", "index": "0",
         "parameters": [{"type": "coupon_code", "coupon_code": "SAVE20"}]},
    ]  # fmt: skip


def test_authentication_template_sends_the_code_in_body_and_button(
    waba: Any, meta: Any, db: Database, account_id: int
) -> None:
    add_template(db, account_id, "login_code", [
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "FOOTER", "code_expiration_minutes": 5},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}]},
    ], category="AUTHENTICATION")  # fmt: skip

    result = waba("send", "template", "login_code", "--to", CONTACT, "--param", "482913")

    assert result.code == 0, result.err
    assert sent_template(meta)["template"]["components"] == [
        {"type": "body", "parameters": [{"type": "text", "text": "482913"}]},
        {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "482913"}]},
    ]


@pytest.mark.parametrize("status", ["PENDING", "REJECTED", "PAUSED", "DRAFT"])
def test_send_template_refuses_a_template_that_is_not_sendable(
    waba: Any, meta: Any, db: Database, account_id: int, status: str
) -> None:
    add_template(db, account_id, "hello", [{"type": "BODY", "text": "Hello"}], status=status)

    result = waba("send", "template", "hello", "--to", CONTACT)

    assert result.code == 2
    assert status in result.err
    assert "waba template sync" in result.err
    assert not meta.called
    assert outbound(db) == []


@pytest.mark.parametrize("status", ["FLAGGED", "REINSTATED"])
def test_flagged_and_reinstated_templates_can_be_sent(
    waba: Any, meta: Any, db: Database, account_id: int, status: str
) -> None:
    add_template(db, account_id, "hello", [{"type": "BODY", "text": "Hello"}], status=status)

    assert waba("send", "template", "hello", "--to", CONTACT).code == 0
    assert sent_template(meta)["template"] == {"name": "hello", "language": {"code": "en_US"}}


def test_send_template_refuses_an_unknown_template(waba: Any, meta: Any, account_id: int) -> None:
    result = waba("send", "template", "nope", "--to", CONTACT)

    assert result.code == 2
    assert "waba template sync" in result.err
    assert not meta.called


def test_language_is_the_approved_one_unless_given(waba: Any, meta: Any, db: Database, account_id: int) -> None:
    add_template(db, account_id, "hello", [{"type": "BODY", "text": "Hello"}], status="PENDING")
    add_template(db, account_id, "hello", [{"type": "BODY", "text": "Hola"}], language="es")

    assert waba("send", "template", "hello", "--to", CONTACT).code == 0
    assert sent_template(meta)["template"]["language"] == {"code": "es"}

    refused = waba("send", "template", "hello", "--to", CONTACT, "--language", "en-US")
    assert refused.code == 2
    assert "en_US PENDING" in refused.err
    missing = waba("send", "template", "hello", "--to", CONTACT, "--language", "fr")
    assert missing.code == 2
    assert "no language fr" in missing.err
    assert meta.call_count == 1
