"""waba's own template validator and the sandbox agree: a template that `waba template validate`
passes is one the sandbox accepts for review (else `template submit` would fail only in the demo
or in end-to-end tests, for reasons the operator was never told)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.sandbox import call
from waba_cli.domain.templates.forms import to_request
from waba_cli.domain.templates.rules import validate
from waba_cli.sandbox.core import Sandbox
from waba_cli.sandbox.fixtures import WABA_ID, seed_state
from waba_cli.sandbox.runtime import Options

words = st.lists(
    st.sampled_from(["your", "order", "is", "ready", "thanks", "for", "shopping", "$24.90", "today,", "we", "ship"]),
    min_size=1,
    max_size=6,
).map(" ".join)


@st.composite
def simple_templates(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(min_value=0, max_value=3))
    pieces = [draw(words)]
    for number in range(1, count + 1):
        pieces += [f"{{{{{number}}}}}", draw(words)]
    template: dict[str, Any] = {
        "name": draw(st.from_regex(r"[a-z][a-z0-9_]{2,20}", fullmatch=True)),
        "category": draw(st.sampled_from(["UTILITY", "MARKETING"])),
        "language": "en_US",
        "body_text": " ".join(pieces) + draw(st.sampled_from(["", ".", "!"])),
    }
    if count:
        template["examples"] = [draw(st.sampled_from(["Ana", "8812", "Friday"])) for _ in range(count)]
    if draw(st.booleans()):
        if draw(st.booleans()):
            template["header_text"] = f"{draw(words)} {{{{1}}}} {draw(words)}"[:60]
            template["header_example"] = "Ana"
        else:
            template["header_text"] = draw(words)[:60]
    if draw(st.booleans()):
        template["footer_text"] = draw(words)[:60]
    if draw(st.booleans()):
        template["buttons"] = draw(
            st.lists(
                st.sampled_from(["QUICK_REPLY:Stop", "QUICK_REPLY:More", "URL:Track:https://shop.example.com/t"]),
                min_size=1,
                max_size=3,
                unique=True,
            )
        )
    return template


def _create(request: dict[str, Any]) -> tuple[int, Any]:
    sandbox = Sandbox(seed_state(), Options())  # a fresh world: names never collide
    sandbox.later = lambda *_args: None  # type: ignore[method-assign]  # no review: no running server
    return call(sandbox, "POST", f"{WABA_ID}/message_templates", request)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(simple_templates())
def test_a_template_waba_validates_is_accepted_by_the_sandbox(template: dict[str, Any]) -> None:
    converted = to_request(template)
    errors = [v for v in [*converted.violations, *validate(converted.request)] if v.is_error]
    if errors:
        return
    status, answer = _create(converted.request)
    assert status == 200, (converted.request, answer)
    assert answer["status"] == "PENDING"
