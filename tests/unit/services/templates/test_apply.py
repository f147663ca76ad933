"""`waba template apply FILE`: the plan against Meta's templates, Meta's edit rules, and applying it."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.graph import body_of
from tests.support.templates import (
    LOGIN_CODE_AS_LISTED,
    TEMPLATES,
    listed,
    meta_template,
    rows,
    shown,
)
from waba_cli.domain.templates import forms
from waba_cli.domain.templates.compare import plan_changes

SHIPPING = "Hi {{1}}, parcel {{2}} left our warehouse today."
SHIPPING_NEW = "Hi {{1}}, parcel {{2}} is on its way to you."


def simple(name: str, body: str = "Hi {{1}}, your order {{2}} has shipped.", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "category": "UTILITY",
        "language": "en_US",
        "body_text": body,
        "examples": ["Ana", "8812"],
        **extra,
    }


def components(body: str) -> list[dict[str, Any]]:
    return [{"type": "BODY", "text": body, "example": {"body_text": [["Ana", "8812"]]}}]


META = [
    meta_template("order_update", "10"),
    meta_template("shipping_notice", "20", components=components(SHIPPING)),
    meta_template("pending_one", "30", "PENDING", components=components(SHIPPING)),
    meta_template("recategorised", "40", components=components(SHIPPING)),
    meta_template("rejected_one", "50", "REJECTED", components=components(SHIPPING), rejected_reason="PROMOTIONAL"),
    meta_template("legacy_promo", "60", category="MARKETING"),
]
FILE = [
    {
        "name": "order_update",
        "category": "utility",
        "language": "en-US",
        "body_text": "Hi {{1}}, your order {{2}} has shipped.",
        "examples": ["Ana", "8812"],
        "buttons": ["URL:Track it:https://example.com/track/{{1}}"],
    },
    simple("shipping_notice", SHIPPING_NEW),
    simple("pending_one", SHIPPING_NEW),
    {**simple("recategorised", SHIPPING), "category": "MARKETING"},
    {**simple("rejected_one", SHIPPING), "category": "MARKETING"},
    simple("new_one", "Hello {{1}}, thanks for order {{2}} with us."),
]


def file_of(tmp_path: Path, templates: list[dict[str, Any]]) -> Path:
    """The templates as JSON, with URL examples written in Meta's shape where buttons need one."""
    entries = []
    for template in templates:
        entry = template
        if any("{{1}}" in b for b in template.get("buttons", [])):
            request = forms.to_request(template).request
            forms.add_url_examples(request["components"], ["8812"])
            entry = {k: request[k] for k in ("name", "category", "language", "components")}
        entries.append(entry)
    path = tmp_path / "templates.json"
    path.write_text(json.dumps(entries))
    return path


@pytest.fixture
def meta(graph: Any, account: dict[str, Any]) -> Any:
    graph.get(TEMPLATES).mock(return_value=listed(*copy.deepcopy(META)))
    return graph


def plan(result: Any) -> dict[str, tuple[str, str]]:
    return {item["name"]: (item["action"], item["reason"]) for item in result.json()["plan"]}


def test_apply_dry_run_plans_each_case_and_sends_nothing(waba: Any, meta: Any, tmp_path: Path) -> None:
    create = meta.post(TEMPLATES).respond(200, json={"id": "70", "status": "PENDING"})
    edit = meta.post(path__regex=r"/v23\.0/\d+$").respond(200, json={"success": True})

    result = waba("template", "apply", str(file_of(tmp_path, FILE)), "--dry-run", "--json")

    assert result.code == 1, result.err  # two changes in the file cannot be made
    assert "2 change(s) refused: pending_one en_US" in result.err
    actions = {name: action for name, (action, _) in plan(result).items()}
    assert actions == {
        "order_update": "unchanged",
        "shipping_notice": "edit",
        "pending_one": "refused",
        "recategorised": "refused",
        "rejected_one": "edit",
        "new_one": "create",
        "legacy_promo": "only_on_meta",
    }
    assert "this one is PENDING" in plan(result)["pending_one"][1]
    assert "category of an APPROVED template cannot change" in plan(result)["recategorised"][1]
    changes = {i["name"]: i["changes"] for i in result.json()["plan"]}
    assert (changes["shipping_notice"], changes["rejected_one"]) == (["components"], ["category"])
    assert result.json()["counts"] == {"create": 1, "edit": 2, "unchanged": 1, "only_on_meta": 1, "refused": 2}
    assert result.json()["dry_run"] is True
    assert not create.called
    assert not edit.called
    assert rows(waba) == []


