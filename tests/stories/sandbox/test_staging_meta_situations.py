"""The sandbox's test controls: situations Meta creates on its own, with the webhooks Meta sends."""

from __future__ import annotations

import time
from typing import Any

from tests.support.sandbox import PNID, WABA, Receiver, SandboxProcess
from waba_cli.sandbox import fixtures


def _control(sandbox: SandboxProcess, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = sandbox.client.post(f"{sandbox.url}/_sandbox/{path}", json=body).json()
    return answer


def _changes(receiver: Receiver, field: str) -> list[dict[str, Any]]:
    while True:
        found = [c["value"] for c in receiver.changes() if c["field"] == field]
        if found:
            return found


def test_a_token_that_expires_soon_and_one_that_is_revoked(sandbox: SandboxProcess) -> None:
    soon = _control(sandbox, "tokens", {"expires_in": 3 * 86400})
    info = sandbox.client.get(
        "/debug_token",
        params={"input_token": soon["access_token"]},
        headers={"Authorization": f"Bearer {fixtures.APP_ID}|{fixtures.APP_SECRET}"},
    ).json()["data"]
    assert info["is_valid"] is True
    assert abs(info["expires_at"] - (time.time() + 3 * 86400)) < 60
    assert _control(sandbox, f"tokens/{soon['access_token']}", {}) == {"success": True}
    revoked = sandbox.client.get(f"/{WABA}", headers={"Authorization": f"Bearer {soon['access_token']}"})
    assert revoked.status_code == 401
    assert revoked.json()["error"]["code"] == 190


def test_a_token_without_the_messaging_permission_cannot_send(sandbox: SandboxProcess) -> None:
    manager = _control(sandbox, "tokens", {"scopes": ["whatsapp_business_management"]})
    body = {"messaging_product": "whatsapp", "to": "+15551230701", "type": "text", "text": {"body": "hi"}}
    response = sandbox.client.post(
        f"/{PNID}/messages", json=body, headers={"Authorization": f"Bearer {manager['access_token']}"}
    )
    assert response.json()["error"]["code"] == 10


def test_number_quality_drop_is_reported_and_readable(sandbox: SandboxProcess, receiver: Receiver) -> None:
    changed = _control(sandbox, f"phone_numbers/{fixtures.SECOND_PHONE_NUMBER_ID}", {"quality_rating": "RED"})
    assert changed["quality_rating"] == "RED"
    [event] = _changes(receiver, "phone_number_quality_update")
    assert event["event"] == "FLAGGED"
    assert event["display_phone_number"] == "15550134568"
    fields = sandbox.client.get(f"/{fixtures.SECOND_PHONE_NUMBER_ID}", params={"fields": "quality_rating"}).json()
    assert fields["quality_rating"] == "RED"


def test_a_number_put_in_coexistence_says_so(sandbox: SandboxProcess) -> None:
    changed = _control(sandbox, f"phone_numbers/{fixtures.SECOND_PHONE_NUMBER_ID}", {"is_on_biz_app": True})
    assert changed["is_on_biz_app"] is True
    fields = sandbox.client.get(f"/{fixtures.SECOND_PHONE_NUMBER_ID}", params={"fields": "is_on_biz_app"}).json()
    assert fields["is_on_biz_app"] is True
    refused = sandbox.client.post(f"{sandbox.url}/_sandbox/phone_numbers/{PNID}", json={"is_on_biz_app": "yes"})
    assert refused.json()["error"]["code"] == 100


def test_paused_template_is_announced_and_refused_on_send(sandbox: SandboxProcess, receiver: Receiver) -> None:
    template_id = "1304694804498703"  # seasonal_promotion
    _control(sandbox, f"templates/{template_id}", {"status": "PAUSED"})
    [event] = _changes(receiver, "message_template_status_update")
    assert (event["event"], event["other_info"]["title"]) == ("PAUSED", "FIRST_PAUSE")
    body = {
        "to": "+15551230702",
        "type": "template",
        "template": {"name": "seasonal_promotion", "language": {"code": "en_US"}},
    }
    assert sandbox.send(body).json()["error"]["code"] == 132015


def test_blocked_flow_cannot_be_sent(sandbox: SandboxProcess, receiver: Receiver) -> None:
    _control(sandbox, f"flows/{fixtures.FLOW_ID}", {"status": "BLOCKED"})
    [event] = _changes(receiver, "flows")
    assert (event["old_status"], event["new_status"]) == ("PUBLISHED", "BLOCKED")
    parameters = {
        "flow_message_version": "3",
        "flow_id": fixtures.FLOW_ID,
        "flow_cta": "Book",
        "flow_action_payload": {"screen": "APPOINTMENT"},
    }
    interactive = {"type": "flow", "body": {"text": "Book"}, "action": {"name": "flow", "parameters": parameters}}
    assert (
        sandbox.send({"to": "+15551230703", "type": "interactive", "interactive": interactive}).json()["error"]["code"]
        == 132068
    )
