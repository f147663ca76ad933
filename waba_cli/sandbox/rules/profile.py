"""The business profile (§4.6): what ``POST /{phone-number-id}/whatsapp_business_profile`` accepts."""

from __future__ import annotations

import re
import secrets
from typing import Any

from waba_cli.sandbox.errors import bad_param, missing

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
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_profile(body: dict[str, Any], handles: set[str]) -> dict[str, Any]:  # noqa: PLR0912 - one per field
    """The profile fields of a ``POST .../whatsapp_business_profile`` body, validated."""
    if body.get("messaging_product") is None:
        raise missing("messaging_product")
    if body.get("messaging_product") != "whatsapp":
        raise bad_param("Param messaging_product must be 'whatsapp'.")
    changes: dict[str, Any] = {}
    for name, low, high in (("about", 1, 139), ("address", 0, 256), ("description", 0, 256), ("email", 0, 128)):
        if name in body:
            value = body[name]
            if not isinstance(value, str) or not low <= len(value) <= high:
                raise bad_param(f"Param {name} must be a string of {low} to {high} characters.")
            changes[name] = value
    if changes.get("email") and not _EMAIL.match(changes["email"]):
        raise bad_param("Param email must be a valid e-mail address.")
    if "websites" in body:
        websites = body["websites"]
        if not isinstance(websites, list) or len(websites) > 2:
            raise bad_param("Param websites must be an array of at most 2 URLs.")
        for site in websites:
            if not isinstance(site, str) or len(site) > 256 or not site.startswith(("http://", "https://")):
                raise bad_param("Each website must start with http:// or https:// and be at most 256 characters.")
        changes["websites"] = websites
    if "vertical" in body:
        if body["vertical"] not in VERTICALS:
            raise bad_param(f"Param vertical must be one of {', '.join(VERTICALS)}.")
        changes["vertical"] = body["vertical"]
    if "profile_picture_handle" in body:
        if body["profile_picture_handle"] not in handles:
            raise bad_param("Param profile_picture_handle is not a handle from the Resumable Upload API.")
        changes["profile_picture_url"] = "https://pps.whatsapp.net/v/t61.24694-24/sandbox-" + secrets.token_hex(6)
    return changes
