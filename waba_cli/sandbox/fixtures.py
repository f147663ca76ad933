"""The sandbox's seeded world: one business, one app, one WABA with four numbers, templates, a Flow.

Two numbers send; the third is verified with an approved name but not registered yet; the
fourth was added three days before the sandbox started and waits for its ownership code and the
review of its display name: what `waba number doctor` has to explain.

The credentials are fixed so that scripts, tests and the demo can rely on them. They are not
secrets: they open nothing but a sandbox on this machine (the sandbox prints them on start).
Their shapes are real ones (a 32-hex app secret, an ``EAAG...`` system-user token, numeric ids),
so they pass the same validation as production credentials.
"""

from __future__ import annotations

import json
import time
from typing import Any

from waba_cli.sandbox.state import App, Flow, PhoneNumber, State, Template, Token, Waba, iso

APP_ID = "670843887433847"
APP_NAME = "waba Sandbox"
APP_SECRET = "5a9d0c3e7b1f4a6d8e2c9b0a7f3e1d4c"  # noqa: S105 - a public sandbox value
ACCESS_TOKEN = "EAAGsbx0WABAsandboxZCpsBAKZCyZBqZAt3vZBZCpLmnOpQrStUvWxYz0123456789"  # noqa: S105 - sandbox value
VERIFY_TOKEN = "sandbox-verify-7f3a9c2e51b8"  # noqa: S105 - sandbox value
SYSTEM_USER_ID = "122100000000000001"
BUSINESS_ID = "230948572093847"
BUSINESS_NAME = "Sandbox Shop"
WABA_ID = "104839201938475"
PHONE_NUMBER_ID = "109283746501928"
PHONE_NUMBER = "+15550134567"
DISPLAY_PHONE_NUMBER = "+1 555-013-4567"
SECOND_PHONE_NUMBER_ID = "109283746501937"
SECOND_PHONE_NUMBER = "+15550134568"
UNREGISTERED_PHONE_NUMBER_ID = "109283746501946"
UNREGISTERED_PHONE_NUMBER = "+15550134569"
PENDING_PHONE_NUMBER_ID = "109283746501955"
PENDING_PHONE_NUMBER = "+15550134570"
PENDING_NAME = "Sandbox Shop Express"
FLOW_ID = "1234567890123456"
SCOPES = ["whatsapp_business_management", "whatsapp_business_messaging", "business_management", "public_profile"]
ISSUED_AT = 1717000000

APPOINTMENT_FLOW_JSON = {
    "version": "7.1",
    "screens": [
        {
            "id": "APPOINTMENT",
            "title": "Book an appointment",
            "terminal": True,
            "layout": {
                "type": "SingleColumnLayout",
                "children": [
                    {"type": "DatePicker", "name": "appointment_date", "label": "Date", "required": True},
                    {
                        "type": "Dropdown",
                        "name": "time_slot",
                        "label": "Time",
                        "required": True,
                        "data-source": [
                            {"id": "09:00", "title": "09:00"},
                            {"id": "10:30", "title": "10:30"},
                            {"id": "14:00", "title": "14:00"},
                        ],
                    },
                    {
                        "type": "Footer",
                        "label": "Book",
                        "on-click-action": {
                            "name": "complete",
                            "payload": {
                                "appointment_date": "${form.appointment_date}",
                                "time_slot": "${form.time_slot}",
                            },
                        },
                    },
                ],
            },
        }
    ],
}


def _template(
    template_id: str,
    name: str,
    category: str,
    components: list[dict[str, Any]],
    *,
    status: str = "APPROVED",
    language: str = "en_US",
    parameter_format: str = "POSITIONAL",
    reason: str = "NONE",
) -> Template:
    return Template(
        id=template_id,
        waba_id=WABA_ID,
        name=name,
        language=language,
        category=category,
        status=status,
        components=components,
        parameter_format=parameter_format,
        rejected_reason=reason,
        sub_category="CUSTOM" if category == "MARKETING" else None,
        quality_score={"score": "GREEN" if status == "APPROVED" else "UNKNOWN", "date": ISSUED_AT},
        created_at=float(ISSUED_AT),
    )


