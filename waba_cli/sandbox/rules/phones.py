"""Phone numbers as Meta reads them: the country and calling code of a number, and the WhatsApp id
Meta derives from a send's ``to`` (§2.1). Cached: the send path asks thousands of times a second."""

from __future__ import annotations

from functools import lru_cache

_PUNCTUATION = str.maketrans("", "", " -().+")


@lru_cache(maxsize=65536)
def country_of(digits: str) -> tuple[str | None, str]:
    """ISO country and calling code of a number given as digits (None when unknown)."""
    import phonenumbers

    try:
        parsed = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None, ""
    return phonenumbers.region_code_for_number(parsed), str(parsed.country_code)


@lru_cache(maxsize=65536)
def wa_id_of(to: str, business_calling_code: str) -> str | None:
    """The WhatsApp id Meta would derive from ``to`` (§2.1), or None if it is not a number.

    Without a ``+`` Meta prepends the business number's calling code, unless the digits already
    make a possible international number.
    """
    text = to.strip()
    digits = text.translate(_PUNCTUATION)
    if not digits.isdigit() or not digits.isascii():
        return None
    if not text.startswith("+") and not _possible(digits):
        digits = business_calling_code + digits
    return digits if 8 <= len(digits) <= 15 else None


def _possible(digits: str) -> bool:
    import phonenumbers

    try:
        return bool(phonenumbers.is_possible_number(phonenumbers.parse("+" + digits, None)))
    except phonenumbers.NumberParseException:
        return False
