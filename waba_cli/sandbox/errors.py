"""Meta's error envelope (§1.5), as the sandbox answers and as its webhooks carry errors.

Every module of the sandbox raises ``GraphFailure``; ``core.Sandbox.handle`` turns it into the
HTTP status and the ``{"error": {...}}`` body Graph answers with. A leaf: it imports nothing else
of the sandbox, so rules, endpoints and plumbing can all raise the same failures.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

TITLES = {
    0: "AuthException",
    2: "Service temporarily unavailable",
    4: "Application request limit reached",
    100: "Invalid parameter",
    190: "Invalid OAuth access token - Cannot parse access token",
    130429: "Rate limit hit",
    131000: "Something went wrong",
    131008: "Required parameter is missing",
    131009: "Parameter value is not valid",
    131021: "Recipient cannot be sender",
    131026: "Message undeliverable",
    131047: "Re-engagement message",
    131049: "This message was not delivered to maintain healthy ecosystem engagement.",
    131053: "Media upload error",
    131056: "(Business Account, Consumer Account) pair rate limit hit",
    132000: "Number of parameters does not match the expected number of params",
    132001: "Template name does not exist in the translation",
    132005: "Translated text too long",
    132012: "Parameter format does not match format in the created template",
    132015: "Template is Paused",
    132016: "Template is Disabled",
    132068: "Flow is in blocked state",
    132069: "Flow is in throttled state",
    133005: "Two step verification PIN Mismatch",
    133006: "Phone number needs to be verified before registering",
    133010: "Phone number Not Registered",
    133016: "Account register deregister rate limit exceeded",
    136025: "Verify code error",
    139001: "Flow update failed",
    139002: "Publishing Flow failed",
    139003: "Deprecating Flow failed",
    139004: "Deleting Flow failed",
}
HTTP_STATUS = {0: 401, 2: 503, 190: 401, 131000: 500, 132001: 404}
ERRORS_HREF = "/documentation/business-messaging/whatsapp/support/error-codes"
_TRACE_ALPHABET = string.ascii_letters + string.digits + "_-"


class GraphFailure(Exception):  # noqa: N818 - a Graph answer, not a Python bug
    """An error the sandbox answers with, in Meta's envelope."""

    def __init__(
        self,
        code: int,
        details: str | None = None,
        *,
        message: str | None = None,
        subcode: int | None = None,
        http_status: int | None = None,
        error_type: str = "OAuthException",
        user_title: str | None = None,
        user_msg: str | None = None,
        is_transient: bool | None = None,
    ) -> None:
        self.code = code
        self.details = details
        self.message = message or f"(#{code}) {TITLES.get(code, 'Invalid parameter')}"
        self.subcode = subcode
        self.http_status = http_status or HTTP_STATUS.get(code, 400)
        self.error_type = error_type
        self.user_title = user_title
        self.user_msg = user_msg
        self.is_transient = is_transient
        super().__init__(self.message)

    def envelope(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.error_type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.details is not None:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        if self.user_title:
            error["error_user_title"] = self.user_title
        if self.user_msg:
            error["error_user_msg"] = self.user_msg
        if self.is_transient is not None:
            error["is_transient"] = self.is_transient
        error["fbtrace_id"] = "A" + "".join(secrets.choice(_TRACE_ALPHABET) for _ in range(22))
        return {"error": error}


def webhook_error(code: int, details: str) -> dict[str, Any]:
    """An error object as webhooks carry it (§1.5: no type, no fbtrace_id; title equals message)."""
    title = TITLES.get(code, "Message failed")
    return {"code": code, "title": title, "message": title, "error_data": {"details": details}, "href": ERRORS_HREF}


def missing(name: str) -> GraphFailure:
    return GraphFailure(131008, f"The parameter {name} is required.")


def invalid(details: str) -> GraphFailure:
    return GraphFailure(131009, details)


def bad_param(details: str, **kwargs: Any) -> GraphFailure:
    return GraphFailure(100, details, **kwargs)


def not_found(object_id: str, method: str) -> GraphFailure:
    return GraphFailure(
        100,
        message=(
            f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, cannot be loaded "
            "due to missing permissions, or does not support this operation."
        ),
        subcode=33,
        error_type="GraphMethodException",
    )


def unknown_field(field: str, node: str) -> GraphFailure:
    return GraphFailure(100, message=f"(#100) Tried accessing nonexisting field ({field}) on node type ({node})")