def seed_templates() -> list[Template]:
    """Templates a fresh sandbox WABA already has (oldest first)."""
    return [
        _template(
            "1304694804498701",
            "hello_world",
            "UTILITY",
            [
                {"type": "HEADER", "format": "TEXT", "text": "Hello World"},
                {
                    "type": "BODY",
                    "text": "Welcome and congratulations!! This message demonstrates your ability to send a "
                    "WhatsApp message notification from the Cloud API, hosted by Meta.",
                },
                {"type": "FOOTER", "text": "WhatsApp Business Platform sample message"},
            ],
        ),
        _template(
            "1304694804498702",
            "order_update",
            "UTILITY",
            [
                {
                    "type": "BODY",
                    "text": "Hi {{1}}, your order {{2}} has shipped and arrives on {{3}}.",
                    "example": {"body_text": [["Ana", "8812", "Friday"]]},
                },
                {"type": "FOOTER", "text": "Sandbox Shop"},
                {
                    "type": "BUTTONS",
                    "buttons": [
                        {
                            "type": "URL",
                            "text": "Track order",
                            "url": "https://shop.example.com/track/{{1}}",
                            "example": ["https://shop.example.com/track/8812"],
                        },
                        {"type": "QUICK_REPLY", "text": "Talk to us"},
                    ],
                },
            ],
        ),
        _template(
            "1304694804498703",
            "seasonal_promotion",
            "MARKETING",
            [
                {
                    "type": "HEADER",
                    "format": "TEXT",
                    "text": "Our {{1}} is on!",
                    "example": {"header_text": ["Summer Sale"]},
                },
                {
                    "type": "BODY",
                    "text": "Shop now through {{1}} and use code {{2}} to get {{3}} off.",
                    "example": {"body_text": [["the end of August", "25OFF", "25%"]]},
                },
                {"type": "FOOTER", "text": "Reply STOP to opt out"},
                {
                    "type": "BUTTONS",
                    "buttons": [
                        {"type": "QUICK_REPLY", "text": "Unsubscribe from promos"},
                        {"type": "QUICK_REPLY", "text": "Show me more"},
                    ],
                },
            ],
        ),
        _template(
            "1304694804498704",
            "welcome_back",
            "UTILITY",
            [
                {
                    "type": "BODY",
                    "text": "Welcome back, {{first_name}}! Your account {{account_id}} is ready.",
                    "example": {
                        "body_text_named_params": [
                            {"param_name": "first_name", "example": "Pablo"},
                            {"param_name": "account_id", "example": "A-1042"},
                        ]
                    },
                },
            ],
            parameter_format="NAMED",
        ),
        _template(
            "1304694804498705",
            "login_code",
            "AUTHENTICATION",
            [
                {
                    "type": "BODY",
                    "text": "*{{1}}* is your verification code. For your security, do not share this code.",
                    "add_security_recommendation": True,
                    "example": {"body_text": [["123456"]]},
                },
                {"type": "FOOTER", "text": "This code expires in 5 minutes.", "code_expiration_minutes": 5},
                {
                    "type": "BUTTONS",
                    "buttons": [
                        {
                            "type": "URL",
                            "text": "Copy code",
                            "url": "https://www.whatsapp.com/otp/code/?otp_type=COPY_CODE&code_expiration_minutes=5&code={{1}}",
                            "example": ["https://www.whatsapp.com/otp/code/?otp_type=COPY_CODE&code=123456"],
                        }
                    ],
                },
            ],
        ),
        _template(
            "1304694804498706",
            "abandoned_cart",
            "MARKETING",
            [
                {
                    "type": "BODY",
                    "text": "You left {{1}}{{2}} in your cart.",
                    "example": {"body_text": [["2", " items"]]},
                }
            ],
            status="REJECTED",
            reason="INVALID_FORMAT",
        ),
        _template(
            "1304694804498707",
            "summer_sale",
            "MARKETING",
            [{"type": "BODY", "text": "Summer sale: everything 20% off until Sunday."}],
            status="PAUSED",
        ),
    ]


