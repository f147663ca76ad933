"""Templates in the sandbox: review by the documented rules, the status webhook, paging."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.sandbox import WABA, Receiver, SandboxProcess
from waba_cli.graph.api import GraphAPI
from waba_cli.graph.client import Credentials, GraphClient
from waba_cli.sandbox import fixtures


def _submit(sandbox: SandboxProcess, name: str, body_text: str, category: str = "UTILITY") -> Any:
    return sandbox.client.post(
        f"/{WABA}/message_templates",
        json={
            "name": name,
            "language": "en_US",
            "category": category,
            "components": [
                {"type": "BODY", "text": body_text, "example": {"body_text": [["Ana", "8812"]]}},
            ],
        },
    )


def test_submitted_template_is_pending_then_approved_with_a_webhook(
    sandbox: SandboxProcess, receiver: Receiver
) -> None:
    response = _submit(sandbox, "shipping_notice", "Hello {{1}}, your parcel {{2}} left our warehouse today.")
    assert response.status_code == 200, response.text
    created = response.json()
    assert created["status"] == "PENDING"
    assert created["category"] == "UTILITY"
    [event] = receiver.template_events("shipping_notice")
    assert event["event"] == "APPROVED"
    assert event["message_template_id"] == int(created["id"])  # a JSON number, like Meta's
    assert event["reason"] == "NONE"
    fetched = sandbox.client.get(f"/{created['id']}", params={"fields": "name,status"}).json()
    assert fetched == {"name": "shipping_notice", "status": "APPROVED", "id": created["id"]}


def test_template_with_the_reject_marker_is_rejected_with_reason(sandbox: SandboxProcess, receiver: Receiver) -> None:
    created = _submit(sandbox, "doomed_notice", "REJECT:SCAM Hello {{1}}, claim parcel {{2}} now please.").json()
    [event] = receiver.template_events("doomed_notice")
    assert (event["event"], event["reason"]) == ("REJECTED", "SCAM")
    assert (
        sandbox.client.get(f"/{created['id']}", params={"fields": "status,rejected_reason"}).json()["rejected_reason"]
        == "SCAM"
    )


def test_utility_template_that_reads_like_a_promotion_is_rejected(sandbox: SandboxProcess, receiver: Receiver) -> None:
    _submit(sandbox, "sneaky_promo", "Hello {{1}}, use promo code {{2}} for a discount on your order.")
    [event] = receiver.template_events("sneaky_promo")
    assert (event["event"], event["reason"]) == ("REJECTED", "INCORRECT_CATEGORY")


def test_template_creation_errors_carry_meta_subcodes(sandbox: SandboxProcess) -> None:
    starts_with_variable = _submit(sandbox, "bad_start", "{{1}} is your parcel number {{2}} and more words here")
    error = starts_with_variable.json()["error"]
    assert (error["code"], error["error_subcode"]) == (100, 2388299)
    assert error["error_user_msg"]
    duplicate = _submit(sandbox, "hello_world", "Hello {{1}}, your parcel {{2}} left our warehouse today.")
    assert duplicate.json()["error"]["error_subcode"] == 2388024


def test_template_list_pages_follow_next_until_the_end(sandbox: SandboxProcess) -> None:
    names: list[str] = []
    url: str | None = f"/{WABA}/message_templates?limit=2&fields=name"
    pages = 0
    while url:
        answer = sandbox.client.get(url).json()
        assert len(answer["data"]) <= 2
        names += [t["name"] for t in answer["data"]]
        url = answer["paging"].get("next")
        pages += 1
    assert len(names) == len(set(names))
    assert {"hello_world", "order_update", "welcome_back", "summer_sale"} <= set(names)
    assert pages >= 4


def test_template_list_filters_by_status(sandbox: SandboxProcess) -> None:
    answer = sandbox.client.get(f"/{WABA}/message_templates", params={"status": "rejected,paused"}).json()
    assert {t["status"] for t in answer["data"]} <= {"REJECTED", "PAUSED"}
    assert {"abandoned_cart", "summer_sale"} <= {t["name"] for t in answer["data"]}


def test_waba_graph_client_reads_every_page(sandbox: SandboxProcess) -> None:
    """waba's own client against the sandbox: paging.next links point back at the sandbox."""

    async def read() -> list[str]:
        client = GraphClient(
            Credentials(fixtures.ACCESS_TOKEN, fixtures.APP_ID, fixtures.APP_SECRET), base_url=sandbox.url
        )
        async with client:
            page_size = {"fields": "name", "limit": 1}
            pages = client.paginate(f"{WABA}/message_templates", page_size)
            return [item["name"] async for item in pages]

    everything = sandbox.client.get(f"/{WABA}/message_templates", params={"limit": 1000}).json()["data"]
    assert asyncio.run(read()) == [t["name"] for t in everything]


def test_account_setup_verification_passes_against_the_sandbox(sandbox: SandboxProcess) -> None:
    async def verify() -> Any:
        from waba_cli.services.accounts.checks import check_live

        client = GraphClient(
            Credentials(fixtures.ACCESS_TOKEN, fixtures.APP_ID, fixtures.APP_SECRET), base_url=sandbox.url
        )
        async with client:
            return await check_live(
                GraphAPI(client),
                waba_id=fixtures.WABA_ID,
                phone_number_ids=[fixtures.PHONE_NUMBER_ID],
                app_id=fixtures.APP_ID,
                app_secret=fixtures.APP_SECRET,
                access_token=fixtures.ACCESS_TOKEN,
            )

    result = asyncio.run(verify())
    assert result.ok, result.failures
    assert result.token["type"] == "SYSTEM_USER"
    assert result.numbers[fixtures.PHONE_NUMBER_ID]["display_phone_number"] == fixtures.DISPLAY_PHONE_NUMBER
