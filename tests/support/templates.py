"""Templates as the template commands meet them: Meta's listing of a WABA's templates, the
order_update template made with flags, and what `template list` and `template show` print."""

from __future__ import annotations

import copy
from typing import Any

import httpx

from tests.support.world import GRAPH, SEED_SETUP

WABA = SEED_SETUP["waba_id"]
TEMPLATES = f"/{WABA}/message_templates"

ORDER_UPDATE_FLAGS = (
    "--name", "order_update",
    "--category", "UTILITY",
    "--body", "Hi {{1}}, your order {{2}} has shipped.",
    "--example", "Ana",
    "--example", "8812",
    "--button", "URL:Track it:https://example.com/track/{{1}}",
    "--url-example", "8812",
)  # fmt: skip
ORDER_UPDATE_COMPONENTS = [
    {"type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped.", "example": {"body_text": [["Ana", "8812"]]}},
    {
        "type": "BUTTONS",
        "buttons": [{"type": "URL", "text": "Track it", "url": "https://example.com/track/{{1}}", "example": ["8812"]}],
    },
]


def meta_template(name: str, template_id: str, status: str = "APPROVED", **extra: Any) -> dict[str, Any]:
    """A template as Meta lists it (reference §3.4)."""
    return {
        "name": name,
        "language": "en_US",
        "status": status,
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "components": copy.deepcopy(ORDER_UPDATE_COMPONENTS),
        "id": template_id,
        **extra,
    }


def listed(*templates: dict[str, Any], after: str | None = None) -> httpx.Response:
    page: dict[str, Any] = {"data": list(templates)}
    if after:
        page["paging"] = {"cursors": {"after": after}, "next": f"{GRAPH}{TEMPLATES}?after={after}"}
    return httpx.Response(200, json=page)


def rows(waba: Any, *args: str) -> list[dict[str, Any]]:
    result = waba("template", "list", "--json", *args)
    assert result.code == 0, result.err
    data: list[dict[str, Any]] = result.json()
    return data


def shown(waba: Any, name: str, *args: str) -> dict[str, Any]:
    result = waba("template", "show", name, "--json", *args)
    assert result.code == 0, result.err
    data: dict[str, Any] = result.json()
    return data


# an authentication template as Meta lists it: its copy-code button carries the code
LOGIN_CODE_AS_LISTED = [
    {
        "type": "BODY",
        "text": "*{{1}}* is your verification code. For your security, do not share this code.",
        "example": {"body_text": [["123456"]]},
    },
    {"type": "FOOTER", "text": "This code expires in 5 minutes."},
    {
        "type": "BUTTONS",
        "buttons": [
            {
                "type": "URL",
                "text": "Copy code",
                "url": "https://www.whatsapp.com/otp/code/?otp_type=COPY_CODE&code={{1}}",
                "example": ["https://www.whatsapp.com/otp/code/?otp_type=COPY_CODE&code=123456"],
            }
        ],
    },
]