def seed_state() -> State:
    """A fresh sandbox world."""
    state = State()
    state.app = App(id=APP_ID, name=APP_NAME, secret=APP_SECRET)
    state.tokens[ACCESS_TOKEN] = Token(
        token=ACCESS_TOKEN,
        type="SYSTEM_USER",
        app_id=APP_ID,
        user_id=SYSTEM_USER_ID,
        scopes=list(SCOPES),
        target_ids=[WABA_ID],
        issued_at=ISSUED_AT,
        expires_at=0,
    )
    waba = Waba(
        id=WABA_ID,
        name=BUSINESS_NAME,
        business_id=BUSINESS_ID,
        business_name=BUSINESS_NAME,
        subscribed=True,
    )
    state.add(waba)
    state.add(
        PhoneNumber(
            id=PHONE_NUMBER_ID,
            waba_id=WABA_ID,
            phone_number=PHONE_NUMBER,
            display_phone_number=DISPLAY_PHONE_NUMBER,
            verified_name=BUSINESS_NAME,
            last_onboarded_time="2024-05-29T16:26:40+0000",
            profile={
                "about": "Succulents, delivered. (a waba sandbox number)",
                "address": "1 Sandbox Way, Menlo Park, CA 94025",
                "description": "The shop behind waba's sandbox.",
                "email": "hello@shop.example.com",
                "websites": ["https://shop.example.com/"],
                "vertical": "RETAIL",
                "profile_picture_url": "https://pps.whatsapp.net/v/t61.24694-24/sandbox.jpg",
            },
        )
    )
    state.add(
        PhoneNumber(
            id=SECOND_PHONE_NUMBER_ID,
            waba_id=WABA_ID,
            phone_number=SECOND_PHONE_NUMBER,
            display_phone_number="+1 555-013-4568",
            verified_name=BUSINESS_NAME,
            last_onboarded_time="2024-03-11T09:02:13+0000",
        )
    )
    state.add(
        PhoneNumber(
            id=UNREGISTERED_PHONE_NUMBER_ID,
            waba_id=WABA_ID,
            phone_number=UNREGISTERED_PHONE_NUMBER,
            display_phone_number="+1 555-013-4569",
            verified_name=BUSINESS_NAME,
            status="DISCONNECTED",
            platform_type="NOT_APPLICABLE",
            throughput_level="NOT_APPLICABLE",
            messaging_limit="TIER_2K",
            last_onboarded_time="2024-02-02T08:30:00+0000",
        )
    )
    state.add(
        PhoneNumber(
            id=PENDING_PHONE_NUMBER_ID,
            waba_id=WABA_ID,
            phone_number=PENDING_PHONE_NUMBER,
            display_phone_number="+1 555-013-4570",
            verified_name=PENDING_NAME,
            code_verification_status="NOT_VERIFIED",
            name_status="PENDING_REVIEW",
            status="PENDING",
            platform_type="NOT_APPLICABLE",
            throughput_level="NOT_APPLICABLE",
            messaging_limit="TIER_250",
            last_onboarded_time=iso(time.time() - 3 * 86400),
        )
    )
    for template in seed_templates():
        state.add(template)
    flow_json = json.dumps(APPOINTMENT_FLOW_JSON, indent=2)
    state.add(
        Flow(
            id=FLOW_ID,
            waba_id=WABA_ID,
            name="appointment_booking",
            categories=["APPOINTMENT_BOOKING"],
            status="PUBLISHED",
            flow_json=flow_json,
            json_version="7.1",
            created_at=float(ISSUED_AT),
        )
    )
    return state


def setup_document(webhook_url: str | None) -> dict[str, Any]:
    """The ``waba account setup --from-file`` keys for the seeded account."""
    document: dict[str, Any] = {
        "name": "sandbox",
        "waba_id": WABA_ID,
        "meta_business_account_id": BUSINESS_ID,
        "app_id": APP_ID,
        "app_secret": APP_SECRET,
        "phone_number_id": PHONE_NUMBER_ID,
        "phone_number": PHONE_NUMBER,
        "display_phone_number": DISPLAY_PHONE_NUMBER,
        "access_token": ACCESS_TOKEN,
        "webhook_verify_token": VERIFY_TOKEN,
        "business_name": BUSINESS_NAME,
        "business_description": "The shop behind waba's sandbox.",
        "business_email": "hello@shop.example.com",
        "business_vertical": "RETAIL",
        "business_address": "1 Sandbox Way, Menlo Park, CA 94025",
        "enable_auto_reply": False,
        "business_timezone": "UTC",
        "subscribed_webhook_events": ["messages", "message_template_status_update", "flows"],
    }
    if webhook_url:
        document["webhook_url"] = webhook_url
    return document
