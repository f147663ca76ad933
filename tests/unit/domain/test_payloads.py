"""Message bodies are exactly Meta's (reference §2), and every limit is enforced before sending."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.messaging import webp
from waba_cli.domain import payloads
from waba_cli.errors import ValidationError
from waba_cli.services.messaging import drafts

TO = "+16505550123"


def test_text_envelope_matches_the_reference() -> None:
    body = payloads.envelope(
        TO, "text", payloads.text("Your order shipped: https://example.com/track/8812", preview_url=True)
    )
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": TO,
        "type": "text",
        "text": {"preview_url": True, "body": "Your order shipped: https://example.com/track/8812"},
    }


def test_reply_context_and_callback_data() -> None:
    body = payloads.envelope(TO, "text", payloads.text("hi"), reply_to="wamid.ABC", callback_data="order-8812")
    assert body["context"] == {"message_id": "wamid.ABC"}
    assert body["biz_opaque_callback_data"] == "order-8812"


def test_reply_buttons_match_the_reference() -> None:
    interactive = payloads.reply_buttons(
        "Your workshop starts tomorrow at 9am. Need to change it?",
        ["change-button:Change", "cancel-button:Cancel"],
        header="Workshop details",
        footer="Lucky Shrub",
    )
    assert interactive == {
        "type": "button",
        "header": {"type": "text", "text": "Workshop details"},
        "body": {"text": "Your workshop starts tomorrow at 9am. Need to change it?"},
        "footer": {"text": "Lucky Shrub"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "change-button", "title": "Change"}},
                {"type": "reply", "reply": {"id": "cancel-button", "title": "Cancel"}},
            ]
        },
    }


def test_list_matches_the_reference() -> None:
    spec = {
        "button": "Shipping options",
        "header": "Choose shipping",
        "footer": "Lucky Shrub",
        "sections": [
            {
                "title": "Fast",
                "rows": [
                    {"id": "priority_express", "title": "Priority Express", "description": "Next day to 2 days"},
                    {"id": "priority_mail", "title": "Priority Mail", "description": "1–3 days"},
                ],
            },
            {"title": "Cheap", "rows": [{"id": "ground", "title": "Ground", "description": "2–5 days"}]},
        ],
    }
    assert payloads.list_message(spec, body="Which shipping option do you prefer?") == {
        "type": "list",
        "header": {"type": "text", "text": "Choose shipping"},
        "body": {"text": "Which shipping option do you prefer?"},
        "footer": {"text": "Lucky Shrub"},
        "action": {"button": "Shipping options", "sections": spec["sections"]},
    }


def test_cta_url_matches_the_reference() -> None:
    assert payloads.cta_url(
        "Tap below to see available dates.",
        "See dates",
        "https://example.com/dates?c=8812",
        footer="Dates subject to change.",
    ) == {
        "type": "cta_url",
        "body": {"text": "Tap below to see available dates."},
        "footer": {"text": "Dates subject to change."},
        "action": {
            "name": "cta_url",
            "parameters": {"display_text": "See dates", "url": "https://example.com/dates?c=8812"},
        },
    }


def test_flow_by_id_and_by_name() -> None:
    by_id = payloads.flow(
        "1234567890123456",
        "booking-8812-7f3a",
        cta="Book now",
        body="Pick a time that suits you.",
        screen="APPOINTMENT",
        data={"customer_name": "Ana"},
        header="Book an appointment",
        footer="Takes under a minute",
    )
    assert by_id["action"] == {
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
    }
    by_name = payloads.flow("claims_intake", "t-1", cta="Start", body="File a claim", screen="START")
    assert by_name["action"]["parameters"]["flow_name"] == "claims_intake"
    assert "flow_id" not in by_name["action"]["parameters"]


def test_media_by_link_and_by_id() -> None:
    assert payloads.media(
        "document", link="https://example.com/invoices/INV-8812.pdf", caption="Invoice", filename="INV-8812.pdf"
    ) == {"link": "https://example.com/invoices/INV-8812.pdf", "caption": "Invoice", "filename": "INV-8812.pdf"}
    assert payloads.media("image", media_id="1037543291543636", caption="Spring catalogue") == {
        "id": "1037543291543636",
        "caption": "Spring catalogue",
    }


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: payloads.text("x" * 4097), "--body"),
        (lambda: payloads.text(""), "--body"),
        (lambda: payloads.reply_buttons("b", []), "--button"),
        (lambda: payloads.reply_buttons("b", ["a:A", "b:B", "c:C", "d:D"]), "--button"),
        (lambda: payloads.reply_buttons("b", ["no-title"]), "--button"),
        (lambda: payloads.reply_buttons("b", ["a:" + "t" * 21]), "--button title"),
        (lambda: payloads.reply_buttons("b", ["i" * 257 + ":T"]), "--button id"),
        (lambda: payloads.reply_buttons("b", ["a:A", "a:B"]), "--button"),
        (lambda: payloads.reply_buttons("b" * 1025, ["a:A"]), "--body"),
        (lambda: payloads.reply_buttons("b", ["a:A"], header="h" * 61), "--header"),
        (lambda: payloads.reply_buttons("b", ["a:A"], footer="f" * 61), "--footer"),
        (
            lambda: payloads.list_message(
                {"button": "x" * 21, "sections": [{"rows": [{"id": "1", "title": "t"}]}]}, body="b"
            ),
            "button",
        ),
        (
            lambda: payloads.list_message(
                {
                    "button": "Go",
                    "sections": [{"title": "s", "rows": [{"id": str(i), "title": "t"} for i in range(11)]}],
                },
                body="b",
            ),
            "sections",
        ),
        (
            lambda: payloads.list_message(
                {"button": "Go", "sections": [{"rows": [{"id": "1", "title": "t" * 25}]}]}, body="b"
            ),
            "sections[1].rows[1].title",
        ),
        (
            lambda: payloads.list_message(
                {
                    "button": "Go",
                    "sections": [{"rows": [{"id": "1", "title": "t"}]}, {"rows": [{"id": "2", "title": "u"}]}],
                },
                body="b",
            ),
            "sections[1].title",
        ),
        (lambda: payloads.list_message({"button": "Go", "sections": []}, body="b"), "sections"),
        (lambda: payloads.list_message({"button": "Go", "colour": "red", "sections": []}, body="b"), "colour"),
        (lambda: payloads.cta_url("b", "d" * 21, "https://x.example"), "--cta-text"),
        (lambda: payloads.cta_url("b", "Go", "ftp://x.example"), "--cta-url"),
        (lambda: payloads.flow("123", "tok", cta="Start", body="b"), "--screen"),
        (lambda: payloads.flow("123", "tok", cta="c" * 21, body="b", screen="S"), "--cta"),
        (lambda: payloads.media("audio", link="https://x.example/a.mp3", caption="no"), "--caption"),
        (lambda: payloads.media("image"), "--image"),
        (lambda: payloads.envelope(TO, "text", {}, callback_data="x" * 513), "biz_opaque_callback_data"),
    ],
)
def test_limits_are_refused_naming_the_option(build: object, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        build()  # type: ignore[operator]
    assert error.value.field == field


@pytest.mark.parametrize(
    ("kind", "name", "size", "ok"),
    [
        ("image", "photo.jpg", 1000, True),
        ("image", "photo.gif", 1000, False),
        ("image", "photo.png", 5 * 1024 * 1024 + 1, False),
        ("document", "policy.pdf", 50 * 1024 * 1024, True),
        ("audio", "note.ogg", 2000, True),
        ("video", "clip.mp4", 17 * 1024 * 1024, False),
        ("image", "empty.jpg", 0, False),
    ],
)
def test_local_media_is_checked_against_meta_limits(tmp_path: Path, kind: str, name: str, size: int, ok: bool) -> None:
    path = tmp_path / name
    with path.open("wb") as handle:
        handle.truncate(size)
    if ok:
        assert drafts.check_local_media(kind, path).size == size
    else:
        with pytest.raises(ValidationError):
            drafts.check_local_media(kind, path)


@pytest.mark.parametrize(
    ("data", "ok"),
    [
        (webp(100 * 1024), True),  # static, at its limit
        (webp(100 * 1024 + 2), False),  # static, just over
        (webp(200 * 1024, vp8x_flags=0x10), False),  # alpha, but not animated
        (webp(400 * 1024, vp8x_flags=0x02), True),  # animated, by the VP8X flag
        (webp(500 * 1024, vp8x_flags=0x00, anim_chunk=True), True),  # animated, by its ANIM chunk
        (webp(500 * 1024 + 2, vp8x_flags=0x12), False),  # animated, over 500 KB
        (b"\0" * 1000, False),  # not a WebP at all
    ],
)
def test_stickers_are_held_to_the_limit_of_static_or_animated_webp(tmp_path: Path, data: bytes, ok: bool) -> None:
    path = tmp_path / "s.webp"
    path.write_bytes(data)
    if ok:
        assert drafts.check_local_media("sticker", path).size == len(data)
    else:
        with pytest.raises(ValidationError) as error:
            drafts.check_local_media("sticker", path)
        assert error.value.field == "--sticker"


def test_webp_animation_is_read_from_the_header(tmp_path: Path) -> None:
    path = tmp_path / "s.webp"
    for data, animated in [
        (webp(2000), False),
        (webp(2000, vp8x_flags=0x10), False),
        (webp(2000, vp8x_flags=0x02), True),
        (webp(2000, vp8x_flags=0x00, anim_chunk=True), True),
        (b"RIFF\0\0\0\0WEBM", None),
    ]:
        path.write_bytes(data)
        assert drafts.webp_is_animated(path) is animated, data[:40]
