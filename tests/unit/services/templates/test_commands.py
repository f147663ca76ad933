"""`waba template ...` end to end: local drafts, Meta (mocked with respx) and the stored history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.graph import body_of
from tests.support.templates import (
    ORDER_UPDATE_COMPONENTS,
    ORDER_UPDATE_FLAGS,
    TEMPLATES,
    listed,
    meta_template,
    rows,
    shown,
)
from tests.support.world import SEED_SETUP

APP = SEED_SETUP["app_id"]


def query_of(route: Any) -> dict[str, str]:
    """The query of the last call, without the appsecret_proof every call carries."""
    return {k: v for k, v in route.calls.last.request.url.params.items() if k != "appsecret_proof"}


@pytest.fixture
def draft(waba: Any, account: dict[str, Any]) -> None:
    result = waba("template", "create", *ORDER_UPDATE_FLAGS)
    assert result.code == 0, result.err


# -- create and validate ---------------------------------------------------------------------------


def test_create_from_flags_stores_a_draft_in_metas_shape(waba: Any, account: dict[str, Any]) -> None:
    result = waba("template", "create", *ORDER_UPDATE_FLAGS, "--json")

    assert result.code == 0, result.err
    assert result.json()["status"] == "DRAFT"
    assert rows(waba) == [
        {
            "name": "order_update",
            "language": "en_US",
            "category": "UTILITY",
            "status": "DRAFT",
            "id": None,
            "quality_score": None,
            "parameter_format": "POSITIONAL",
            "updated_at": rows(waba)[0]["updated_at"],
        }
    ]
    assert shown(waba, "order_update")["components"] == ORDER_UPDATE_COMPONENTS


def test_create_from_a_toml_file_with_named_variables(waba: Any, account: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "welcome.toml"
    path.write_text(
        'name = "welcome"\ncategory = "marketing"\nlanguage = "pt-br"\n'
        'header_text = "Hello {{first_name}}, welcome"\nheader_example = "Ana"\n'
        'body_text = "Welcome {{first_name}}, your code {{code}} gives you a discount today."\n'
        'footer_text = "Reply STOP to opt out"\nbuttons = ["QUICK_REPLY:Stop promos"]\n'
        '[examples]\nfirst_name = "Ana"\ncode = "SAVE20"\n'
    )

    result = waba("template", "create", "--from-file", str(path))

    assert result.code == 0, result.err
    template = shown(waba, "welcome")
    assert (template["language"], template["category"], template["parameter_format"]) == ("pt_BR", "MARKETING", "NAMED")
    assert template["components"][1]["example"] == {
        "body_text_named_params": [
            {"param_name": "first_name", "example": "Ana"},
            {"param_name": "code", "example": "SAVE20"},
        ]
    }


def test_create_from_a_json_file_in_metas_shape(waba: Any, account: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    data = {"name": "order_update", "category": "UTILITY", "language": "en_US", "components": ORDER_UPDATE_COMPONENTS}
    path.write_text(json.dumps(data))

    result = waba("template", "create", "--from-file", str(path))

    assert result.code == 0, result.err
    assert shown(waba, "order_update")["components"] == ORDER_UPDATE_COMPONENTS


def test_create_refuses_a_broken_template_lists_every_rule_and_writes_nothing(
    waba: Any, account: dict[str, Any]
) -> None:
    result = waba(
        "template", "create", "--name", "Order-Update", "--category", "UTILITY",
        "--body", "{{1}}{{2}} shipped", "--footer", "x" * 61,
    )  # fmt: skip

    assert result.code == 2
    assert "name: 'Order-Update' may hold only lowercase letters" in result.err
    assert "(prevents 2388299)" in result.err
    assert "FOOTER: text is 61 characters" in result.err
    assert result.err.strip().splitlines()[-1].startswith("waba: Order-Update en_US: ")
    assert "Traceback" not in result.err
    assert rows(waba) == []


def test_create_refuses_flags_together_with_a_file(waba: Any, account: dict[str, Any], tmp_path: Path) -> None:
    result = waba("template", "create", "--from-file", str(tmp_path / "t.json"), "--body", "x")

    assert result.code == 2
    assert "--body cannot be combined with --from-file" in result.err


def test_create_refuses_to_replace_a_template_meta_has(waba: Any, account: dict[str, Any], graph: Any) -> None:
    graph.post(TEMPLATES).respond(200, json={"id": "594425479261596", "status": "PENDING", "category": "UTILITY"})
    assert waba("template", "create", *ORDER_UPDATE_FLAGS, "--submit").code == 0

    result = waba("template", "create", *ORDER_UPDATE_FLAGS)

    assert result.code == 2
    assert "already exists at Meta (PENDING)" in result.err


def test_validate_a_file_reports_json_per_template_and_exits_2(
    waba: Any, account: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "templates.toml"
    path.write_text(
        '[[template]]\nname = "ok_one"\ncategory = "UTILITY"\nlanguage = "en_US"\n'
        'body_text = "Your order has shipped."\n'
        '[[template]]\nname = "bad_one"\ncategory = "UTILITY"\nlanguage = "en_US"\n'
        'body_text = "Hi {{1}} {{2}} there."\n'
    )

    result = waba("template", "validate", "--from-file", str(path), "--json")

    assert result.code == 2
    report = result.json()
    assert report["valid"] is False
    assert [(t["name"], t["valid"]) for t in report["templates"]] == [("ok_one", True), ("bad_one", False)]
    problems = {(v["component"], v["meta_error"]) for v in report["templates"][1]["violations"]}
    assert ("BODY", "INVALID_FORMAT") in problems
    assert set(report["templates"][1]["violations"][0]) == {"component", "problem", "fix", "meta_error", "severity"}


def test_validate_a_stored_template_by_name(waba: Any, draft: None) -> None:
    result = waba("template", "validate", "order_update")

    assert result.code == 0, result.err
    assert "1 template(s) follow Meta's rules" in result.err


def test_validate_needs_a_name_or_a_file(waba: Any, account: dict[str, Any]) -> None:
    assert waba("template", "validate").code == 2


def test_create_dry_run_writes_nothing(waba: Any, account: dict[str, Any]) -> None:
    result = waba("template", "create", *ORDER_UPDATE_FLAGS, "--dry-run", "--json")

    assert result.code == 0, result.err
    assert result.json()["request"]["name"] == "order_update"
    assert rows(waba) == []


# -- submit ----------------------------------------------------------------------------------------


def test_submit_posts_the_draft_and_records_id_status_and_history(waba: Any, draft: None, graph: Any) -> None:
    route = graph.post(TEMPLATES).respond(
        200, json={"id": "594425479261596", "status": "PENDING", "category": "UTILITY"}
    )

    result = waba("template", "submit", "order_update", "--json")

    assert result.code == 0, result.err
    assert body_of(route) == {
        "name": "order_update",
        "language": "en_US",
        "category": "UTILITY",
        "parameter_format": "positional",
        "components": ORDER_UPDATE_COMPONENTS,
    }
    assert (result.json()["id"], result.json()["status"]) == ("594425479261596", "PENDING")
    history = shown(waba, "order_update")["history"]
    assert [(e["source"], e["event"], e["status"]) for e in history] == [
        ("local", "DRAFT_SAVED", "DRAFT"),
        ("submit", "SUBMITTED", "PENDING"),
    ]


def test_submit_records_metas_new_category(waba: Any, draft: None, graph: Any) -> None:
    graph.post(TEMPLATES).respond(200, json={"id": "1", "status": "PENDING", "category": "MARKETING"})

    assert waba("template", "submit", "order_update").code == 0

    template = shown(waba, "order_update")
    assert (template["category"], template["previous_category"]) == ("MARKETING", "UTILITY")


def test_submit_dry_run_prints_the_request_and_sends_nothing(waba: Any, draft: None, graph: Any) -> None:
    route = graph.post(TEMPLATES).respond(200, json={"id": "1", "status": "PENDING"})

    result = waba("template", "submit", "order_update", "--dry-run", "--json")

    assert result.code == 0, result.err
    assert result.json()["dry_run"] is True
    assert result.json()["request"]["json"]["name"] == "order_update"
    assert not route.called
    assert rows(waba)[0]["status"] == "DRAFT"


def test_submit_refuses_a_template_already_at_meta(waba: Any, draft: None, graph: Any) -> None:
    route = graph.post(TEMPLATES).respond(200, json={"id": "1", "status": "PENDING"})
    assert waba("template", "submit", "order_update").code == 0

    result = waba("template", "submit", "order_update")

    assert result.code == 2
    assert route.call_count == 1


def test_submit_failure_at_meta_is_exit_1_and_keeps_the_draft(waba: Any, draft: None, graph: Any) -> None:
    error = {"error": {"message": "Invalid parameter", "type": "OAuthException", "code": 100, "error_subcode": 2388019}}
    graph.post(TEMPLATES).respond(400, json=error)

    result = waba("template", "submit", "order_update")

    assert result.code == 1
    assert rows(waba)[0]["status"] == "DRAFT"


def test_create_with_a_media_header_uploads_the_example(
    waba: Any, account: dict[str, Any], graph: Any, tmp_path: Path
) -> None:
    (tmp_path / "banner.png").write_bytes(b"\x89PNG" + b"0" * 100)
    session = graph.post(f"/{APP}/uploads").respond(200, json={"id": "upload:MTphdHRhY2g"})
    upload = graph.post("/upload:MTphdHRhY2g").respond(200, json={"h": "4::aW1hZ2UvcG5n:ARb"})
    create = graph.post(TEMPLATES).respond(200, json={"id": "77", "status": "PENDING", "category": "MARKETING"})
    path = tmp_path / "promo.json"
    path.write_text(
        json.dumps(
            {
                "name": "promo",
                "category": "MARKETING",
                "language": "en",
                "header_file": "banner.png",
                "body_text": "Spring sale starts now.",
            }
        )
    )

    result = waba("template", "create", "--from-file", str(path), "--submit")

    assert result.code == 0, result.err
    assert session.calls.last.request.url.params["file_type"] == "image/png"
    assert session.calls.last.request.url.params["file_length"] == "104"
    assert upload.calls.last.request.headers["file_offset"] == "0"
    assert upload.calls.last.request.content == (tmp_path / "banner.png").read_bytes()
    assert body_of(create)["components"][0] == {
        "type": "HEADER",
        "format": "IMAGE",
        "example": {"header_handle": ["4::aW1hZ2UvcG5n:ARb"]},
    }


def test_create_refuses_a_missing_media_example_file(waba: Any, account: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "promo.json"
    path.write_text(
        json.dumps(
            {
                "name": "promo",
                "category": "MARKETING",
                "language": "en",
                "header_file": "gone.png",
                "body_text": "Sale.",
            }
        )
    )

    result = waba("template", "create", "--from-file", str(path))

    assert result.code == 2
    assert "gone.png does not exist" in result.err


# -- sync ------------------------------------------------------------------------------------------


def test_sync_reads_every_page_and_reconciles_drafts(waba: Any, draft: None, graph: Any) -> None:
    graph.get(TEMPLATES, params={"after": "p2"}).mock(
        return_value=listed(
            meta_template(
                "summer_sale", "30", "PAUSED", category="MARKETING", quality_score={"score": "RED", "date": 1}
            ),
            after="p3",
        )
    )
    graph.get(TEMPLATES, params={"after": "p3"}).mock(
        return_value=listed(meta_template("abandoned_cart", "40", "REJECTED", rejected_reason="INVALID_FORMAT"))
    )
    first = graph.get(TEMPLATES).mock(
        return_value=listed(
            meta_template("order_update", "10", quality_score={"score": "GREEN", "date": 1}),
            meta_template("welcome", "20"),
            after="p2",
        )
    )

    result = waba("template", "sync", "--json")

    assert result.code == 0, result.err
    assert result.json() == {
        "account": SEED_SETUP["name"],
        "fetched": 4,
        "added": 3,
        "updated": 1,
        "unchanged": 0,
        "status_changes": 1,
        "drafts_matched": 1,
        "gone": 0,
    }
    assert "quality_score" in first.calls[0].request.url.params["fields"]
    by_name = {t["name"]: t for t in rows(waba)}
    assert {n: (t["status"], t["id"], t["quality_score"]) for n, t in by_name.items()} == {
        "order_update": ("APPROVED", "10", "GREEN"),
        "welcome": ("APPROVED", "20", None),
        "summer_sale": ("PAUSED", "30", "RED"),
        "abandoned_cart": ("REJECTED", "40", None),
    }
    assert shown(waba, "abandoned_cart")["rejected_reason"] == "INVALID_FORMAT"
    assert [e["event"] for e in shown(waba, "order_update")["history"]] == ["DRAFT_SAVED", "APPROVED"]


def test_sync_records_status_quality_and_category_changes_as_history(
    waba: Any, account: dict[str, Any], graph: Any
) -> None:
    route = graph.get(TEMPLATES)
    route.mock(return_value=listed(meta_template("order_update", "10", quality_score={"score": "GREEN"})))
    assert waba("template", "sync").code == 0
    route.mock(
        return_value=listed(
            meta_template("order_update", "10", "PAUSED", category="MARKETING", quality_score={"score": "RED"})
        )
    )

    result = waba("template", "sync", "--json")

    assert (result.json()["updated"], result.json()["status_changes"]) == (1, 1)
    history = [(e["source"], e["event"], e["reason"]) for e in shown(waba, "order_update")["history"]]
    assert history == [
        ("sync", "APPROVED", None),
        ("sync", "PAUSED", None),
        ("sync", "CATEGORY_CHANGE", "UTILITY -> MARKETING"),
        ("sync", "QUALITY_CHANGE", "GREEN -> RED"),
    ]
    assert waba("template", "sync", "--json").json()["unchanged"] == 1


def test_sync_marks_templates_meta_no_longer_has_as_deleted(waba: Any, account: dict[str, Any], graph: Any) -> None:
    route = graph.get(TEMPLATES)
    route.mock(return_value=listed(meta_template("order_update", "10"), meta_template("welcome", "20")))
    assert waba("template", "sync").code == 0
    route.mock(return_value=listed(meta_template("order_update", "10")))

    assert waba("template", "sync", "--json").json()["gone"] == 1

    assert {t["name"]: t["status"] for t in rows(waba)} == {"order_update": "APPROVED", "welcome": "DELETED"}


# -- list, show, preview ---------------------------------------------------------------------------


@pytest.fixture
def synced(waba: Any, account: dict[str, Any], graph: Any) -> None:
    graph.get(TEMPLATES).mock(
        return_value=listed(
            meta_template("order_update", "10"),
            meta_template("summer_sale", "30", "PAUSED", category="MARKETING"),
            meta_template("order_update", "11", language="de"),
            meta_template(
                "welcome",
                "20",
                parameter_format="NAMED",
                components=[
                    {
                        "type": "BODY",
                        "text": "Hi {{first_name}}, welcome to {{shop}}!",
                        "example": {
                            "body_text_named_params": [
                                {"param_name": "first_name", "example": "Ana"},
                                {"param_name": "shop", "example": "Lucky Shrub"},
                            ]
                        },
                    }
                ],
            ),
        )
    )
    assert waba("template", "sync").code == 0


def test_list_filters_by_status_and_category_and_limits(waba: Any, synced: None) -> None:
    assert [t["name"] for t in rows(waba, "--status", "paused")] == ["summer_sale"]
    assert {t["name"] for t in rows(waba, "--category", "UTILITY")} == {"order_update", "welcome"}
    assert len(rows(waba, "--limit", "2")) == 2
    assert set(rows(waba)[0]) >= {"name", "language", "category", "status", "id"}


def test_list_prints_a_table_with_the_status(waba: Any, synced: None) -> None:
    result = waba("template", "list")

    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].split("\t")[:4] == ["NAME", "LANGUAGE", "CATEGORY", "STATUS"]
    assert "summer_sale\ten_US\tMARKETING\tPAUSED" in result.out


def test_show_asks_for_the_language_when_there_are_several(waba: Any, synced: None) -> None:
    result = waba("template", "show", "order_update")

    assert result.code == 2
    assert "2 languages (de, en_US)" in result.err
    assert shown(waba, "order_update", "--language", "de")["id"] == "11"


def test_show_unknown_template_is_exit_2(waba: Any, synced: None) -> None:
    result = waba("template", "show", "nope")

    assert result.code == 2
    assert "no template 'nope'" in result.err


def test_show_prints_components_preview_and_history(waba: Any, synced: None) -> None:
    result = waba("template", "show", "summer_sale")

    assert result.code == 0, result.err
    assert "Hi Ana, your order 8812 has shipped." in result.out
    assert "[ Track it ] https://example.com/track/8812" in result.out
    assert "PAUSED" in result.out


def test_preview_fills_positional_values_in_order(waba: Any, synced: None) -> None:
    result = waba("template", "preview", "summer_sale", "--param", "Bob", "--param", "1", "--param", "x1", "--json")

    assert result.code == 0, result.err
    assert result.json()["body"] == "Hi Bob, your order 1 has shipped."
    assert result.json()["buttons"] == [{"type": "URL", "text": "Track it", "target": "https://example.com/track/x1"}]


def test_preview_fills_named_values(waba: Any, synced: None) -> None:
    result = waba("template", "preview", "welcome", "--param", "shop=Acme", "--param", "first_name=Bo")

    assert result.code == 0, result.err
    assert result.out.strip() == "Hi Bo, welcome to Acme!"


def test_preview_refuses_the_wrong_number_of_values(waba: Any, synced: None) -> None:
    result = waba("template", "preview", "summer_sale", "--param", "Bob")

    assert result.code == 2
    assert "takes 3 value(s)" in result.err


# -- delete ----------------------------------------------------------------------------------------


def test_delete_one_language_sends_its_id_and_keeps_the_history(waba: Any, synced: None, graph: Any) -> None:
    route = graph.delete(TEMPLATES).respond(200, json={"success": True})

    result = waba("template", "delete", "order_update", "--language", "de", "--yes", "--json")

    assert result.code == 0, result.err
    assert query_of(route) == {"name": "order_update", "hsm_id": "11"}
    assert result.json()["deleted"] == [
        {"name": "order_update", "language": "de", "id": "11", "status": "APPROVED", "at_meta": True}
    ]
    assert shown(waba, "order_update", "--language", "de")["status"] == "DELETED"
    assert shown(waba, "order_update", "--language", "en_US")["status"] == "APPROVED"


def test_delete_every_language_by_name(waba: Any, synced: None, graph: Any) -> None:
    route = graph.delete(TEMPLATES).respond(200, json={"success": True})

    result = waba("template", "delete", "order_update", "--yes")

    assert result.code == 0, result.err
    assert query_of(route) == {"name": "order_update"}
    assert route.call_count == 1
    assert {t["language"]: t["status"] for t in rows(waba) if t["name"] == "order_update"} == {
        "de": "DELETED",
        "en_US": "DELETED",
    }


def test_delete_without_a_terminal_needs_yes(waba: Any, synced: None, graph: Any) -> None:
    route = graph.delete(TEMPLATES).respond(200, json={"success": True})

    result = waba("template", "delete", "welcome")

    assert result.code == 2
    assert "add --yes" in result.err
    assert not route.called


def test_delete_dry_run_sends_nothing(waba: Any, synced: None, graph: Any) -> None:
    route = graph.delete(TEMPLATES).respond(200, json={"success": True})

    result = waba("template", "delete", "welcome", "--dry-run")

    assert result.code == 0, result.err
    assert "DELETE" in result.out
    assert not route.called
    assert shown(waba, "welcome")["status"] == "APPROVED"


def test_delete_a_draft_only_removes_it_locally(waba: Any, draft: None, graph: Any) -> None:
    route = graph.delete(TEMPLATES).respond(200, json={"success": True})

    result = waba("template", "delete", "order_update", "--yes")

    assert result.code == 0, result.err
    assert not route.called
    assert rows(waba) == []


def test_delete_refuses_a_disabled_template(waba: Any, account: dict[str, Any], graph: Any) -> None:
    graph.get(TEMPLATES).mock(return_value=listed(meta_template("old_promo", "50", "DISABLED")))
    assert waba("template", "sync").code == 0
    route = graph.delete(TEMPLATES).respond(200, json={"success": True})

    result = waba("template", "delete", "old_promo", "--yes")

    assert result.code == 2
    assert "does not delete disabled templates" in result.err
    assert not route.called


def test_delete_dry_run_of_a_draft_prints_json_and_keeps_it(waba: Any, draft: None) -> None:
    result = waba("template", "delete", "order_update", "--dry-run", "--json")

    assert result.code == 0, result.err
    assert result.json()["dry_run"] is True
    assert [t["name"] for t in result.json()["local"]] == ["order_update"]
    assert len(rows(waba)) == 1


def test_sync_of_a_template_meta_lists_twice_keeps_one_row(waba: Any, account: dict[str, Any], graph: Any) -> None:
    graph.get(TEMPLATES).mock(
        return_value=listed(meta_template("order_update", "10"), meta_template("order_update", "10"))
    )

    result = waba("template", "sync", "--json")

    assert result.code == 0, result.err
    assert [t["name"] for t in rows(waba)] == ["order_update"]


def test_create_reports_an_example_file_under_an_unknown_home(waba: Any, account: dict[str, Any]) -> None:
    result = waba(
        "template", "create", "--name", "promo", "--category", "MARKETING",
        "--header-file", "~nosuchuser/banner.png", "--body", "Spring sale starts now.",
    )  # fmt: skip

    assert result.code == 2
    assert "banner.png does not exist" in result.err


def test_create_from_a_file_of_several_templates_points_to_apply(
    waba: Any, account: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "two.json"
    path.write_text(json.dumps([{"name": "a"}, {"name": "b"}]))

    result = waba("template", "create", "--from-file", str(path))

    assert result.code == 2
    assert "holds 2 templates" in result.err
    assert "waba template apply" in result.err


def test_create_from_flags_with_named_examples(waba: Any, account: dict[str, Any]) -> None:
    result = waba(
        "template", "create", "--name", "welcome", "--category", "MARKETING",
        "--body", "Hi {{first_name}}, use {{code}} for a discount today.",
        "--example", "code=SAVE20", "--example", "first_name=Ana",
    )  # fmt: skip

    assert result.code == 0, result.err
    assert waba("template", "preview", "welcome").out.strip() == "Hi Ana, use SAVE20 for a discount today."


def test_create_refuses_a_url_example_without_a_url_variable(waba: Any, account: dict[str, Any]) -> None:
    result = waba(
        "template", "create", "--name", "help_desk", "--category", "UTILITY",
        "--body", "Our help desk is open all week.", "--url-example", "8812",
    )  # fmt: skip

    assert result.code == 2
    assert "--url-example: 1 value(s) for no URL button with a variable" in result.err
    assert rows(waba) == []


def test_a_broken_upload_resumes_from_the_offset_meta_reports(
    waba: Any, account: dict[str, Any], graph: Any, tmp_path: Path, isolated: Path
) -> None:
    (isolated / "config.toml").write_text("[graph]\nmax_retries = 0\n")
    content = bytes(range(256)) * 4
    (tmp_path / "banner.jpg").write_bytes(content)
    graph.post(f"/{APP}/uploads").respond(200, json={"id": "upload:S1"})
    upload = graph.post("/upload:S1")
    upload.side_effect = [httpx.ConnectError("connection reset"), httpx.Response(200, json={"h": "4::resumed"})]
    graph.get("/upload:S1").respond(200, json={"id": "upload:S1", "file_offset": 600})
    create = graph.post(TEMPLATES).respond(200, json={"id": "78", "status": "PENDING"})

    result = waba(
        "template", "create", "--name", "promo", "--category", "MARKETING", "--header-file",
        str(tmp_path / "banner.jpg"), "--body", "Spring sale starts now.", "--submit",
    )  # fmt: skip

    assert result.code == 0, result.err
    resumed = upload.calls[1].request
    assert (resumed.headers["file_offset"], resumed.content) == ("600", content[600:])
    assert body_of(create)["components"][0]["example"] == {"header_handle": ["4::resumed"]}


def test_create_an_authentication_template_from_the_simple_form(
    waba: Any, account: dict[str, Any], graph: Any, tmp_path: Path
) -> None:
    path = tmp_path / "login_code.toml"
    path.write_text(
        'name = "login_code"\ncategory = "AUTHENTICATION"\nlanguage = "en_US"\n'
        "add_security_recommendation = true\ncode_expiration_minutes = 5\nmessage_send_ttl_seconds = 60\n"
        'buttons = ["OTP:Copy code"]\n'
    )
    create = graph.post(TEMPLATES).respond(200, json={"id": "90", "status": "PENDING", "category": "AUTHENTICATION"})

    result = waba("template", "create", "--from-file", str(path), "--submit")

    assert result.code == 0, result.err
    assert body_of(create) == {
        "name": "login_code",
        "language": "en_US",
        "category": "AUTHENTICATION",
        "parameter_format": "positional",
        "message_send_ttl_seconds": 60,
        "components": [
            {"type": "BODY", "add_security_recommendation": True},
            {"type": "FOOTER", "code_expiration_minutes": 5},
            {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}]},
        ],
    }
    preview = waba("template", "preview", "login_code", "--param", "481516").out
    assert preview.splitlines()[0] == "481516 is your verification code. For your security, do not share this code."


def test_list_refuses_a_malformed_status_or_an_unknown_category(waba: Any, account: Any) -> None:
    bad_status = waba("template", "list", "--status", "APPROVED;DROP")
    bad_category = waba("template", "list", "--category", "PROMO")

    assert (bad_status.code, bad_category.code) == (2, 2)
    assert "--status" in bad_status.err
    assert "--category" in bad_category.err
    assert "MARKETING, UTILITY, AUTHENTICATION" in bad_category.err
    assert waba("template", "list", "--status", "in_appeal").code == 0  # any word: Meta adds statuses
