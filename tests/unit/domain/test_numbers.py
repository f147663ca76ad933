"""The pure rules behind `waba number`: the doctor's decision, the PIN, the register budget, the
profile's limits, and the Graph error codes the number commands meet."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.world import REPO_ROOT
from waba_cli.domain import numbers, profile
from waba_cli.graph import errors as graph_errors
from waba_cli.graph.errors import GraphError, PhoneNumberError, ServiceUnavailable, TemplateError, error_class_for

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
READY = numbers.NumberFacts(
    "1",
    "+15550134567",
    code_verification_status="VERIFIED",
    name_status="APPROVED",
    platform_type="CLOUD_API",
    throughput_level="STANDARD",
    status="CONNECTED",
    quality_rating="GREEN",
    messaging_limit="TIER_10K",
    synced_at=NOW,
)


def _with(**changes: object) -> numbers.NumberFacts:
    from dataclasses import replace

    return replace(READY, **changes)  # type: ignore[arg-type]


def test_a_ready_number_can_send_with_nothing_to_say() -> None:
    diagnosis = numbers.diagnose(READY, NOW)
    assert diagnosis.can_send and diagnosis.verdict == "OK" and diagnosis.findings == []


def test_findings_come_in_the_order_an_operator_fixes_them() -> None:
    facts = _with(
        code_verification_status="NOT_VERIFIED",
        name_status="PENDING_REVIEW",
        name_status_since=NOW - timedelta(days=1),
        platform_type="NOT_APPLICABLE",
        status="PENDING",
    )
    diagnosis = numbers.diagnose(facts, NOW)
    assert [f.code for f in diagnosis.findings] == ["code-not-verified", "name-pending", "not-registered"]
    assert "since 1 day" in diagnosis.findings[1].message
    assert diagnosis.findings[2].next == (
        "`waba number register +15550134567` once the code is verified and the name approved"
    )
    assert diagnosis.verdict == "BLOCKED"


def test_unknown_values_are_reported_never_a_crash() -> None:
    facts = _with(quality_rating="PURPLE", messaging_limit="TIER_42", name_status="MAYBE", status="ODD")
    codes = [f.code for f in numbers.diagnose(facts, NOW).findings]
    assert codes == ["name-unknown", "status-unknown", "quality-unknown", "limit-unknown"]
    assert numbers.health_findings({"entities": ["junk", {"can_send_message": "BLOCKED"}]})[0].severity == "blocked"


def test_the_pin_is_six_digits() -> None:
    assert numbers.pin(" 012345 ") == "012345"
    for bad in ("12345", "1234567", "12a456", ""):
        with pytest.raises(ValueError, match="6 digits"):
            numbers.pin(bad)


def test_ten_register_calls_in_72_hours_and_no_more() -> None:
    calls = [NOW - timedelta(hours=h) for h in range(0, 70, 7)]
    left, free_at = numbers.registrations_left(calls, NOW)
    assert left == 0 and free_at == calls[-1] + timedelta(hours=72)
    assert numbers.registrations_left(calls[1:], NOW)[0] == 1
    assert numbers.registrations_left([NOW - timedelta(hours=72)], NOW) == (10, None)


def test_profile_limits() -> None:
    assert profile.about("x" * 139) == "x" * 139
    with pytest.raises(ValueError, match="1 to 139"):
        profile.about("x" * 140)
    with pytest.raises(ValueError, match="at most 2"):
        profile.websites(["https://a.example", "https://b.example", "https://c.example"])
    assert profile.vertical("Healthcare") == "HEALTH"
    with pytest.raises(ValueError, match="did you mean PROF_SERVICES"):
        profile.vertical("PROF_SERVICE")
    assert profile.picture("jpeg", 1000, 192, 192) == "image/jpeg"
    with pytest.raises(ValueError, match="5 MB"):
        profile.picture("PNG", 6 * 1024 * 1024, 640, 640)


@pytest.mark.parametrize(
    ("code", "subcode", "kind", "hint"),
    [
        (133005, None, PhoneNumberError, "set-pin"),
        (133006, None, PhoneNumberError, "request-code"),
        (133008, None, PhoneNumberError, "wait"),
        (133009, None, PhoneNumberError, "wait"),
        (133010, None, PhoneNumberError, "waba number register"),
        (133016, None, PhoneNumberError, "10 per 72 h"),
        (136025, None, PhoneNumberError, "request-code"),
        (100, 2388001, PhoneNumberError, "certificate"),
        (2388001, None, PhoneNumberError, "certificate"),
        (100, 2388012, PhoneNumberError, "--id"),
        (100, 2388091, PhoneNumberError, "WhatsApp Manager"),
        (100, 2388093, PhoneNumberError, "WhatsApp Manager"),
        (100, 2388040, TemplateError, None),
        (133004, None, ServiceUnavailable, None),
    ],
)
def test_number_error_codes_have_a_class_and_a_next_step(
    code: int, subcode: int | None, kind: type[GraphError], hint: str | None
) -> None:
    assert error_class_for(code, subcode) is kind
    error = GraphError.from_response(400, {"error": {"message": "(#x) y", "code": code, "error_subcode": subcode}})
    assert type(error) is kind
    if hint is not None:
        assert error.hint is not None and hint in error.hint


def test_each_graph_error_code_is_mapped_and_hinted_once() -> None:
    source = (REPO_ROOT / "waba_cli" / "graph" / "errors.py").read_text()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Dict):
            keys = [eval(ast.unparse(k), vars(graph_errors)) for k in node.value.keys if k is not None]
            assert len(keys) == len(set(keys)), f"a code appears twice in {ast.unparse(node.target)}"