def test_apply_creates_and_edits_then_records_the_outcome(waba: Any, meta: Any, tmp_path: Path) -> None:
    create = meta.post(TEMPLATES).respond(200, json={"id": "70", "status": "PENDING", "category": "UTILITY"})
    edit_shipping = meta.post("/20").respond(200, json={"success": True})
    edit_rejected = meta.post("/50").respond(200, json={"success": True})

    result = waba("template", "apply", str(file_of(tmp_path, FILE)), "--json")

    assert result.code == 1, result.err  # the refused ones; the others were applied
    assert result.err.startswith("waba: 2 change(s) refused: ")
    outcomes = {i["name"]: i["outcome"] for i in result.json()["plan"] if i["outcome"]}
    assert outcomes == {"shipping_notice": "done", "rejected_one": "done", "new_one": "done"}
    assert body_of(create)["name"] == "new_one"
    assert body_of(edit_shipping) == {"components": components(SHIPPING_NEW)}
    assert body_of(edit_rejected) == {"components": components(SHIPPING), "category": "MARKETING"}
    by_name = {t["name"]: t for t in rows(waba)}
    assert (by_name["new_one"]["status"], by_name["new_one"]["id"]) == ("PENDING", "70")
    assert by_name["shipping_notice"]["status"] == "PENDING"
    assert by_name["rejected_one"]["category"] == "MARKETING"
    assert by_name["legacy_promo"]["status"] == "APPROVED"
    assert [e["event"] for e in shown(waba, "shipping_notice")["history"]] == ["APPROVED", "EDITED"]


def test_apply_refuses_a_second_edit_of_an_approved_template_within_a_day(waba: Any, meta: Any, tmp_path: Path) -> None:
    meta.post("/20").respond(200, json={"success": True})
    path = file_of(tmp_path, [simple("shipping_notice", SHIPPING_NEW)])
    assert waba("template", "apply", str(path)).code == 0

    result = waba("template", "apply", str(path), "--dry-run", "--json")

    assert plan(result)["shipping_notice"][0] == "refused"
    assert "edited in the last 24 hours" in plan(result)["shipping_notice"][1]


def test_apply_carries_on_after_a_failure_and_exits_1(waba: Any, meta: Any, tmp_path: Path) -> None:
    error = {"error": {"message": "(#100) Invalid parameter", "type": "OAuthException", "code": 100}}
    meta.post(TEMPLATES).respond(400, json=error)
    meta.post("/20").respond(200, json={"success": True})
    path = file_of(tmp_path, [simple("new_one"), simple("shipping_notice", SHIPPING_NEW)])

    result = waba("template", "apply", str(path))

    assert result.code == 1
    assert "1 change(s) failed: new_one en_US" in result.err
    assert {t["name"]: t["status"] for t in rows(waba)}["shipping_notice"] == "PENDING"


def test_apply_refuses_an_invalid_file_before_asking_meta(waba: Any, meta: Any, tmp_path: Path) -> None:
    path = file_of(tmp_path, [simple("new_one"), simple("broken", "{{1}} and {{2}}")])

    result = waba("template", "apply", str(path))

    assert result.code == 2
    assert "broken en_US:" in result.err
    assert not meta.routes[0].called


def test_apply_reads_template_tables_from_toml(waba: Any, meta: Any, tmp_path: Path) -> None:
    path = tmp_path / "templates.toml"
    path.write_text(
        '[[template]]\nname = "shipping_notice"\ncategory = "UTILITY"\nlanguage = "en_US"\n'
        f'body_text = "{SHIPPING}"\nexamples = ["Ana", "8812"]\n'
    )

    result = waba("template", "apply", str(path), "--dry-run")

    assert result.code == 0, result.err
    assert "unchanged\tshipping_notice" in result.out
    assert "only on meta\tlegacy_promo" in result.out
    assert "dry run: nothing was sent" in result.err


def test_apply_refuses_the_same_template_twice_in_a_file(waba: Any, meta: Any, tmp_path: Path) -> None:
    result = waba("template", "apply", str(file_of(tmp_path, [simple("a_one"), simple("a_one")])))

    assert result.code == 2
    assert "appears twice" in result.err


