"""The six setup steps: every key an account is set up with, its step, its check and its help line.

One definition for everything that asks for or accepts these values: the setup file parser
(`waba account setup --from-file`, `waba account update`) builds its model from ``FIELDS``, the
``Account`` table takes its column lengths from it, and the interactive wizard walks ``STEPS`` in
order, showing each field's help line and reading secrets with hidden input. A check takes the
value (converted to the field's ``type`` first, unless ``raw``) and returns it normalised, or raises
``ValueError`` saying what is expected. Cheap to import: plain data and functions, no pydantic.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import time
from typing import Any

from waba_cli.domain import validators as check

NAME_MAX = 100


@dataclass(frozen=True)
class Step:
    number: int
    name: str


STEPS = (
    Step(1, "Meta Business Account"),
    Step(2, "Phone Number"),
    Step(3, "Access Tokens"),
    Step(4, "Business Profile"),
    Step(5, "Bot Configuration"),
    Step(6, "Webhook Configuration"),
)


@dataclass(frozen=True)
class SetupField:
    """One setup key."""

    name: str
    step: int | None  # None: a local sending limit, outside the six steps (file and --set only)
    type: Any  # the Python type of the value: str, str | None, bool, int | None, time | None, list[str]
    help: str  # where in Meta's dashboard the value is found, or what it does
    check: Callable[[Any], Any] | None = None
    raw: bool = False  # the check sees the value as given, before it is converted to ``type``
    secret: bool = False  # stored encrypted, entered with hidden input, never printed
    required: bool = False
    default: Any = None  # a tuple stands for a list (each account gets its own copy)
    fixed: bool = False  # identifies the account or its first number: cannot be changed later
    max_length: int | None = None


# -- checks ------------------------------------------------------------------------------------


def _text(limit: int) -> Callable[[str | None], str | None]:
    def validate(value: str | None) -> str | None:
        if value is None:
            return None
        if len(value) > limit:
            raise ValueError(f"is {len(value)} characters long; the limit is {limit}")
        return value or None

    return validate


def _account_name(value: str) -> str:
    if not 1 <= len(value) <= NAME_MAX:
        raise ValueError(f"must be 1 to {NAME_MAX} characters")
    if value.isdigit():
        raise ValueError("must not be only digits (accounts are named by name or WABA id)")
    return value


def _graph_id(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return None if value is None else check.graph_id(str(value).strip())


def _app_secret(value: str) -> str:
    if not re.match(r"^[0-9a-fA-F]{32}$", value):
        raise ValueError("must be the app's 32-character hexadecimal secret (App settings > Basic)")
    return value


def _access_token(value: str) -> str:
    if not re.match(r"^[A-Za-z0-9_\-.|]{32,4096}$", value):
        raise ValueError("does not look like a Meta access token (32+ characters, no spaces)")
    return value


def _verify_token(value: str | None) -> str | None:
    if value is not None and not re.match(r"^\S{8,128}$", value):
        raise ValueError("must be 8 to 128 characters without spaces")
    return value


def _email(value: str | None) -> str | None:
    return check.email(value) if value else None


def _vertical(value: str | None) -> str | None:
    return check.vertical(value)[0] if value else None


def _hours(value: Any) -> Any:
    if value is None or value == "":
        return None
    if not isinstance(value, str | time):
        raise ValueError("must be a time of day as HH:MM or HH:MM:SS")  # noqa: TRY004 - pydantic wants ValueError
    return check.hours(value)


def _webhook_url(value: str | None) -> str | None:
    return check.https_url(value, max_length=200) if value else None


def _webhook_fields(value: list[str]) -> list[str]:
    return check.webhook_fields(value)[0]


def _limit(value: int | None) -> int | None:
    if value is not None and value < 1:
        raise ValueError("must be a positive whole number (leave it out for no limit)")
    return value


# -- the fields, step by step ------------------------------------------------------------------


def _id(name: str, step: int, help_line: str, *, required: bool = True, fixed: bool = False) -> SetupField:
    return SetupField(
        name,
        step,
        str if required else str | None,
        help_line,
        _graph_id,
        raw=True,
        required=required,
        fixed=fixed,
        max_length=check.GRAPH_ID_MAX,
    )


def _free_text(name: str, step: int, limit: int, help_line: str) -> SetupField:
    return SetupField(name, step, str | None, help_line, _text(limit), max_length=limit)


def _hour(name: str, help_line: str) -> SetupField:
    return SetupField(name, 5, time | None, help_line, _hours, raw=True)


def _limit_field(name: str, help_line: str) -> SetupField:
    return SetupField(name, None, int | None, help_line, _limit)


FIELDS: tuple[SetupField, ...] = (
    # step 1: Meta Business Account
    SetupField(
        "name",
        1,
        str,
        "a name for this account in waba, of your choosing (not only digits)",
        _account_name,
        required=True,
        max_length=NAME_MAX,
    ),
    _id("waba_id", 1, "WhatsApp Business Account ID: App Dashboard > WhatsApp > API Setup", fixed=True),
    _id(
        "meta_business_account_id",
        1,
        "business portfolio ID: Business Settings > Business info",
        required=False,
    ),
    _id("app_id", 1, "App ID: App Dashboard > App settings > Basic"),
    SetupField(
        "app_secret",
        1,
        str,
        "App secret: App Dashboard > App settings > Basic (Show)",
        _app_secret,
        secret=True,
        required=True,
    ),
    # step 2: Phone Number
    _id("phone_number_id", 2, "Phone number ID: App Dashboard > WhatsApp > API Setup", fixed=True),
    SetupField(
        "phone_number",
        2,
        str,
        "the business number with its country code (+15551234567): WhatsApp Manager > Phone numbers",
        check.phone_number,
        required=True,
        fixed=True,
        max_length=20,
    ),
    SetupField(
        "display_phone_number",
        2,
        str | None,
        "the number as Meta shows it (default: formatted from phone_number)",
        _text(32),
        fixed=True,
        max_length=32,
    ),
    # step 3: Access Tokens
    SetupField(
        "access_token",
        3,
        str,
        "a system-user token: Business Settings > Users > System users > Generate new token "
        "(whatsapp_business_management, whatsapp_business_messaging)",
        _access_token,
        secret=True,
        required=True,
    ),
    SetupField(
        "webhook_verify_token",
        3,
        str | None,
        "of your choosing (8-128 characters), Meta sends it back when it checks the webhook: "
        "App Dashboard > WhatsApp > Configuration > Verify token",
        _verify_token,
        secret=True,
    ),
    # step 4: Business Profile
    _free_text(
        "business_name",
        4,
        100,
        "the business's name as customers know it (its display name: WhatsApp Manager)",
    ),
    _free_text("business_description", 4, 256, "the profile's description: WhatsApp Manager > Phone numbers > Profile"),
    SetupField(
        "business_email",
        4,
        str | None,
        "the profile's contact e-mail: WhatsApp Manager > Phone numbers > Profile",
        _email,
    ),
    SetupField(
        "business_vertical",
        4,
        str | None,
        f"the profile's category, one of Meta's verticals ({', '.join(check.VERTICALS)})",
        _vertical,
    ),
    _free_text("business_address", 4, 256, "the profile's address: WhatsApp Manager > Phone numbers > Profile"),
    # step 5: Bot Configuration
    SetupField("enable_auto_reply", 5, bool, "answer inbound messages automatically (serve-webhook)", default=False),
    SetupField("use_knowledge_base", 5, bool, "answer from a knowledge base of questions", default=False),
    _free_text("greeting_message", 5, 4096, "the auto-reply to a contact's first message"),
    _free_text("fallback_message", 5, 4096, "the auto-reply when nothing else answers"),
    _free_text("out_of_hours_message", 5, 4096, "the auto-reply outside business hours"),
    SetupField("knowledge_base_path", 5, str | None, "the knowledge base: a .toml or .csv file of questions"),
    SetupField("enable_business_hours", 5, bool, "answer with out_of_hours_message outside the hours", default=False),
    _hour("business_hours_start", "when business hours start, HH:MM (in business_timezone)"),
    _hour("business_hours_end", "when business hours end, HH:MM (in business_timezone)"),
    SetupField(
        "business_timezone",
        5,
        str,
        "the IANA time zone of the hours and of the daily and monthly limits (Europe/Berlin)",
        check.timezone,
        default="UTC",
    ),
    # step 6: Webhook Configuration
    SetupField(
        "webhook_url",
        6,
        str | None,
        "the public https URL Meta posts events to: App Dashboard > WhatsApp > Configuration > Callback URL",
        _webhook_url,
        max_length=200,
    ),
    SetupField(
        "subscribed_webhook_events",
        6,
        list[str],
        "the webhook fields to subscribe to: App Dashboard > WhatsApp > Configuration > Webhook fields",
        _webhook_fields,
        default=check.DEFAULT_WEBHOOK_FIELDS,
    ),
    # local sending limits, counted in business_timezone (absent = no limit)
    _limit_field("daily_limit", "at most this many messages a day"),
    _limit_field("monthly_limit", "at most this many messages a month"),
    _limit_field("per_minute_limit", "at most this many messages a minute"),
)
BY_NAME: Mapping[str, SetupField] = {f.name: f for f in FIELDS}
SECRET_KEYS = tuple(f.name for f in FIELDS if f.secret)
UPDATABLE = tuple(f.name for f in FIELDS if not f.secret and not f.fixed)


def fields_of(step: int) -> tuple[SetupField, ...]:
    """The fields of step ``step`` (1 to 6), in the order they are asked."""
    return tuple(f for f in FIELDS if f.step == step)


def check_together(values: Mapping[str, Any]) -> None:
    """The rules across fields; the ``ValueError``'s first word names the field to fix."""
    start, end = values.get("business_hours_start"), values.get("business_hours_end")
    if values.get("enable_business_hours"):
        if start is None or end is None:
            raise ValueError("business_hours_start and business_hours_end are needed with enable_business_hours")
        if start == end:
            raise ValueError("business_hours_start and business_hours_end must differ")
    daily, monthly = values.get("daily_limit"), values.get("monthly_limit")
    if daily and monthly and daily > monthly:
        raise ValueError("daily_limit cannot be larger than monthly_limit")
