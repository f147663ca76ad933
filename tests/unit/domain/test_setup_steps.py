"""The one definition of the setup steps agrees with the spec's six steps and with the tables that store them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import String

from waba_cli.db.models.accounts import Account, PhoneNumber
from waba_cli.domain import setup_steps as steps

# the 6-step setup wizard of the command-line contract, step by step
SPEC_STEPS = {
    1: ("Meta Business Account", ["name", "waba_id", "meta_business_account_id", "app_id", "app_secret"]),
    2: ("Phone Number", ["phone_number_id", "phone_number", "display_phone_number"]),
    3: ("Access Tokens", ["access_token", "webhook_verify_token"]),
    4: (
        "Business Profile",
        ["business_name", "business_description", "business_email", "business_vertical", "business_address"],
    ),
    5: (
        "Bot Configuration",
        [
            "enable_auto_reply",
            "use_knowledge_base",
            "greeting_message",
            "fallback_message",
            "enable_business_hours",
            "business_hours_start",
            "business_hours_end",
            "business_timezone",
        ],
    ),
    6: ("Webhook Configuration", ["webhook_url", "subscribed_webhook_events"]),
}
SPEC_REQUIRED = {"name", "waba_id", "app_id", "app_secret", "phone_number_id", "phone_number", "access_token"}


def test_the_six_steps_hold_the_spec_fields_in_order() -> None:
    assert [(s.number, s.name) for s in steps.STEPS] == [(n, name) for n, (name, _) in SPEC_STEPS.items()]
    for number, (_, names) in SPEC_STEPS.items():
        asked = [f.name for f in steps.fields_of(number)]
        assert [n for n in asked if n in names] == names
    ordered = [f.step for f in steps.FIELDS if f.step is not None]
    assert ordered == sorted(ordered)
    assert {f.name for f in steps.FIELDS if f.required} == SPEC_REQUIRED
    assert {f.name for f in steps.FIELDS if f.step is None} == {"daily_limit", "monthly_limit", "per_minute_limit"}


def test_every_field_has_a_help_line_and_secrets_are_marked() -> None:
    assert all(f.help.strip() for f in steps.FIELDS)
    assert steps.SECRET_KEYS == ("app_secret", "access_token", "webhook_verify_token")


def _column(model: Any, name: str) -> Any:
    return model.__table__.columns[name]


@pytest.mark.parametrize("field", steps.FIELDS, ids=lambda f: f.name)
def test_the_tables_store_every_field_with_its_length(field: steps.SetupField) -> None:
    model = PhoneNumber if field.step == 2 else Account
    column = _column(model, f"{field.name}_enc" if field.secret else field.name)
    if isinstance(column.type, String) and column.type.length is not None:
        assert column.type.length == field.max_length
    if field.required:
        assert not column.nullable
    elif field.default is None:
        assert column.nullable
