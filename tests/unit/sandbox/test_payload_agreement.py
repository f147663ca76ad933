"""waba's message builders and the sandbox agree: whatever `waba send` builds without a local
complaint, the sandbox (Meta's checks) accepts; what the sandbox would refuse, waba refuses first.

The inputs are mostly messages an operator would send, with texts, titles and counts up to and just
past Meta's limits, where waba must refuse. An input waba refuses is not a message to send: it is
discarded (``reject``), and Hypothesis fails the test when it can hardly find one that waba builds,
so a builder that refuses everything cannot pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from tests.support.sandbox import post_message
from waba_cli.domain import payloads
from waba_cli.errors import ValidationError
from waba_cli.sandbox.core import Sandbox
from waba_cli.sandbox.fixtures import seed_state
from waba_cli.sandbox.runtime import Options

SANDBOX = Sandbox(seed_state(), Options(bench=True))
short = st.text(min_size=0, max_size=30)


def texts(limit: int) -> st.SearchStrategy[str]:
    """Short texts (the empty one among them), or texts within a few characters of ``limit``."""
    return st.text(max_size=40) | st.text(min_size=limit - 8, max_size=limit + 8)


def up_to(limit: int) -> st.SearchStrategy[str]:
    """A title or label of 1 to ``limit`` characters, or one or two more."""
    return st.text(min_size=1, max_size=limit + 2)


def _accepted(kind: str, body: dict[str, Any]) -> tuple[int, Any]:
    return post_message(SANDBOX, payloads.envelope("+15551230901", kind, body))


def _check(build: Callable[[], tuple[str, dict[str, Any]]]) -> None:
    try:
        kind, body = build()
    except ValidationError:
        reject()
    status, answer = _accepted(kind, body)
    assert status == 200, (body, answer)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts(payloads.TEXT_MAX), st.booleans())
def test_texts_waba_builds_are_accepted(body: str, preview: bool) -> None:
    _check(lambda: ("text", payloads.text(body, preview_url=preview)))


button_ids = st.text(st.characters(exclude_characters=":"), min_size=1, max_size=12)
buttons = st.lists(
    st.tuples(button_ids, up_to(payloads.BUTTON_TITLE_MAX)).map(":".join),
    min_size=1,
    max_size=4,
    unique_by=lambda spec: spec.partition(":")[0],
)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts(payloads.BUTTON_BODY_MAX), buttons, st.none() | short, st.none() | short)
def test_reply_buttons_waba_builds_are_accepted(
    body: str, chosen: list[str], header: str | None, footer: str | None
) -> None:
    _check(lambda: ("interactive", payloads.reply_buttons(body, chosen, header=header, footer=footer)))


rows = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=12), "title": up_to(payloads.ROW_TITLE_MAX)},
    optional={"description": up_to(payloads.ROW_DESCRIPTION_MAX)},
)
section_rows = st.lists(rows, min_size=1, max_size=4)
sections = st.lists(  # several sections need titles; one may go without
    st.fixed_dictionaries({"title": up_to(payloads.SECTION_TITLE_MAX), "rows": section_rows}), min_size=1, max_size=3
) | st.fixed_dictionaries({"rows": section_rows}).map(lambda section: [section])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts(payloads.LIST_BODY_MAX), up_to(payloads.LIST_BUTTON_MAX), sections)
def test_lists_waba_builds_are_accepted(body: str, button: str, chosen: list[dict[str, Any]]) -> None:
    _check(lambda: ("interactive", payloads.list_message({"button": button, "sections": chosen}, body=body)))


urls = st.sampled_from(
    [
        "https://shop.example.com/x",
        "http://a.example",
        "https://b.example/t?id=8812",
        "https://c.example/",
        "ftp://x",
        "shop",
    ]
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts(payloads.BUTTON_BODY_MAX), up_to(payloads.CTA_TEXT_MAX), urls)
def test_cta_urls_waba_builds_are_accepted(body: str, display: str, url: str) -> None:
    _check(lambda: ("interactive", payloads.cta_url(body, display, url)))
