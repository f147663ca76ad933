"""Validators for values operators type: ids, phone numbers, e-mail, time zones, hours, URLs.

Each returns the normalised value or raises ``ValueError`` with a message that says what is
expected; callers turn that into a ``ValidationError`` naming the field.
"""

from __future__ import annotations

import difflib
import re
from datetime import time
from functools import cache
from urllib.parse import urlsplit

# patterns are compiled on first use (re caches them): the Account table imports this module
GRAPH_ID_MAX = 32
GRAPH_ID_PATTERN = rf"^[0-9]{{1,{GRAPH_ID_MAX}}}$"
HOURS_PATTERN = r"^([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?$"
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
# what may stand between a phone number's digits (with the dashes word processors put there)
PHONE_SEPARATORS = frozenset("+-.()/\u2010\u2011\u2012\u2013\u2014\u2212")

# Meta's webhook fields (reference §8.1); waba applies the first group and keeps the others as events.
WEBHOOK_FIELDS = (
    "messages",
    "message_template_status_update",
    "message_template_quality_update",
    "message_template_components_update",
    "template_category_update",
    "phone_number_quality_update",
    "phone_number_name_update",
    "account_update",
    "account_review_update",
    "account_alerts",
    "business_capability_update",
    "security",
    "flows",
    "user_preferences",
    "automatic_events",
    "history",
    "smb_app_state_sync",
    "smb_message_echoes",
    "partner_solutions",
    "payment_configuration_update",
    "calls",
)
DEFAULT_WEBHOOK_FIELDS = WEBHOOK_FIELDS[:14]
# the seed's names for what are Meta's fields today
LEGACY_WEBHOOK_FIELDS = {
    "message_deliveries": ("messages",),
    "message_reads": ("messages",),
    "phone_number_update": ("phone_number_quality_update", "phone_number_name_update"),
}

# Business profile verticals (reference §4.6), and the everyday words operators use for them.
VERTICALS = (
    "OTHER",
    "AUTO",
    "BEAUTY",
    "APPAREL",
    "EDU",
    "ENTERTAIN",
    "EVENT_PLAN",
    "FINANCE",
    "GROCERY",
    "GOVT",
    "HOTEL",
    "HEALTH",
    "NONPROFIT",
    "PROF_SERVICES",
    "RETAIL",
    "TRAVEL",
    "RESTAURANT",
    "ALCOHOL",
    "ONLINE_GAMBLING",
    "PHYSICAL_GAMBLING",
    "OTC_DRUGS",
)
VERTICAL_ALIASES = {
    "INSURANCE": "FINANCE",
    "BANKING": "FINANCE",
    "BANK": "FINANCE",
    "FINANCIAL_SERVICES": "FINANCE",
    "AUTOMOTIVE": "AUTO",
    "EDUCATION": "EDU",
    "ENTERTAINMENT": "ENTERTAIN",
    "EVENTS": "EVENT_PLAN",
    "GOVERNMENT": "GOVT",
    "HEALTHCARE": "HEALTH",
    "MEDICAL": "HEALTH",
    "HOSPITALITY": "HOTEL",
    "NON_PROFIT": "NONPROFIT",
    "PROFESSIONAL_SERVICES": "PROF_SERVICES",
    "SHOPPING": "RETAIL",
    "FOOD": "RESTAURANT",
    "CLOTHING": "APPAREL",
}


def graph_id(value: str) -> str:
    if not re.match(GRAPH_ID_PATTERN, value):
        raise ValueError("must be Meta's numeric id (digits only)")
    return value


def phone_number(value: str, region: str | None = None) -> str:
    """E.164 with the leading +, for any notation ``phonenumbers`` finds possible.

    Only digits and the usual separators are accepted: ``phonenumbers`` reads letters as a keypad
    would ("+1 650 CALL NOW" is +16502255669) and drops extensions ("x12"), so a typo or a vanity
    number would reach someone else. Any letter, or any other sign, is refused here, the one
    parser every command and file goes through.
    """
    import phonenumbers

    text = value.strip()
    if not text:
        raise ValueError("is empty")
    phone_characters(value)
    if not text.startswith("+") and text.startswith("00"):
        text = "+" + text[2:]
    if not text.startswith("+") and not region:
        raise ValueError(f"{value!r} has no country code (write +<country code><number>, or set defaults.region)")
    try:
        parsed = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{value!r} is not a phone number ({exc})") from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError(f"{value!r} is not a possible phone number (wrong length for its country)")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_characters(value: str) -> None:
    """Refuse (``ValueError``) anything but digits and separators: no letters, no keypad reading."""
    text = value.strip()
    letters = [ch for ch in text if ch.isalpha()]
    if letters:
        raise ValueError(
            f"{value!r} contains letters ({''.join(letters)[:10]}): a phone number is digits only "
            "(waba never reads letters as keypad digits)"
        )
    odd = next((ch for ch in text if not (ch.isdecimal() or ch.isspace() or ch in PHONE_SEPARATORS)), None)
    if odd is not None:
        raise ValueError(f"{value!r} contains {odd!r}: a phone number is digits, spaces and + - . ( ) / only")


