"""Meta as `waba health check` reads it, through respx: one healthy WABA (the ``account`` fixture's)
whose every answer a test can change, and the calls counted."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import respx

from tests.support.numbers import meta_number
from tests.support.world import SEED_SETUP

WABA = SEED_SETUP["waba_id"]
APP = SEED_SETUP["app_id"]


def blocked(entity: str, code: int, description: str, solution: str) -> dict[str, Any]:
    return {
        "can_send_message": "BLOCKED",
        "entities": [
            {
                "entity_type": entity,
                "id": "1",
                "can_send_message": "BLOCKED",
                "errors": [{"error_code": code, "error_description": description, "possible_solution": solution}],
            }
        ],
    }


def limited(entity: str, info: str) -> dict[str, Any]:
    return {
        "can_send_message": "LIMITED",
        "entities": [{"entity_type": entity, "id": "1", "can_send_message": "LIMITED", "additional_info": [info]}],
    }


def template(
    name: str = "order_update", status: str = "APPROVED", score: str = "GREEN", **fields: Any
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": "9" + "".join(str(ord(ch) % 10) for ch in name).ljust(15, "0")[:15],
        "name": name,
        "language": "en_US",
        "status": status,
        "category": "UTILITY",
        "quality_score": {"score": score, "date": 1717000000},
        "health_status": {
            "can_send_message": "AVAILABLE",
            "entities": [{"entity_type": "MESSAGE_TEMPLATE", "id": "1", "can_send_message": "AVAILABLE"}],
        },
    }
    found.update(fields)
    return found


def graph_error(code: int, message: str, *, status: int = 400, subcode: int | None = None) -> httpx.Response:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCd"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return httpx.Response(status, json={"error": error})


@dataclass
class Meta:
    """What Meta answers; change a field, and the next check reads it."""

    token: dict[str, Any] = field(
        default_factory=lambda: {
            "app_id": APP,
            "type": "SYSTEM_USER",
            "is_valid": True,
            "expires_at": 0,
            "scopes": ["whatsapp_business_management", "whatsapp_business_messaging"],
            "granular_scopes": [
                {"scope": "whatsapp_business_management", "target_ids": [WABA]},
                {"scope": "whatsapp_business_messaging", "target_ids": [WABA]},
            ],
        }
    )
    waba: dict[str, Any] = field(
        default_factory=lambda: {
            "id": WABA,
            "name": "Acme",
            "status": "ACTIVE",
            "account_review_status": "APPROVED",
            "health_status": {
                "can_send_message": "AVAILABLE",
                "entities": [{"entity_type": "WABA", "id": WABA, "can_send_message": "AVAILABLE"}],
            },
        }
    )
    numbers: list[dict[str, Any]] = field(default_factory=lambda: [meta_number()])
    apps: list[dict[str, Any]] = field(
        default_factory=lambda: [{"whatsapp_business_api_data": {"id": APP, "name": "Acme Admin"}}]
    )
    templates: list[dict[str, Any]] = field(default_factory=lambda: [template()])
    failures: dict[str, httpx.Response] = field(default_factory=dict)  # call -> the answer instead
    routes: dict[str, respx.Route] = field(default_factory=dict)

    def serve(self, graph: respx.MockRouter) -> Meta:
        answers = {
            "token": ("/debug_token", lambda: {"data": self.token}),
            "waba": (f"/{WABA}", lambda: self.waba),
            "numbers": (f"/{WABA}/phone_numbers", lambda: {"data": self.numbers, "paging": {}}),
            "subscribed_apps": (f"/{WABA}/subscribed_apps", lambda: {"data": self.apps}),
            "templates": (f"/{WABA}/message_templates", lambda: {"data": self.templates, "paging": {}}),
        }
        for call, (path, body) in answers.items():

            def answer(request: httpx.Request, call: str = call, body: Any = body) -> httpx.Response:
                failure = self.failures.get(call)
                return failure if failure is not None else httpx.Response(200, json=body())

            self.routes[call] = graph.get(path, name=f"health-{call}").mock(side_effect=answer)
        return self

    def calls(self) -> int:
        return sum(route.call_count for route in self.routes.values())


def expiring(days: float) -> int:
    return int(time.time() + days * 86400)
