"""The local Flow JSON checks: one test per rule, and what a valid flow teaches (first screen, versions)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from waba_cli.domain.flow_json import RULES, check_categories, check_flow_json


def flow(**overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "version": "7.1",
        "screens": [
            {
                "id": "WELCOME",
                "title": "Welcome",
                "layout": {
                    "type": "SingleColumnLayout",
                    "children": [
                        {"type": "TextBody", "text": "Hello"},
                        {
                            "type": "Footer",
                            "label": "Next",
                            "on-click-action": {"name": "navigate", "next": {"type": "screen", "name": "DONE"}},
                        },
                    ],
                },
            },
            {
                "id": "DONE",
                "terminal": True,
                "layout": {
                    "type": "SingleColumnLayout",
                    "children": [
                        {"type": "TextInput", "name": "email", "label": "E-mail"},
                        {"type": "Footer", "label": "Send", "on-click-action": {"name": "complete", "payload": {}}},
                    ],
                },
            },
        ],
    }
    document.update(overrides)
    return document


def rules_of(document: Any, **options: Any) -> list[str]:
    text = document if isinstance(document, str) else json.dumps(document, indent=2)
    return [p.rule for p in check_flow_json(text, **options).problems]


def test_a_valid_flow_passes_and_names_its_first_screen() -> None:
    check = check_flow_json(json.dumps(flow()))
    assert check.ok
    assert (check.version, check.first_screen, check.screens, check.exchanges_data) == (
        "7.1",
        "WELCOME",
        ("WELCOME", "DONE"),
        False,
    )


def test_json_syntax_error_gives_line_and_column() -> None:
    problem = check_flow_json('{\n  "version": "7.1",\n  "screens": [,]\n}').problems[0]
    assert (problem.rule, problem.line, problem.column) == ("json-syntax", 3, 15)
    assert "line 3, column 15" in problem.where()


def test_json_object_rule() -> None:
    assert rules_of("[1, 2]") == ["json-object"]


@pytest.mark.parametrize("version", [None, "1.0", "9.9"])
def test_version_rule(version: str | None) -> None:
    assert "version" in rules_of(flow(version=version) if version else {"screens": flow()["screens"]})


def test_version_problem_points_at_the_version_line() -> None:
    problem = check_flow_json(json.dumps(flow(version="1.0"), indent=2)).problems[0]
    assert (problem.rule, problem.path, problem.line) == ("version", "version", 2)


def test_screens_rule() -> None:
    assert rules_of(flow(screens=[])) == ["screens"]


def test_screen_id_rule() -> None:
    document = flow()
    document["screens"][0]["id"] = "welcome-1"
    assert "screen-id" in rules_of(document)


def test_duplicate_screen_id_rule() -> None:
    document = flow()
    document["screens"][1]["id"] = "WELCOME"
    assert "duplicate-screen-id" in rules_of(document)


def test_terminal_screen_rule() -> None:
    document = flow()
    document["screens"][1]["terminal"] = False
    assert rules_of(document) == ["terminal-screen"]


def test_routing_model_screen_rule() -> None:
    assert rules_of(flow(routing_model={"WELCOME": ["NOWHERE"], "DONE": []})) == ["routing-model-screen"]


def test_routing_model_cycle_rule() -> None:
    problems = check_flow_json(json.dumps(flow(routing_model={"WELCOME": ["DONE"], "DONE": ["WELCOME"]}))).problems
    assert [p.rule for p in problems] == ["routing-model-cycle"]
    assert "WELCOME -> DONE -> WELCOME" in problems[0].message


def test_navigate_screen_rule() -> None:
    document = flow()
    document["screens"][0]["layout"]["children"][1]["on-click-action"]["next"]["name"] = "GONE"
    assert rules_of(document) == ["navigate-screen"]


def test_data_exchange_needs_data_api_version_routing_model_and_endpoint() -> None:
    document = flow()
    document["screens"][0]["layout"]["children"][1]["on-click-action"] = {"name": "data_exchange", "payload": {}}
    assert rules_of(document) == ["data-api-version", "routing-model-required", "endpoint-required"]
    complete = flow(data_api_version="3.0", routing_model={"WELCOME": ["DONE"], "DONE": []})
    complete["screens"][0]["layout"]["children"][1]["on-click-action"] = {"name": "data_exchange", "payload": {}}
    assert rules_of(complete, endpoint_uri="https://flows.example.com/endpoint") == []
    assert check_flow_json(json.dumps(complete), endpoint_uri="https://x.example").exchanges_data


def test_data_api_version_rule_for_unknown_versions() -> None:
    document = flow(data_api_version="9.0", routing_model={"WELCOME": ["DONE"], "DONE": []})
    assert rules_of(document, endpoint_uri="https://x.example") == ["data-api-version"]


def test_component_property_rule_reaches_nested_components() -> None:
    document = flow()
    document["screens"][1]["layout"]["children"].insert(
        0, {"type": "Form", "name": "form", "children": [{"type": "Dropdown", "name": "slot", "label": "Slot"}]}
    )
    problems = check_flow_json(json.dumps(document)).problems
    assert [(p.rule, p.path) for p in problems] == [("component-property", "screens[1].layout.children[0].children[0]")]
    assert "data-source" in problems[0].message


def test_every_rule_has_a_test() -> None:
    tested = {name.removeprefix("test_").removesuffix("_rule").replace("_", "-") for name in globals()}
    assert {rule for rule in RULES if rule not in tested} <= {
        "json-syntax",
        "data-api-version",
        "routing-model-required",
        "endpoint-required",
        "component-property",
    }


def test_categories_are_meta_s() -> None:
    assert check_categories(["survey", " Sign_Up "]) == ["SURVEY", "SIGN_UP"]
    assert check_categories([]) == ["OTHER"]
    with pytest.raises(ValueError, match="BOOKING"):
        check_categories(["BOOKING"])
