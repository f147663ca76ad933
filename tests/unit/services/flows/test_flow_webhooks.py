"""`flows` webhooks (§8.10) update the flow and feed the health log: `health check` reports a
throttled flow, an active endpoint alert and a Flow JSON version about to expire."""

from __future__ import annotations

from typing import Any

import httpx
import respx

from tests.support.flows import BOOKING_ID, WABA, meta_flow
from tests.support.health import Meta
from tests.support.messaging import apply_webhook
from waba_cli.db.engine import Database


def _flows_webhook(value: dict[str, Any], time: int) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA, "time": time, "changes": [{"field": "flows", "value": value}]}],
    }


def _flows_check(waba: Any) -> dict[str, Any]:
    result = waba("health", "check", "--json")
    return next(c for a in result.json()["accounts"] for c in a["checks"] if c["name"] == "flows")


def test_a_throttled_flow_is_stored_and_reported_by_health_check(
    waba: Any, account: Any, graph: respx.MockRouter, db: Database
) -> None:
    Meta().serve(graph)
    graph.get(f"/{WABA}/flows").mock(
        return_value=httpx.Response(200, json={"data": [meta_flow(BOOKING_ID, "booking", "PUBLISHED")]})
    )
    assert waba("flow", "sync").code == 0
    assert _flows_check(waba)["status"] == "OK"

    change = {
        "event": "FLOW_STATUS_CHANGE",
        "message": "Flow booking changed status from PUBLISHED to THROTTLED",
        "flow_id": BOOKING_ID,
        "old_status": "PUBLISHED",
        "new_status": "THROTTLED",
    }
    apply_webhook(db, _flows_webhook(change, 1_760_000_000))

    assert waba("flow", "show", "booking", "--json").json()["status"] == "THROTTLED"
    check = _flows_check(waba)
    assert check["status"] == "WARNING" and f"flow {BOOKING_ID} THROTTLED" in check["detail"]


def test_a_version_expiry_warning_is_a_health_warning(
    waba: Any, account: Any, graph: respx.MockRouter, db: Database
) -> None:
    Meta().serve(graph)
    warning = {"event": "FLOW_VERSION_EXPIRY_WARNING", "flow_id": BOOKING_ID, "message": "Flow JSON 2.1 expires soon"}
    apply_webhook(db, _flows_webhook(warning, 1_760_000_100))

    check = _flows_check(waba)
    assert check["status"] == "WARNING" and "expires soon" in check["detail"]
