"""A number's business profile as Meta accepts it (reference §4.6), checked before any request.

Each check returns the value to send or raises ``ValueError`` saying what Meta expects; the caller
names the flag. The picture is judged from facts the caller read from the file (format, size,
pixels), so that this module stays free of I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from waba_cli.domain import validators

ABOUT_MAX = 139
ADDRESS_MAX = 256
# Meta's OpenAPI says 256, older docs 512: the lower one is what Meta surely accepts
DESCRIPTION_MAX = 256
EMAIL_MAX = 128
WEBSITES_MAX = 2
WEBSITE_MAX = 256
PICTURE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}
PICTURE_MAX_BYTES = 5 * 1024 * 1024  # Meta's image limit (§7)
PICTURE_MIN_PIXELS = 192  # each side; WhatsApp shows at most 640 x 640, cropped to a circle


def about(value: str) -> str:
    text = value.strip()
    if not 1 <= len(text) <= ABOUT_MAX:
        raise ValueError(f"must be 1 to {ABOUT_MAX} characters (it has {len(text)})")
    return text


def address(value: str) -> str:
    return _at_most(value, ADDRESS_MAX)


def description(value: str) -> str:
    return _at_most(value, DESCRIPTION_MAX)


def email(value: str) -> str:
    if len(value.strip()) > EMAIL_MAX:
        raise ValueError(f"must be at most {EMAIL_MAX} characters")
    return validators.email(value.strip())


def websites(values: Sequence[str]) -> list[str]:
    if len(values) > WEBSITES_MAX:
        raise ValueError(f"Meta takes at most {WEBSITES_MAX} websites ({len(values)} given)")
    checked = []
    for value in values:
        url = value.strip()
        if len(url) > WEBSITE_MAX:
            raise ValueError(f"{url[:40]}… is longer than {WEBSITE_MAX} characters")
        if not re.match(r"^https?://[^\s/]+", url):
            raise ValueError(f"{url!r} must start with http:// or https:// and name a host")
        checked.append(url)
    return checked


def vertical(value: str) -> str:
    """Meta's vertical for ``value`` (an everyday word is translated); a near miss gets a suggestion."""
    return validators.vertical(value)[0]


def picture(image_format: str | None, size: int, width: int, height: int) -> str:
    """The MIME type of a profile picture, or ``ValueError`` when Meta would refuse it."""
    mime = PICTURE_FORMATS.get((image_format or "").upper())
    if mime is None:
        raise ValueError(f"must be a JPEG or PNG image (this one is {image_format or 'not an image'})")
    if size > PICTURE_MAX_BYTES:
        raise ValueError(f"is {size / 1024 / 1024:.1f} MB; Meta takes at most 5 MB")
    if min(width, height) < PICTURE_MIN_PIXELS:
        smallest = f"{PICTURE_MIN_PIXELS} x {PICTURE_MIN_PIXELS}"
        raise ValueError(f"is {width} x {height} pixels; it must be at least {smallest}")
    return mime


def _at_most(value: str, limit: int) -> str:
    text = value.strip()
    if len(text) > limit:
        raise ValueError(f"must be at most {limit} characters (it has {len(text)})")
    return text
