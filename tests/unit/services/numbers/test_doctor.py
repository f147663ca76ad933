"""`waba number doctor`, through the real command: one number per reason it cannot send (or sends
limited), each with the next command, in text and in JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import respx

from tests.support.numbers import (
    FIRST,
    SECOND,
    THIRD,
    graph_error,
    list_numbers,
    meta_number,
    second,
    third,
)

NOT_REGISTERED = {
    "platform_type": "NOT_APPLICABLE",
    "throughput": {"level": "NOT_APPLICABLE"},
    "status": "DISCONNECTED",
}
THREE_DAYS_AGO = (datetime.now(UTC) - timedelta(days=3, hours=1)).strftime("%Y-%m-%dT%H:%M:%S+0000")

# reason -> (Meta's fields for the number, the finding's code, can it send, text the operator sees)
CASES: dict[str, tuple[dict[str, Any], str, bool, str]] = {
    "code not verified": (
        {"code_verification_status": "NOT_VERIFIED"},
        "code-not-verified",
        False,
        "waba number request-code +15550134569",
    ),
    "display name pending": (
        {"name_status": "PENDING_REVIEW", "last_onboarded_time": THREE_DAYS_AGO, **NOT_REGISTERED},
        "name-pending",
        False,
        "pending review since 3 days",
    ),
    "display name declined": ({"name_status": "DECLINED"}, "name-declined", True, "request a new display name"),
    "not registered": (NOT_REGISTERED, "not-registered", False, "waba number register +15550134569"),
    "restricted": ({"status": "RESTRICTED"}, "status-restricted", False, "Account Quality"),
    "flagged": ({"status": "FLAGGED"}, "status-flagged", True, "messaging limit drops"),
    "unknown status": ({"status": "SOMETHING_NEW"}, "status-unknown", True, "SOMETHING_NEW"),
    "quality red": ({"quality_rating": "RED"}, "quality-red", True, "marketing templates will be limited"),
    "low messaging limit": ({"whatsapp_business_manager_messaging_limit": "TIER_250"}, "limit-low", True, "250"),
    "health blocked": (
        {
            "health_status": {
                "can_send_message": "BLOCKED",
                "entities": [
                    {
                        "entity_type": "WABA",
                        "id": "1",
                        "can_send_message": "BLOCKED",
                        "errors": [
                            {
                                "error_code": 141006,
                                "error_description": "There is an error with the payment method.",
                                "possible_solution": "Add a new payment method to the account.",
                            }
                        ],
                    }
                ],
            }
        },
        "health-waba",
        False,
        "Add a new payment method to the account.",
    ),
    "health limited": (
        {
            "health_status": {
                "can_send_message": "LIMITED",
                "entities": [
                    {
                        "entity_type": "PHONE_NUMBER",
                        "id": THIRD,
                        "can_send_message": "LIMITED",
                        "additional_info": ["Your display name has not been approved yet."],
                    }
                ],
            }
        },
        "health-phone_number",
        True,
        "Your display name has not been approved yet.",
    ),
}


@pytest.mark.parametrize("reason", list(CASES))
def test_doctor_names_the_reason_and_the_next_command(
    waba: Any, account: Any, graph: respx.MockRouter, reason: str
) -> None:
    fields, code, can_send, shown = CASES[reason]
    list_numbers(graph, [meta_number(), third(**fields)])

    as_json = waba("number", "doctor", "--json")

    assert as_json.code == (0 if can_send else 1), as_json.err
    report = as_json.json()
    numbers = {n["id"]: n for n in report["numbers"]}
    assert numbers[FIRST]["verdict"] == "OK" and numbers[FIRST]["reasons"] == []
    sick = numbers[THIRD]
    assert sick["can_send"] is can_send
    assert report["can_send"] is can_send
    found = {r["code"]: r for r in sick["reasons"]}
    assert code in found
    assert shown in found[code]["message"] + " " + (found[code]["next"] or "")

    as_text = waba("number", "doctor", "+15550134569", "--no-sync")
    assert as_text.code == (0 if can_send else 1)
    assert shown in as_text.out
    assert ("BLOCKED" if not can_send else "") in as_text.out.splitlines()[0]


def test_doctor_says_a_number_gone_from_meta_cannot_send(waba: Any, account: Any, graph: respx.MockRouter) -> None:
    list_numbers(graph, [meta_number(), second()])
    assert waba("number", "sync").code == 0
    list_numbers(graph, [meta_number()])

    report = waba("number", "doctor", "--json")

    assert report.code == 1
    gone = next(n for n in report.json()["numbers"] if n["id"] == SECOND)
    assert [r["code"] for r in gone["reasons"]] == ["gone"]


def test_doctor_reports_a_refused_token_once_for_the_account(waba: Any, account: Any, graph: respx.MockRouter) -> None:
    list_numbers(graph, [meta_number()])
    assert waba("number", "sync").code == 0
    graph.get("/123456789012345/phone_numbers", name="phone_numbers").mock(
        return_value=graph_error(190, "Error validating access token", status=401)
    )

    report = waba("number", "doctor", "--json")

    assert report.code == 1
    data = report.json()
    assert data["problem"]["code"] == "token" and "waba account update" in data["problem"]["next"]
    assert data["numbers"][0]["reasons"] == []  # the number itself is fine as last seen
    text = waba("number", "doctor")
    assert "refused the account's access token" in text.err


def test_doctor_on_a_never_synced_number_says_to_sync(waba: Any, account: Any) -> None:
    result = waba("number", "doctor", "--no-sync", "--json")
    assert result.code == 0
    assert result.json()["numbers"][0]["reasons"][0]["code"] == "never-synced"
