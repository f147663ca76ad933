"""The sandbox answers asset discovery (§5.5) with Meta's shapes: debug_token's granular scopes name
the token's WABAs and their business, a business lists its owned and client WABAs, a system user
its assigned ones, and waba asks for every field the sandbox serves."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from waba_cli.graph import api as graph_api
from waba_cli.sandbox import fixtures
from waba_cli.sandbox.core import Sandbox
from waba_cli.sandbox.runtime import Options, Request
from waba_cli.sandbox.state import State, Waba

CLIENT_WABA = "104839201938999"
OTHER_BUSINESS = "230948572000001"


def _world() -> State:
    state = fixtures.seed_state()
    state.add(Waba(CLIENT_WABA, "Client Co", OTHER_BUSINESS, "Client Co", client_of=[fixtures.BUSINESS_ID]))
    state.tokens[fixtures.ACCESS_TOKEN].target_ids.append(CLIENT_WABA)
    return state


def _get(sandbox: Sandbox, path: str, token: str = fixtures.ACCESS_TOKEN, **query: str) -> tuple[int, Any]:
    request = Request("GET", f"/v23.0/{path}", dict(query), {"authorization": f"Bearer {token}"}, b"", "http://x")
    answer: tuple[int, Any] = asyncio.run(sandbox.handle(request))
    return answer


def test_debug_token_names_the_wabas_and_the_business_of_the_token() -> None:
    sandbox = Sandbox(_world(), Options())
    status, answer = _get(sandbox, "debug_token", input_token=fixtures.ACCESS_TOKEN)
    assert status == 200
    grants = {g["scope"]: g.get("target_ids") for g in answer["data"]["granular_scopes"]}
    assert grants["whatsapp_business_management"] == [fixtures.WABA_ID, CLIENT_WABA]
    assert grants["business_management"] == [fixtures.BUSINESS_ID, OTHER_BUSINESS]


def test_a_business_lists_its_owned_and_client_wabas_with_the_fields_asked() -> None:
    sandbox = Sandbox(_world(), Options())
    fields = ",".join(graph_api.DISCOVERY_WABA_FIELDS)
    status, owned = _get(sandbox, f"{fixtures.BUSINESS_ID}/owned_whatsapp_business_accounts", fields=fields)
    assert status == 200, owned
    assert [w["id"] for w in owned["data"]] == [fixtures.WABA_ID]
    assert owned["data"][0]["owner_business_info"]["id"] == fixtures.BUSINESS_ID
    assert "cursors" in owned["paging"]
    status, clients = _get(sandbox, f"{fixtures.BUSINESS_ID}/client_whatsapp_business_accounts", fields=fields)
    assert status == 200
    assert [(w["id"], w["name"]) for w in clients["data"]] == [(CLIENT_WABA, "Client Co")]


def test_a_system_user_sees_only_its_own_assigned_wabas() -> None:
    sandbox = Sandbox(_world(), Options())
    status, assigned = _get(sandbox, f"{fixtures.SYSTEM_USER_ID}/assigned_whatsapp_business_accounts")
    assert status == 200
    assert {w["id"] for w in assigned["data"]} == {fixtures.WABA_ID, CLIENT_WABA}
    status, answer = _get(sandbox, "122100000000000999/assigned_whatsapp_business_accounts")
    assert status in (400, 404) and answer["error"]["code"] == 100


def test_the_business_edges_need_business_management() -> None:
    state = _world()
    state.tokens[fixtures.ACCESS_TOKEN].scopes.remove("business_management")
    status, answer = _get(Sandbox(state, Options()), f"{fixtures.BUSINESS_ID}/owned_whatsapp_business_accounts")
    assert status == 403 and answer["error"]["code"] == 10
    assert json.dumps(answer).count("business_management") == 1
