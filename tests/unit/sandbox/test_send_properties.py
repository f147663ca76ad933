"""Whatever a client posts to /messages, the sandbox answers like Graph: an accepted message or
Meta's error envelope with a 4xx code, never a crash (a 500 would hide a bug in the checks)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.sandbox import post_message
from waba_cli.sandbox.core import Sandbox
from waba_cli.sandbox.fixtures import seed_state
from waba_cli.sandbox.rules.messages import MESSAGE_TYPES
from waba_cli.sandbox.runtime import Options

SANDBOX = Sandbox(seed_state(), Options(bench=True))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
keys = st.sampled_from(
    [
        "to",
        "type",
        "text",
        "template",
        "interactive",
        "image",
        "location",
        "contacts",
        "reaction",
        "context",
        "recipient_type",
    ]
)
bodies = st.fixed_dictionaries(
    {"messaging_product": st.just("whatsapp")},
    optional={
        "to": st.one_of(st.just("+15551230801"), st.text(max_size=16), st.integers()),
        "type": st.sampled_from([*MESSAGE_TYPES, "fax", ""]),
    },
).flatmap(lambda base: st.dictionaries(keys, json_values, max_size=4).map(lambda extra: {**extra, **base}))
nested = st.sampled_from(MESSAGE_TYPES).flatmap(
    lambda kind: st.dictionaries(
        st.sampled_from(
            ["body", "name", "language", "components", "type", "action", "id", "link", "latitude", "emoji"]
        ),
        json_values,
        max_size=5,
    ).map(lambda content: {"messaging_product": "whatsapp", "to": "+15551230802", "type": kind, kind: content})
)


def _post(body: dict[str, Any]) -> tuple[int, Any]:
    return post_message(SANDBOX, body)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(bodies, nested))
def test_any_send_body_gets_an_answer_or_a_meta_error(body: dict[str, Any]) -> None:
    status, answer = _post(body)
    if status == 200:
        assert answer["messages"][0]["id"].startswith("wamid.")
        return
    error = answer["error"]
    assert 400 <= status < 500, error
    assert isinstance(error["code"], int)
    assert error["message"]