# -- Meta's quotas, in the plan itself ---------------------------------------------------------------

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _plan_for(edits: list[datetime], recent_creations: int = 0) -> dict[str, str]:
    templates = [forms.to_request(simple("shipping_notice", SHIPPING_NEW)), forms.to_request(simple("new_one"))]
    items = plan_changes(templates, [META[1]], edits={"20": edits}, recent_creations=recent_creations, now=NOW)
    return {i.name: i.action for i in items}


def test_plan_allows_ten_edits_of_an_approved_template_in_30_days() -> None:
    nine = [NOW - timedelta(days=2 + i) for i in range(9)]
    ten = [*nine, NOW - timedelta(days=20)]
    old = [NOW - timedelta(days=31 + i) for i in range(20)]

    assert _plan_for(nine)["shipping_notice"] == "edit"
    assert _plan_for(ten)["shipping_notice"] == "refused"
    assert _plan_for(old)["shipping_notice"] == "edit"


def test_plan_keeps_to_100_creations_per_hour() -> None:
    assert _plan_for([], recent_creations=99)["new_one"] == "create"
    assert _plan_for([], recent_creations=100)["new_one"] == "refused"


def test_templates_exported_with_show_apply_back_unchanged(
    waba: Any, graph: Any, account: dict[str, Any], tmp_path: Path
) -> None:
    order_update = meta_template("order_update", "10")
    order_update["components"][1]["buttons"][0]["example"] = ["https://example.com/track/8812"]
    login_code = meta_template("login_code", "20", category="AUTHENTICATION", components=LOGIN_CODE_AS_LISTED)
    graph.get(TEMPLATES).mock(return_value=listed(order_update, login_code))
    assert waba("template", "sync").code == 0
    path = tmp_path / "exported.json"
    path.write_text(json.dumps([shown(waba, "order_update"), shown(waba, "login_code")]))

    result = waba("template", "apply", str(path), "--dry-run", "--json")

    assert result.code == 0, result.err
    assert result.json()["counts"]["unchanged"] == 2


def test_plan_keeps_to_the_wabas_template_limit() -> None:
    full = [meta_template(f"t_{i}", str(1000 + i)) for i in range(6000)]
    almost = full[:250]
    new = [forms.to_request(simple("new_one"))]

    refused = plan_changes(new, full, edits={}, recent_creations=0, now=NOW)[0]
    noted = plan_changes(new, almost, edits={}, recent_creations=0, now=NOW)[0]

    assert (refused.action, refused.reason) == (
        "refused",
        "the WABA holds Meta's maximum of 6000 templates; delete some first",
    )
    assert noted.action == "create"
    assert "over 250 needs a verified business" in noted.reason


# -- exit codes: a refused change is an error; --detailed-exitcode as terraform's -----------------------


def test_detailed_exitcode_is_0_nothing_to_do_2_changes_1_error(waba: Any, meta: Any, tmp_path: Path) -> None:
    edit = meta.post("/20").respond(200, json={"success": True})
    same = file_of(tmp_path, [simple("shipping_notice", SHIPPING)])
    drift = tmp_path / "drift.json"
    drift.write_text(json.dumps([simple("shipping_notice", SHIPPING_NEW)]))
    refused = tmp_path / "refused.json"
    refused.write_text(json.dumps([simple("pending_one", SHIPPING_NEW)]))
    flags = ("--detailed-exitcode",)

    assert waba("template", "apply", str(same), *flags).code == 0
    assert waba("template", "apply", str(same), "--dry-run", *flags).code == 0
    planned = waba("template", "apply", str(drift), "--dry-run", *flags)
    assert planned.code == 2 and planned.err.strip().endswith("dry run: nothing was sent")
    assert not edit.called
    applied = waba("template", "apply", str(drift), *flags)
    assert applied.code == 2, applied.err
    assert edit.called
    assert waba("template", "apply", str(refused), "--dry-run", *flags).code == 1
    # every error is 1 with the flag: 2 would read as "changes" in CI
    assert waba("template", "apply", str(tmp_path / "missing.json"), *flags).code == 1
    assert waba("template", "apply", str(drift), "--no-such-flag", *flags).code == 1
    # without the flag: 0 success, 1 refused or failed, 2 bad input
    assert waba("template", "apply", str(refused), "--dry-run").code == 1
    assert waba("template", "apply", str(tmp_path / "missing.json")).code == 2
