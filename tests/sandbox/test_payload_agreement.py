"""waba's message builders and the sandbox agree: whatever `waba send` builds without a local
complaint, the sandbox (Meta's checks) accepts; what the sandbox would refuse, waba refuses first."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sandbox.conftest import post_message
from waba_cli.errors import ValidationError
from waba_cli.sandbox.api import Options, Sandbox
from waba_cli.sandbox.fixtures import seed_state
from waba_cli.services import payloads

SANDBOX = Sandbox(seed_state(), Options(bench=True))
texts = st.text(min_size=0, max_size=40) | st.text(min_size=1000, max_size=4200)
short = st.text(min_size=0, max_size=30)


def _accepted(kind: str, body: dict[str, Any]) -> tuple[int, Any]:
    return post_message(SANDBOX, payloads.envelope("+15551230901", kind, body))


def _check(build: Any) -> None:
    try:
        kind, body = build()
    except ValidationError:
        return
    status, answer = _accepted(kind, body)
    assert status == 200, (body, answer)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, st.booleans())
def test_texts_waba_builds_are_accepted(body: str, preview: bool) -> None:
    _check(lambda: ("text", payloads.text(body, preview_url=preview)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts, st.lists(st.tuples(short, short).map(":".join), min_size=0, max_size=4), st.none() | short, st.none() | short
)
def test_reply_buttons_waba_builds_are_accepted(
    body: str, buttons: list[str], header: str | None, footer: str | None
) -> None:
    _check(lambda: ("interactive", payloads.reply_buttons(body, buttons, header=header, footer=footer)))


rows = st.fixed_dictionaries({"id": short, "title": short}, optional={"description": st.text(max_size=80)})
sections = st.fixed_dictionaries({"rows": st.lists(rows, min_size=0, max_size=4)}, optional={"title": short})


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, short, st.lists(sections, min_size=0, max_size=4))
def test_lists_waba_builds_are_accepted(body: str, button: str, chosen: list[dict[str, Any]]) -> None:
    _check(lambda: ("interactive", payloads.list_message({"button": button, "sections": chosen}, body=body)))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, short, st.sampled_from(["https://shop.example.com/x", "http://a.example", "ftp://x", "shop"]))
def test_cta_urls_waba_builds_are_accepted(body: str, display: str, url: str) -> None:
    _check(lambda: ("interactive", payloads.cta_url(body, display, url)))
