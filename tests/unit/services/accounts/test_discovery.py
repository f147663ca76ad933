"""What a token reaches (§5.5), from Meta's answers: a token limited to some WABAs is offered only
those, named and with their business where Meta tells; an unrestricted token gets its businesses'
owned and client WABAs and its user's assigned ones; an edge Meta refuses is left out. Numbers come
with the number doctor's verdict."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import respx

from tests.conftest import GRAPH
from waba_cli.graph.api import GraphAPI
from waba_cli.graph.client import Credentials, GraphClient
from waba_cli.services.accounts.discovery import discover_numbers, discover_wabas

TOKEN = "EAAGm0PX4ZCpsBAKZCyZBqZAt3vZBZCpLmnOpQrStUvWxYz0123456789abcdefGHIJ"
OURS, CLIENTS, OTHER = "104839201938475", "104839201938999", "104839201938111"
BUSINESS = "230948572093847"
USER = "122100000000000001"
REFUSED = {"error": {"message": "(#10) Permission denied", "type": "OAuthException", "code": 10}}


def _run(graph: respx.MockRouter, call: Any) -> Any:
    async def go() -> Any:
        client = GraphClient(
            Credentials(TOKEN),
            base_url=GRAPH.removesuffix("/v23.0"),
            transport=httpx.MockTransport(graph.async_handler),
        )
        async with client:
            return await call(GraphAPI(client))

    return asyncio.run(go())


def _owner() -> dict[str, Any]:
    return {"id": BUSINESS, "name": "Sandbox Shop"}


def test_a_token_limited_to_some_wabas_is_offered_only_those(graph: respx.MockRouter) -> None:
    token = {
        "user_id": USER,
        "granular_scopes": [
            {"scope": "whatsapp_business_management", "target_ids": [OURS, CLIENTS]},
            {"scope": "whatsapp_business_messaging", "target_ids": [OURS, CLIENTS]},
        ],
    }
    graph.get(f"/{OURS}").respond(200, json={"id": OURS, "name": "Sandbox Shop", "owner_business_info": _owner()})
    graph.get(f"/{CLIENTS}").respond(400, json=REFUSED)
    graph.get(f"/{BUSINESS}/owned_whatsapp_business_accounts").respond(
        200, json={"data": [{"id": OURS, "name": "Sandbox Shop"}, {"id": OTHER, "name": "Not for this token"}]}
    )
    graph.get(f"/{BUSINESS}/client_whatsapp_business_accounts").respond(
        200, json={"data": [{"id": CLIENTS, "name": "Client Co"}]}
    )
    graph.get(f"/{USER}/assigned_whatsapp_business_accounts").respond(400, json=REFUSED)

    found = _run(graph, lambda api: discover_wabas(api, token))

    assert [(w.id, w.name, w.via) for w in found] == [(CLIENTS, "Client Co", "client"), (OURS, "Sandbox Shop", "owned")]
    assert found[1].business_id == BUSINESS


def test_an_unrestricted_token_gets_its_businesses_and_users_wabas(graph: respx.MockRouter) -> None:
    token = {"user_id": USER, "granular_scopes": [{"scope": "business_management", "target_ids": [BUSINESS]}]}
    graph.get(f"/{BUSINESS}/owned_whatsapp_business_accounts").respond(
        200, json={"data": [{"id": OURS, "name": "Sandbox Shop", "owner_business_info": _owner()}]}
    )
    graph.get(f"/{BUSINESS}/client_whatsapp_business_accounts").respond(400, json=REFUSED)
    graph.get(f"/{USER}/assigned_whatsapp_business_accounts").respond(
        200, json={"data": [{"id": OURS, "name": "Sandbox Shop"}, {"id": OTHER, "name": "Agency WABA"}]}
    )

    found = _run(graph, lambda api: discover_wabas(api, token))

    assert [(w.id, w.via) for w in found] == [(OTHER, "assigned"), (OURS, "owned")]


def test_numbers_come_with_the_doctors_verdict(graph: respx.MockRouter) -> None:
    graph.get(f"/{OURS}/phone_numbers").respond(
        200,
        json={
            "data": [
                {
                    "id": "109283746501928",
                    "display_phone_number": "+1 555-013-4567",
                    "verified_name": "Sandbox Shop",
                    "quality_rating": "GREEN",
                    "status": "CONNECTED",
                    "code_verification_status": "VERIFIED",
                    "name_status": "APPROVED",
                    "platform_type": "CLOUD_API",
                    "throughput": {"level": "STANDARD"},
                },
                {
                    "id": "109283746501946",
                    "display_phone_number": "15550134569",
                    "verified_name": "Sandbox Shop",
                    "status": "DISCONNECTED",
                    "code_verification_status": "VERIFIED",
                    "name_status": "APPROVED",
                    "platform_type": "NOT_APPLICABLE",
                    "throughput": {"level": "NOT_APPLICABLE"},
                },
            ]
        },
    )

    ready, unregistered = _run(graph, lambda api: discover_numbers(api, OURS))

    assert (ready.verdict, ready.phone_number, ready.reason) == ("OK", "+15550134567", None)
    assert unregistered.verdict == "BLOCKED" and unregistered.phone_number == "+15550134569"
    assert unregistered.reason is not None and "not registered" in unregistered.reason
