"""The sandbox's answers for `health check` (§5.6): health_status per template, a WABA's verdict and
review set by a control, and whole WABAs with numbers added for tests and benchmarks."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from waba_cli.sandbox import fixtures
from waba_cli.sandbox.core import Sandbox
from waba_cli.sandbox.runtime import Options, Request


def _call(sandbox: Sandbox, method: str, path: str, body: dict[str, Any] | None = None, **query: str) -> Any:
    request = Request(
        method,
        path if path.startswith("/_sandbox") else f"/v23.0/{path}",
        dict(query),
        {"authorization": f"Bearer {fixtures.ACCESS_TOKEN}", "content-type": "application/json"},
        json.dumps(body).encode() if body is not None else b"",
        "http://127.0.0.1",
    )
    return asyncio.run(sandbox.handle(request))


def test_each_template_has_a_health_status_by_its_status() -> None:
    sandbox = Sandbox(fixtures.seed_state(), Options())
    status, listed = _call(sandbox, "GET", f"{fixtures.WABA_ID}/message_templates", fields="name,status,health_status")
    assert status == 200
    verdicts = {t["name"]: t["health_status"]["can_send_message"] for t in listed["data"]}
    assert verdicts["hello_world"] == "AVAILABLE"
    assert verdicts["summer_sale"] == "LIMITED"
    assert verdicts["abandoned_cart"] == "BLOCKED"
    rejected = next(t for t in listed["data"] if t["name"] == "abandoned_cart")["health_status"]["entities"][0]
    assert rejected["errors"][0]["error_code"] == 141002


def test_a_control_sets_the_wabas_verdict_in_every_health_status() -> None:
    sandbox = Sandbox(fixtures.seed_state(), Options())
    status, changed = _call(sandbox, "POST", f"/_sandbox/wabas/{fixtures.WABA_ID}", {"can_send_message": "BLOCKED"})
    assert status == 200 and changed["can_send_message"] == "BLOCKED"
    _, waba = _call(sandbox, "GET", fixtures.WABA_ID, fields="health_status")
    assert waba["health_status"]["can_send_message"] == "BLOCKED"
    assert waba["health_status"]["entities"][0]["errors"][0]["error_code"] == 141006
    _, number = _call(sandbox, "GET", fixtures.PHONE_NUMBER_ID, fields="health_status")
    assert number["health_status"]["can_send_message"] == "BLOCKED"
    _call(sandbox, "POST", f"/_sandbox/wabas/{fixtures.WABA_ID}", {"can_send_message": "LIMITED"})
    _, waba = _call(sandbox, "GET", fixtures.WABA_ID, fields="health_status")
    business = next(e for e in waba["health_status"]["entities"] if e["entity_type"] == "BUSINESS")
    assert business["can_send_message"] == "LIMITED" and business["errors"][0]["error_code"] == 141010
    status, refused = _call(sandbox, "POST", f"/_sandbox/wabas/{fixtures.WABA_ID}", {"can_send_message": "SOON"})
    assert status == 400 and "can_send_message" in json.dumps(refused["error"])


def test_a_new_waba_comes_with_connected_numbers_the_sandbox_token_may_manage() -> None:
    sandbox = Sandbox(fixtures.seed_state(), Options())
    status, made = _call(sandbox, "POST", "/_sandbox/wabas", {"numbers": 2})
    assert status == 200 and len(made["phone_numbers"]) == 2
    status, listed = _call(sandbox, "GET", f"{made['id']}/phone_numbers", fields="id,status,display_phone_number")
    assert status == 200
    assert {n["status"] for n in listed["data"]} == {"CONNECTED"}
    _, templates = _call(sandbox, "GET", f"{made['id']}/message_templates", fields="name,status")
    assert templates["data"] == [{"name": "hello_world", "status": "APPROVED", "id": made["templates"][0]}]
    _, again = _call(sandbox, "POST", "/_sandbox/wabas", {"numbers": 1})
    assert again["phone_numbers"][0]["phone_number"] not in {n["phone_number"] for n in made["phone_numbers"]}
    assert _call(sandbox, "POST", "/_sandbox/wabas", {"numbers": 26})[0] == 400
