"""A Flow completion's answers: the token taken out, nested answers under dotted names, lists joined."""

from __future__ import annotations

import json
from typing import Any

from waba_cli.domain.flow_responses import columns_of, completion_of, flatten


def _message(response_json: Any, kind: str = "nfm_reply") -> dict[str, Any]:
    return {
        "type": "interactive",
        "interactive": {"type": kind, kind: {"name": "flow", "response_json": response_json}},
    }


def test_the_token_is_taken_out_of_the_answers() -> None:
    found = completion_of(_message(json.dumps({"flow_token": "t-1", "slot": "10:30"})))
    assert found is not None
    assert (found.flow_token, found.data) == ("t-1", {"slot": "10:30"})


def test_no_token_and_odd_response_json_are_kept() -> None:
    assert completion_of(_message('{"a": 1}')) == completion_of(_message({"a": 1}))
    odd = completion_of(_message("not json"))
    assert odd is not None and (odd.flow_token, odd.data) == (None, {"response_json": "not json"})
    assert completion_of(_message("[1, 2]")) is not None


def test_other_messages_are_not_completions() -> None:
    assert completion_of(_message("{}", kind="button_reply")) is None
    assert completion_of({"type": "text", "text": {"body": "hi"}}) is None


def test_flatten_uses_dotted_names_and_joins_lists() -> None:
    data = {
        "address": {"city": "São Paulo", "geo": {"lat": -23.5}},
        "extras": ["parking", "café"],
        "people": [{"name": "Ana"}, {"name": "Bea"}],
        "consent": False,
        "note": None,
    }
    assert flatten(data) == {
        "address.city": "São Paulo",
        "address.geo.lat": "-23.5",
        "extras": "parking, café",
        "people.0.name": "Ana",
        "people.1.name": "Bea",
        "consent": "false",
        "note": "",
    }


def test_columns_are_every_field_in_the_order_first_seen() -> None:
    assert columns_of([{"b": "1", "a": "2"}, {"c": "3", "a": "4"}]) == ["b", "a", "c"]
