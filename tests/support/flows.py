"""Flows for the tests: a valid Flow JSON file, Meta's flow objects and validation errors, and
completions (``nfm_reply``) as serve-webhook receives them."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tests.support.world import SEED_SETUP
from waba_cli.sandbox import fixtures

WABA = SEED_SETUP["waba_id"]
PNID = SEED_SETUP["phone_number_id"]
BOOKING_ID = "1111111111111111"
SURVEY_ID = "2222222222222222"


def booking_file(tmp_path: Path, document: dict[str, Any] | None = None) -> Path:
    path = tmp_path / "booking.json"
    path.write_text(json.dumps(document or fixtures.APPOINTMENT_FLOW_JSON, indent=2), encoding="utf-8")
    return path


def meta_flow(flow_id: str, name: str, status: str = "DRAFT", **fields: Any) -> dict[str, Any]:
    return {
        "id": flow_id,
        "name": name,
        "status": status,
        "categories": ["APPOINTMENT_BOOKING"],
        "validation_errors": [],
        "json_version": "7.1",
        **fields,
    }


POINTED_ERROR = {
    "error": "INVALID_PROPERTY_VALUE",
    "error_type": "FLOW_JSON_ERROR",
    "message": "Invalid value found for property 'type'.",
    "line_start": 10,
    "line_end": 10,
    "column_start": 21,
    "column_end": 34,
    "pointers": [
        {
            "line_start": 10,
            "line_end": 10,
            "column_start": 21,
            "column_end": 34,
            "path": "screens[0].layout.children[0].type",
        }
    ],
}
BARE_ERROR = {"error": "INVALID_PROPERTY", "error_type": "JSON_SCHEMA_ERROR", "message": "Property 'x' is not allowed."}


def completion(
    wamid: str,
    answers: dict[str, Any],
    *,
    token: str | None,
    sender: str = "5511987654321",
    context: str | None = None,
    name: str = "Ana Souza",
) -> dict[str, Any]:
    """A ``messages`` webhook with one Flow completion."""
    response = {**({"flow_token": token} if token is not None else {}), **answers}
    message: dict[str, Any] = {
        "from": sender,
        "id": wamid,
        "timestamp": str(int(time.time())),
        "type": "interactive",
        "interactive": {
            "type": "nfm_reply",
            "nfm_reply": {"name": "flow", "body": "Sent", "response_json": json.dumps(response, ensure_ascii=False)},
        },
    }
    if context:
        message["context"] = {"from": "15550134567", "id": context}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550134567", "phone_number_id": PNID},
        "contacts": [{"profile": {"name": name}, "wa_id": sender}],
        "messages": [message],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA, "changes": [{"field": "messages", "value": value}]}],
    }
