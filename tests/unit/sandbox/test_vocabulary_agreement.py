"""The vocabulary the sandbox copies from Meta agrees with waba's own copy.

The sandbox stands in for Meta and imports nothing from waba's services, so Meta's lists and limits
(verticals, MIME types and sizes, message and template limits, categories, button kinds, webhook
fields, node fields) are written twice. These tests read both copies: when one side learns a new
value from Meta's reference, they fail until the other side has it too.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

import waba_cli.sandbox
from tests.support.sandbox import call
from waba_cli.domain import payloads
from waba_cli.domain import validators as validation
from waba_cli.domain.templates import rules as waba_template_rules
from waba_cli.graph import api as graph_api
from waba_cli.sandbox.core import Sandbox
from waba_cli.sandbox.endpoints import media, uploads
from waba_cli.sandbox.fixtures import PHONE_NUMBER_ID, WABA_ID, seed_state
from waba_cli.sandbox.rules import messages as send_rules
from waba_cli.sandbox.rules import profile
from waba_cli.sandbox.rules import templates as template_rules
from waba_cli.sandbox.rules.template_sends import SENDABLE_TEMPLATE_STATUSES
from waba_cli.sandbox.runtime import Options
from waba_cli.services.messaging import rules as sending_rules


def test_business_verticals_agree() -> None:
    assert profile.VERTICALS == validation.VERTICALS
    assert set(validation.VERTICAL_ALIASES.values()) <= set(profile.VERTICALS)


def test_media_types_and_size_limits_agree() -> None:
    waba_limits = {mime: limit for mimes, limit in payloads.MEDIA_LIMITS.values() for mime in mimes}
    assert waba_limits == media.MEDIA_LIMITS
    assert set(send_rules.MEDIA_TYPES) == set(payloads.MEDIA_LIMITS) == set(payloads.MEDIA_KINDS)


def test_every_file_type_waba_uploads_for_a_template_header_is_one_the_sandbox_takes() -> None:
    assert set(waba_template_rules.UPLOAD_TYPES.values()) <= set(uploads.UPLOAD_TYPES)


@pytest.mark.parametrize(
    "name",
    [
        "TEXT_MAX",
        "CAPTION_MAX",
        "HEADER_TEXT_MAX",
        "FOOTER_MAX",
        "BUTTON_BODY_MAX",
        "BUTTON_ID_MAX",
        "BUTTON_TITLE_MAX",
        "LIST_BODY_MAX",
        "LIST_BUTTON_MAX",
        "LIST_SECTIONS_MAX",
        "LIST_ROWS_MAX",
        "SECTION_TITLE_MAX",
        "ROW_ID_MAX",
        "ROW_TITLE_MAX",
        "ROW_DESCRIPTION_MAX",
        "CTA_TEXT_MAX",
        "FLOW_CTA_MAX",
        "CALLBACK_DATA_MAX",
    ],
)
def test_message_limits_agree(name: str) -> None:
    assert getattr(send_rules, name) == getattr(payloads, name)


def test_sendable_template_statuses_agree() -> None:
    assert set(SENDABLE_TEMPLATE_STATUSES) == sending_rules.SENDABLE_TEMPLATE_STATUSES


@pytest.mark.parametrize(
    "name",
    [
        "CATEGORIES",
        "PARAMETER_FORMATS",
        "HEADER_FORMATS",
        "BUTTON_TYPES",
        "SPECIALISED_BUTTONS",
        "OTP_TYPES",
        "NAME_MAX",
        "HEADER_MAX",
        "BODY_MAX",
        "FOOTER_MAX",
        "BUTTON_TEXT_MAX",
        "URL_MAX",
        "PHONE_MAX",
        "COPY_CODE_MAX",
        "BUTTONS_MAX",
        "URL_BUTTONS_MAX",
        "CODE_EXPIRATION",
        "TTL_MAX",
    ],
)
def test_template_vocabulary_and_limits_agree(name: str) -> None:
    assert getattr(template_rules, name) == getattr(waba_template_rules, name)


def test_template_header_kinds_waba_sends_are_header_formats() -> None:
    assert {kind.upper() for kind in payloads.HEADER_MEDIA_KINDS} <= set(template_rules.HEADER_FORMATS)
    assert set(waba_template_rules.MEDIA_FORMATS) <= set(template_rules.HEADER_FORMATS)


def test_every_template_language_waba_knows_is_one_the_sandbox_accepts() -> None:
    refused = sorted(code for code in waba_template_rules.LANGUAGES if not template_rules.LANGUAGE_CODE.match(code))
    assert refused == []


def _fields_the_sandbox_sends() -> set[str]:
    """The webhook fields named where the sandbox emits (``emit_management(waba, FIELD, ...)``,
    ``emitter.emit(url, waba, FIELD, ...)``) or subscribes (``{"fields": "a,b"}``): read from its
    source, so that a new emitter is covered without anyone listing it here."""
    found: set[str] = set()
    for path in Path(waba_cli.sandbox.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict):  # a subscription's {"fields": "a,b"}
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "fields" and isinstance(value, ast.Constant):
                        found.update(str(value.value).split(","))
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            position = {"emit_management": 1, "emit": 2}.get(node.func.attr)
            if position is not None and len(node.args) > position:
                argument = node.args[position]
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    found.add(argument.value)
    return found


def test_the_webhook_fields_the_sandbox_sends_are_fields_waba_knows() -> None:
    sent = _fields_the_sandbox_sends()
    assert {"messages", "message_template_status_update", "flows"} <= sent  # the source scan finds them
    assert sent <= set(validation.WEBHOOK_FIELDS)


def _get(path: str, fields: tuple[str, ...]) -> tuple[int, Any]:
    return call(Sandbox(seed_state(), Options()), "GET", path, fields=",".join(fields))


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        (WABA_ID, graph_api.WABA_FIELDS),
        (PHONE_NUMBER_ID, graph_api.PHONE_NUMBER_FIELDS),
        (f"{PHONE_NUMBER_ID}/whatsapp_business_profile", graph_api.BUSINESS_PROFILE_FIELDS),
        (next(iter(seed_state().templates)), graph_api.TEMPLATE_FIELDS),
    ],
)
def test_the_sandbox_serves_every_field_waba_asks_graph_for(path: str, fields: tuple[str, ...]) -> None:
    status, answer = _get(path, fields)
    assert status == 200, answer