def display_phone(e164: str) -> str:
    import phonenumbers

    return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def email(value: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"{value!r} is not a valid e-mail address ({exc})") from None


@cache
def _zones() -> frozenset[str]:
    from zoneinfo import available_timezones

    return frozenset(available_timezones())


def time_zones() -> list[str]:
    """Every IANA time zone name this machine knows, sorted (choices for completion)."""
    return sorted(_zones() | {"UTC"})


def timezone(value: str) -> str:
    if value in ("UTC", "Etc/UTC") or value in _zones():
        return value
    close = suggest_timezone(value)
    hint = f"did you mean {close}?" if close else "like Europe/Berlin or UTC"
    raise ValueError(f"{value!r} is not an IANA time zone ({hint})")


def suggest_timezone(value: str) -> str | None:
    """The zone ``value`` most likely means: a city typed alone ("berlin"), or a near miss."""
    wanted = value.strip().replace(" ", "_").lower()
    if not wanted:
        return None
    zones = time_zones()
    by_city = [z for z in zones if z.lower().rsplit("/", 1)[-1] == wanted.rsplit("/", 1)[-1]]
    if by_city:
        return by_city[0]
    lowered = {z.lower(): z for z in zones}
    close = difflib.get_close_matches(wanted, list(lowered), n=1, cutoff=0.8)
    return lowered[close[0]] if close else None


def hours(value: str | time) -> time:
    if isinstance(value, time):
        return value.replace(microsecond=0, tzinfo=None)
    match = re.match(HOURS_PATTERN, value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a time of day as HH:MM or HH:MM:SS (24-hour)")
    return time(int(match[1]), int(match[2]), int(match[3] or 0))


def https_url(value: str, *, max_length: int = 2000) -> str:
    """An https URL; plain http is accepted only for this machine (sandbox, local tests)."""
    if len(value) > max_length:
        raise ValueError(f"is longer than {max_length} characters")
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{value!r} is not a URL (https://host/path)")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ValueError(f"{value!r} must use https (Meta only calls https endpoints)")
    return value


def webhook_fields(values: list[str]) -> tuple[list[str], list[str]]:
    """Meta's field names for ``values`` and notes about renamed legacy names."""
    fields: list[str] = []
    notes: list[str] = []
    for value in values:
        name = value.strip()
        if name in LEGACY_WEBHOOK_FIELDS:
            replacement = LEGACY_WEBHOOK_FIELDS[name]
            notes.append(f"subscribed_webhook_events: {name!r} is an old name; using {' + '.join(replacement)}")
            fields.extend(r for r in replacement if r not in fields)
        elif name in WEBHOOK_FIELDS:
            if name not in fields:
                fields.append(name)
        else:
            raise ValueError(f"{name!r} is not a webhook field Meta knows (known: {', '.join(WEBHOOK_FIELDS)})")
    return fields, notes


def vertical(value: str) -> tuple[str, str | None]:
    """Meta's vertical for ``value`` and a note when an everyday word was translated."""
    key = re.sub(r"[\s\-]+", "_", value.strip()).upper()
    if key in VERTICALS:
        return key, None
    if key in VERTICAL_ALIASES:
        meta = VERTICAL_ALIASES[key]
        return meta, f"business_vertical: {value!r} is stored as Meta's vertical {meta}"
    close = suggest_vertical(value)
    if close:
        raise ValueError(f"{value!r} is not a vertical Meta knows; did you mean {close}?")
    raise ValueError(f"{value!r} is not a business vertical Meta knows (known: {', '.join(VERTICALS)})")


def suggest_vertical(value: str) -> str | None:
    """Meta's vertical nearest to a mistyped word ("retial" -> RETAIL, "insurence" -> FINANCE)."""
    key = re.sub(r"[\s\-]+", "_", value.strip()).upper()
    words = {name: name for name in VERTICALS} | VERTICAL_ALIASES
    close = difflib.get_close_matches(key, list(words), n=1, cutoff=0.6)
    return words[close[0]] if close else None
