"""The health rules alone: worst wins, the token's expiry, transitions with how long each lasted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from waba_cli.domain import health as rules

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
NEEDED = ("whatsapp_business_management", "whatsapp_business_messaging")


@pytest.mark.parametrize(
    ("statuses", "worst"),
    [
        ([], "OK"),
        (["OK", "UNKNOWN"], "UNKNOWN"),
        (["UNKNOWN", "WARNING"], "WARNING"),
        (["WARNING", "CRITICAL", "UNKNOWN"], "CRITICAL"),
    ],
)
def test_the_worst_status_wins_unknown_below_warning(statuses: list[str], worst: str) -> None:
    assert rules.worst(statuses) == worst
    assert rules.exit_code(worst) == {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}[worst]


@pytest.mark.parametrize(("days", "status"), [(30, "OK"), (6.5, "WARNING"), (0.5, "CRITICAL"), (-1, "CRITICAL")])
def test_token_expiry_against_the_thresholds(days: float, status: str) -> None:
    info = {"is_valid": True, "scopes": list(NEEDED), "expires_at": int(NOW.timestamp() + days * 86400)}
    check = rules.token_check(info, "1", NOW, rules.Policy())
    assert check.status == status
    assert check.value == pytest.approx(days, abs=0.01)


def test_a_token_for_another_waba_is_critical() -> None:
    info = {"is_valid": True, "scopes": list(NEEDED), "granular_scopes": [{"scope": NEEDED[0], "target_ids": ["2"]}]}
    assert "does not cover WABA 1" in rules.token_check(info, "1", NOW, rules.Policy()).detail


def test_transitions_skip_repeats_and_say_how_long_each_state_lasted() -> None:
    seen = [
        rules.Observation("acme", "token", NOW + timedelta(minutes=m), status, None)
        for m, status in ((0, "OK"), (5, "OK"), (10, "WARNING"), (15, "WARNING"), (40, "OK"))
    ]
    found = rules.transitions(seen, NOW + timedelta(hours=1))
    assert [(t.before, t.after, t.lasted, t.current) for t in found] == [
        (None, "OK", timedelta(minutes=10), False),
        ("OK", "WARNING", timedelta(minutes=30), False),
        ("WARNING", "OK", timedelta(minutes=20), True),
    ]


def test_a_new_check_is_a_change_unless_it_is_ok() -> None:
    current = [("acme", rules.Check("token", "OK", "")), ("acme", rules.Check("waba", "WARNING", "limited"))]
    found = rules.changes(current, {})
    assert [(c.check, c.before, c.after) for c in found] == [("waba", None, "WARNING")]
    assert rules.changes(current, {("acme", "waba"): "WARNING", ("acme", "token"): "OK"}) == []


def test_flow_alerts_are_active_until_deactivated() -> None:
    on = {"event": "ENDPOINT_ERROR_RATE", "flow_id": "7", "alert_state": "ACTIVATED", "message": "errors"}
    assert rules.flows_check([rules.FlowEvent(NOW, on)]).status == "WARNING"
    off = {**on, "alert_state": "DEACTIVATED"}
    events = [rules.FlowEvent(NOW, on), rules.FlowEvent(NOW + timedelta(minutes=1), off)]
    assert rules.flows_check(events).status == "OK"


def test_a_token_with_the_event_scope_in_place_of_management_is_accepted_as_account_verify_does() -> None:
    info = {"is_valid": True, "scopes": ["whatsapp_business_manage_events", NEEDED[1]], "expires_at": 0}
    assert rules.token_check(info, "1", NOW, rules.Policy()).status == rules.OK
    info["scopes"] = [NEEDED[1]]
    assert (
        "lacks the permission(s) whatsapp_business_management"
        in rules.token_check(info, "1", NOW, rules.Policy()).detail
    )
