"""Errors from the Graph API, typed by Meta's error code (reference §1.5-§1.7).

    OperationError (waba_cli.errors)
    ├── GraphNetworkError         no answer: connection failure, timeout, broken response
    └── GraphError                Meta answered with an error envelope (or an unreadable body)
        ├── AuthError             0, 190: the token is expired, invalid or revoked
        ├── PermissionDenied      3, 10, 200-299, 131005: a scope or an asset assignment is missing
        ├── RateLimited           4, 17, 341, 80007, 130429: throttled; retried with backoff
        │   └── PairRateLimited   131056: same recipient too often; retried after 4^X s
        ├── SpamLimited           131048: blocked/reported too often; never retried automatically
        ├── InvalidRequest        33, 100, 131008, 131009, 131051, 135000: fix the request
        ├── RecipientError        130472, 130497, 131021, 131026, 131047, 131049, 131050, 137000
        ├── AccountError          368, 131031, 131037, 131042, 134011: the WABA or business is restricted
        ├── MediaError            131052, 131053
        ├── TemplateError         132000-132999, 2388000-2388999 (as code or as subcode of 100) but the next
        ├── FlowError             132068, 132069, 139000-139004
        ├── PhoneNumberError      131045, 133000-133999 except 133004, 136025, and as code or subcode of
        │                         100: 2388001, 2388012, 2388091, 2388093, 2388103 (registration, §4.2-§4.4)
        └── ServiceUnavailable    1, 2, 131000, 131016, 131057, 133004, 2494100, 5xx without a known code

``retryable`` is a class default refined per instance: codes listed in §1.7 rule 1 and
``is_transient: true`` make any error retryable. ``retry_later`` marks §1.7 rule 3 (wait, don't loop).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from waba_cli.errors import OperationError

RETRYABLE_CODES = frozenset({1, 2, 4, 17, 341, 80007, 130429, 131000, 131016, 131057, 133004, 133015, 2494100})
RETRY_LATER_CODES = frozenset({131048, 131049, 132015, 132069, 133008, 133009, 133016})
PAIR_RATE_LIMIT_CODE = 131056
TEMPLATE_CREATION_CODES = range(2388000, 2389000)
# in the template-creation range, but about adding, verifying and registering numbers (§1.6, §4)
PHONE_REGISTRATION_CODES = frozenset({2388001, 2388012, 2388091, 2388093, 2388103})
_SNIPPET = 200

AUTH_HINT = (
    "the access token expired or is invalid; run `waba account update ACC --from-file F` or answer the hidden prompt"
)


class GraphError(OperationError):
    """Meta answered with an error; ``code`` is the key to handle it by (never the HTTP status)."""

    retryable: bool = False
    default_hint: str | None = None

    def __init__(
        self,
        graph_message: str,
        *,
        code: int | None = None,
        subcode: int | None = None,
        error_type: str | None = None,
        details: str | None = None,
        fbtrace_id: str | None = None,
        http_status: int | None = None,
        is_transient: bool = False,
        user_title: str | None = None,
        user_msg: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.graph_message = graph_message
        self.code = code
        self.subcode = subcode
        self.error_type = error_type
        self.details = details
        self.fbtrace_id = fbtrace_id
        self.http_status = http_status
        self.is_transient = is_transient
        self.user_title = user_title
        self.user_msg = user_msg
        self.retryable = type(self).retryable or is_transient or code in RETRYABLE_CODES
        self.retry_later = code in RETRY_LATER_CODES
        if hint is None:
            hint = _specific_hint(code, subcode) or type(self).default_hint
        super().__init__(self._line(), hint)

    def _line(self) -> str:
        if self.code is None:
            ident = f"HTTP {self.http_status}" if self.http_status is not None else "(no code)"
        else:
            ident = f"{self.code}/{self.subcode}" if self.subcode is not None else str(self.code)
        line = f"Graph API error {ident}: {self.graph_message}"
        # Meta's user_msg often says more than details for template rejections
        extra = self.details or self.user_msg
        if extra and extra != self.graph_message:
            line += f" ({extra})"
        if self.fbtrace_id:
            line += f" [fbtrace_id {self.fbtrace_id}]"
        return _one_line(line)

    @classmethod
    def from_response(
        cls,
        http_status: int,
        body: bytes | str | Mapping[str, Any] | None,
        *,
        redact: Callable[[str], str] | None = None,
    ) -> GraphError:
        """The typed error for a non-2xx answer; tolerant of any body Meta or a proxy may send."""
        scrub = redact or _identity
        payload = _decode(body)
        envelope = payload.get("error") if isinstance(payload, Mapping) else None
        if not isinstance(envelope, Mapping):
            error_class = ServiceUnavailable if http_status >= 500 else GraphError
            text = scrub(_snippet(body)) or "the response carried no error details"
            return error_class(text, http_status=http_status)
        code = _as_int(envelope.get("code"))
        subcode = _as_int(envelope.get("error_subcode"))
        error_class = error_class_for(code, subcode)
        # a known code wins over the status (§1.6: code 3 comes with a 500 and must not be retried)
        if error_class is GraphError and http_status >= 500:
            error_class = ServiceUnavailable
        return error_class(
            scrub(_text(envelope.get("message")) or f"HTTP {http_status}"),
            code=code,
            subcode=subcode,
            error_type=_text(envelope.get("type")),
            details=_scrub_opt(scrub, _details(envelope.get("error_data"))),
            fbtrace_id=_text(envelope.get("fbtrace_id")),
            http_status=http_status,
            is_transient=envelope.get("is_transient") is True,
            user_title=_scrub_opt(scrub, _text(envelope.get("error_user_title"))),
            user_msg=_scrub_opt(scrub, _text(envelope.get("error_user_msg"))),
        )


class AuthError(GraphError):
    """The access token cannot authenticate (expired, invalidated, revoked)."""

    default_hint = AUTH_HINT


class PermissionDenied(GraphError):  # noqa: N818 - named by cause, as in httpx
    """The token lacks a permission, or the asset is not shared with its system user."""

    default_hint = (
        "grant the token whatsapp_business_management and whatsapp_business_messaging and assign "
        "the WABA to its system user in Business Manager"
    )


class RateLimited(GraphError):  # noqa: N818 - named by cause, as in httpx
    """A Graph or Cloud API rate limit was hit; backing off fixes it."""

    retryable = True
    default_hint = "Meta throttled the calls; wait a while and run the command again"


class PairRateLimited(RateLimited):
    """Too many messages to the same recipient (about one per 6 s is allowed)."""

    default_hint = "too many messages to this recipient; wait before messaging them again (4^X s backoff)"


class SpamLimited(GraphError):  # noqa: N818 - named by cause, as in httpx
    """Too many recipients blocked or reported the number; sending more makes it worse."""

    default_hint = "stop bulk sends and check the number's quality rating in WhatsApp Manager"


class InvalidRequest(GraphError):  # noqa: N818 - named by cause, as in httpx
    """A parameter is missing, unknown or invalid, or the object does not exist."""

    default_hint = "check the parameter named in the details; the object may not exist or not be shared"


class RecipientError(GraphError):
    """The recipient cannot or must not get this message."""


class AccountError(GraphError):
    """The WABA, its business or its payment setup is restricted or incomplete."""

    default_hint = "check the account's status and payment settings in WhatsApp Manager"


class MediaError(GraphError):
    """Media could not be uploaded or downloaded."""

    default_hint = "check the media's MIME type and size against Meta's limits"


class TemplateError(GraphError):
    """A template is missing, not approved, paused, or does not match its parameters."""

    default_hint = "check the template's status and its parameters (`details` names the problem)"


class FlowError(GraphError):
    """A WhatsApp Flow is blocked, throttled or in the wrong state for the operation."""


class PhoneNumberError(GraphError):
    """The business number is not registered, not verified, or its PIN is wrong."""

    default_hint = "see why with `waba number doctor NUM`"


class ServiceUnavailable(GraphError):  # noqa: N818 - named by cause, as in httpx
    """Meta is temporarily unable to serve the request."""

    retryable = True
    default_hint = "Meta is temporarily unavailable; try again later and quote the fbtrace_id if it persists"


_CODES: dict[int, type[GraphError]] = {
    0: AuthError,
    190: AuthError,
    3: PermissionDenied,
    10: PermissionDenied,
    131005: PermissionDenied,
    4: RateLimited,
    17: RateLimited,
    341: RateLimited,
    80007: RateLimited,
    130429: RateLimited,
    PAIR_RATE_LIMIT_CODE: PairRateLimited,
    131048: SpamLimited,
    33: InvalidRequest,
    100: InvalidRequest,
    131008: InvalidRequest,
    131009: InvalidRequest,
    131051: InvalidRequest,
    135000: InvalidRequest,
    130472: RecipientError,
    130497: RecipientError,
    131021: RecipientError,
    131026: RecipientError,
    131047: RecipientError,
    131049: RecipientError,
    131050: RecipientError,
    137000: RecipientError,
    368: AccountError,
    131031: AccountError,
    131037: AccountError,
    131042: AccountError,
    134011: AccountError,
    131052: MediaError,
    131053: MediaError,
    132068: FlowError,
    132069: FlowError,
    131045: PhoneNumberError,
    136025: PhoneNumberError,
    1: ServiceUnavailable,
    2: ServiceUnavailable,
    131000: ServiceUnavailable,
    131016: ServiceUnavailable,
    131057: ServiceUnavailable,
    133004: ServiceUnavailable,
    2494100: ServiceUnavailable,
}

# consulted after _CODES, so single codes inside a range (133004, 132068) win
_RANGES: tuple[tuple[range, type[GraphError]], ...] = (
    (range(200, 300), PermissionDenied),
    (range(132000, 133000), TemplateError),
    (TEMPLATE_CREATION_CODES, TemplateError),
    (range(133000, 134000), PhoneNumberError),
    (range(139000, 139005), FlowError),
)

_HINTS: dict[int, str] = {
    1: "Meta could not process the request; if it fails again the request itself is probably wrong",
    33: "the business phone number was deleted",
    130429: "the number's throughput (80 messages/s by default) was exceeded; send more slowly",
    130472: "the recipient is in a Meta marketing experiment group; do not resend",
    130497: "this WABA may not message users in the recipient's country",
    131000: "an unknown failure at Meta; if it persists, quote the fbtrace_id to Meta support",
    131008: "a required parameter is missing (see the details)",
    131009: "a parameter value is invalid, or the number does not belong to this WABA",
    131021: "the recipient is the sending number itself",
    131026: "the recipient cannot receive messages (not on WhatsApp, old app, terms not accepted)",
    131031: "the business account is locked or restricted (or a wrong two-step PIN was given)",
    131037: "the number needs an approved display name before it can send",
    131042: "a payment problem: check the payment method, currency and timezone of the WABA",
    131045: "certificate mismatch: register the number again",
    131047: "more than 24 h passed since the user's last message; send an approved template instead",
    131049: "Meta held this marketing message to protect the ecosystem; wait at least 24 h for this user",
    131050: "the user stopped marketing messages from this business; do not send them marketing",
    131051: "this message type is not supported",
    131052: "the inbound media could not be downloaded (see the details)",
    131057: "the account is in maintenance (e.g. a throughput upgrade); try again in a few minutes",
    132000: "the number of parameters does not match the template",
    132001: "the template does not exist in that language or is not approved yet",
    132005: "the filled-in template text is too long",
    132007: "the template text breaks Meta's format-character policy",
    132012: "a parameter's format does not match the template (e.g. the header expects an IMAGE)",
    132015: "the template is paused for low quality; edit it or wait until it is unpaused",
    132016: "the template is disabled for good; create a new one",
    132068: "the flow is blocked; fix it in WhatsApp Manager",
    132069: "the flow is throttled (10 sends per hour); wait before sending it again",
    133000: "a previous deregistration did not finish; run `waba number deregister NUM` again",
    133005: (
        "the two-step verification PIN is wrong; give the number's PIN with --pin, "
        "or set a new one first with `waba number set-pin NUM PIN`"
    ),
    133006: (
        "the number must be verified again: `waba number request-code NUM`, then `waba number verify-code NUM CODE`"
    ),
    133008: "too many PIN attempts; wait as the details say, then try again with the right PIN",
    133009: "the PIN was entered too fast; wait as the details say, then try again",
    133010: "the number is not registered with the Cloud API; run `waba number register NUM`",
    133015: "the number was deleted recently; try again in 5 minutes",
    133016: "the register/deregister limit (10 per 72 h) was reached; wait, then check with `waba number doctor NUM`",
    136025: "the code is wrong or expired; ask for a new one with `waba number request-code NUM`",
    134011: "the WhatsApp Payments terms of service have not been accepted",
    135000: "a parameter of the request is invalid (see the details)",
    137000: "the recipient's identity key changed; verify the user again",
    139000: "the flow is blocked by an integrity check",
    139001: "the flow cannot be updated (a published flow cannot change)",
    139002: "the flow cannot be published; fix its validation errors, endpoint and webhook subscription",
    139003: "the flow cannot be deprecated",
    139004: "only DRAFT flows can be deleted",
    368: "the account is temporarily blocked for a policy violation; see Business Support Home",
    2388001: (
        "Meta cannot create the certificate yet: the code is not verified or the display name is not approved; "
        "see `waba number doctor NUM`, then register again"
    ),
    2388012: "the number is already in this WABA; record it with `waba number add --id ID` (ids: `waba number sync`)",
    2388019: "the WABA reached its template limit; delete templates it no longer needs",
    2388091: "this number cannot request a code through the API; verify it in WhatsApp Manager or Embedded Signup",
    2388093: "this number cannot verify a code through the API; verify it in WhatsApp Manager or Embedded Signup",
    2388103: (
        "no app is subscribed to the destination WABA's webhooks; subscribe one first (POST /{waba-id}/subscribed_apps)"
    ),
    2494100: "the number is in maintenance mode; try again later",
}


def error_class_for(code: int | None, subcode: int | None = None) -> type[GraphError]:
    """The GraphError subclass for ``code``; template-creation subcodes under code 100 are templates,
    the registration ones among them phone-number errors."""
    if subcode in PHONE_REGISTRATION_CODES or code in PHONE_REGISTRATION_CODES:
        return PhoneNumberError
    if subcode in TEMPLATE_CREATION_CODES or code in TEMPLATE_CREATION_CODES:
        return TemplateError
    if code is None:
        return GraphError
    if code in _CODES:
        return _CODES[code]
    for codes, error_class in _RANGES:
        if code in codes:
            return error_class
    return GraphError


def hint_for(code: int | None, subcode: int | None = None) -> str | None:
    """What the operator should do about ``code`` (falling back to its class's hint)."""
    return _specific_hint(code, subcode) or error_class_for(code, subcode).default_hint


def _specific_hint(code: int | None, subcode: int | None) -> str | None:
    key = subcode if subcode in TEMPLATE_CREATION_CODES else code
    return _HINTS.get(key) if key is not None else None


class GraphNetworkError(OperationError):
    """No usable answer from Meta: connection refused, timeout, TLS or protocol failure.

    ``request_sent`` is False when the failure came before the whole request was written (no
    connection, a failed write): Meta cannot have acted on it. True means it may have.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = True,
        request_sent: bool = True,
        reason: str | None = None,
        kind: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint or "check the network connection and graph.base_url, then try again")
        self.retryable = retryable
        self.request_sent = request_sent
        self.reason = reason  # short: "connection refused", "no connection within 5 s"
        self.kind = kind  # the transport's name for it: ConnectError, ConnectTimeout, WriteError ...


@dataclass(frozen=True)
class WebhookErrorInfo:
    """An error object from a webhook (``value.errors[]``, ``statuses[].errors[]``)."""

    code: int | None
    title: str | None
    message: str | None
    details: str | None
    href: str | None = None

    @property
    def hint(self) -> str | None:
        return hint_for(self.code)


def error_from_webhook(obj: Mapping[str, Any]) -> WebhookErrorInfo:
    """Parse the webhook error shape of §1.5: code, title, message, error_data.details, href."""
    return WebhookErrorInfo(
        code=_as_int(obj.get("code")),
        title=_text(obj.get("title")),
        message=_text(obj.get("message")),
        details=_details(obj.get("error_data")),
        href=_text(obj.get("href")),
    )


def _identity(text: str) -> str:
    return text


def _scrub_opt(scrub: Callable[[str], str], text: str | None) -> str | None:
    return scrub(text) if text is not None else None


def _decode(body: bytes | str | Mapping[str, Any] | None) -> Any:
    if body is None or isinstance(body, Mapping):
        return body
    try:
        return json.loads(body)
    except ValueError:
        return None


def _snippet(body: bytes | str | Mapping[str, Any] | None) -> str:
    if isinstance(body, bytes):
        text = body.decode("utf-8", errors="replace")
    elif isinstance(body, str):
        text = body
    else:
        return ""
    text = _one_line(text)
    return text if len(text) <= _SNIPPET else text[:_SNIPPET] + "…"


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _as_int(value: Any) -> int | None:
    # bool is an int in Python, and Meta never means true as a code
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return _one_line(value if isinstance(value, str) else str(value))


def _details(error_data: Any) -> str | None:
    # error_data is normally {"messaging_product": ..., "details": ...} but may be a plain string
    if isinstance(error_data, Mapping):
        return _text(error_data.get("details"))
    return _text(error_data)
