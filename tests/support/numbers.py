"""A WABA's numbers as Meta lists them, for the `waba number` tests (the ``account`` fixture's WABA):
the numbers, their listing in pages, their rows, and Graph's errors."""

from __future__ import annotations

from typing import Any

import httpx
import respx
from sqlmodel import select

from tests.support.world import SEED_SETUP
from waba_cli.db.engine import Database
from waba_cli.db.models.accounts import PhoneNumber

WABA = SEED_SETUP["waba_id"]
FIRST = SEED_SETUP["phone_number_id"]  # +15550134567, recorded by the account setup
SECOND = "109283746501937"  # +15550134568
THIRD = "109283746501946"  # +15550134569


def meta_number(phone_number_id: str = FIRST, digits: str = "15550134567", **fields: Any) -> dict[str, Any]:
    """A number as ``GET /{waba-id}/phone_numbers`` gives it: connected and healthy unless ``fields`` say otherwise."""
    number: dict[str, Any] = {
        "id": phone_number_id,
        "display_phone_number": f"+{digits[0]} {digits[1:4]}-{digits[4:7]}-{digits[7:]}",
        "verified_name": "Acme",
        "quality_rating": "GREEN",
        "code_verification_status": "VERIFIED",
        "name_status": "APPROVED",
        "status": "CONNECTED",
        "platform_type": "CLOUD_API",
        "throughput": {"level": "STANDARD"},
        "whatsapp_business_manager_messaging_limit": "TIER_10K",
        "account_mode": "LIVE",
        "is_pin_enabled": False,
        "last_onboarded_time": "2024-05-29T16:26:40+0000",
        "health_status": {
            "can_send_message": "AVAILABLE",
            "entities": [{"entity_type": "PHONE_NUMBER", "id": phone_number_id, "can_send_message": "AVAILABLE"}],
        },
    }
    number.update(fields)
    return number


def second(**fields: Any) -> dict[str, Any]:
    return meta_number(SECOND, "15550134568", **fields)


def third(**fields: Any) -> dict[str, Any]:
    return meta_number(THIRD, "15550134569", **fields)


def list_numbers(graph: respx.MockRouter, *pages: list[dict[str, Any]] | Exception) -> respx.Route:
    """``GET /{WABA}/phone_numbers`` answering ``pages`` in turn, linked by cursors; an error dict page
    ``{"status": 400, "error": {...}}`` is answered as such."""

    def answer(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        index = int(after) if after else 0
        page = pages[index]
        if isinstance(page, dict):
            return httpx.Response(page["status"], json={"error": page["error"]})
        body: dict[str, Any] = {"data": page, "paging": {"cursors": {"before": str(index), "after": str(index + 1)}}}
        if index + 1 < len(pages):
            body["paging"]["next"] = f"{request.url.copy_remove_param('after')}&after={index + 1}".replace("?&", "?")
        return httpx.Response(200, json=body)

    # named, so that a later listing replaces this one
    return graph.get(f"/{WABA}/phone_numbers", name="phone_numbers").mock(side_effect=answer)


def get_number(graph: respx.MockRouter, data: dict[str, Any]) -> respx.Route:
    return graph.get(f"/{data['id']}", name=f"number-{data['id']}").respond(200, json=data)


def rows(db: Database) -> dict[str, PhoneNumber]:
    with db.session() as session:
        return {n.phone_number_id: n for n in session.exec(select(PhoneNumber)).all()}


def graph_error(code: int, message: str, *, subcode: int | None = None, status: int = 400) -> httpx.Response:
    error: dict[str, Any] = {"message": f"(#{code}) {message}", "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = "AbCdEf"
    return httpx.Response(status, json={"error": error})
