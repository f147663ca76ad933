"""How the sandbox judges requests: Meta's error envelope, send validation, template review, Flow JSON.

Error codes follow the reference (§1.5, §1.6) and are chosen like this for sends:
a required parameter that is missing is 131008, a value of the wrong kind or enum is 100, a value
of the right kind that Meta would not accept (too long, too many buttons, unknown media) is
131009; templates: not found / not approved in that language 132001, paused 132015, disabled
132016, wrong parameter count 132000, wrong parameter kind 132012, filled text too long 132005.

Template review (see ``review``): a template is APPROVED unless a rule below rejects it.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import secrets
import string
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from waba_cli.sandbox.state import Flow, Message, State, Template

# -- the error envelope (§1.5) ---------------------------------------------------------------------

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
    133010: "Phone number Not Registered",
    133016: "Account register deregister rate limit exceeded",
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


# -- phone numbers ---------------------------------------------------------------------------------

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


# -- wamids ----------------------------------------------------------------------------------------


_WAMID_PREFIX = secrets.token_hex(3).upper()  # per process: ids stay unique across restarts with --state
_WAMID_SEQUENCE = itertools.count(1)


def wamid(wa_id: str, *, inbound: bool = False) -> str:
    """A message id shaped like Meta's: ``wamid.`` + base64 of the contact and a unique id.

    A counter rather than random bytes: the send path runs thousands of times a second.
    """
    contact = wa_id.encode()
    ident = f"{_WAMID_PREFIX}{next(_WAMID_SEQUENCE):012X}".encode()
    if inbound:
        marker, ident = b"\x12", b"3A" + ident
    else:
        marker = b"\x11"
    raw = b"\x1c\x18" + bytes([len(contact)]) + contact + b"\x15\x02\x00" + marker + b"\x18"
    return "wamid." + base64.b64encode(raw + bytes([len(ident)]) + ident + b"\x00").decode()


# -- sending (§2) ----------------------------------------------------------------------------------

MESSAGE_TYPES = (
    "text",
    "image",
    "video",
    "audio",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "template",
    "reaction",
)
MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
INTERACTIVE_TYPES = (
    "button",
    "list",
    "cta_url",
    "flow",
    "product",
    "product_list",
    "catalog_message",
    "location_request_message",
    "address_message",
)
SENDABLE_TEMPLATE_STATUSES = ("APPROVED", "FLAGGED", "REINSTATED")
WINDOW_SECONDS = 24 * 3600
_POSITIONAL = re.compile(r"\{\{\s*(\d+)\s*\}\}")
_NAMED = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
_ANY_VARIABLE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_WORD = re.compile(r"[^\W_]+")  # letters and digits: "$24.90" is two words, punctuation none


@dataclass(slots=True)
class Send:
    """A send request that passed validation."""

    wa_id: str
    type: str
    category: str  # pricing category
    free_form: bool = False
    template: Template | None = None
    extra: dict[str, Any] | None = None


def _text(value: Any, name: str, limit: int, *, required: bool = True) -> str | None:
    if value is None or value == "":
        if required:
            raise missing(name)
        return None
    if not isinstance(value, str):
        raise bad_param(f"Param {name} must be a string.")
    if len(value) > limit:
        raise invalid(f"Param {name} is {len(value)} characters long; the maximum is {limit}.")
    return value


def _object(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    if value is None:
        raise missing(name)
    if not isinstance(value, dict):
        raise bad_param(f"Param {name} must be a JSON object.")
    return value


def check_send(body: dict[str, Any], state: State, phone_number_id: str, business_calling_code: str) -> Send:
    """Validate a ``POST /{phone-number-id}/messages`` body the way Meta does (not the window)."""
    product = body.get("messaging_product")
    if product is None:
        raise missing("messaging_product")
    if product != "whatsapp":
        raise bad_param("Param messaging_product must be 'whatsapp'.")
    number = state.phone_numbers[phone_number_id]
    wa_id = _recipient(body, number.digits, business_calling_code)
    kind = body.get("type", "text")
    if kind not in MESSAGE_TYPES:
        raise bad_param(f"Param type must be one of {{{', '.join(t.upper() for t in MESSAGE_TYPES)}}} - got {kind!r}.")
    callback = body.get("biz_opaque_callback_data")
    if callback is not None and (not isinstance(callback, str) or len(callback) > 512):
        raise invalid("Param biz_opaque_callback_data must be a string of at most 512 characters.")
    if kind == "contacts":
        _check_contacts(body.get("contacts"))
        return Send(wa_id, kind, "service", free_form=True)
    content = _object(body, kind)
    if kind == "template":
        template = check_template_send(content, state, number.waba_id)
        extra = _template_extra(template, content)
        return Send(wa_id, kind, template.category.lower(), free_form=False, template=template, extra=extra)
    return Send(wa_id, kind, "service", free_form=True, extra=_check_content(kind, content, state, number.waba_id))


def _recipient(body: dict[str, Any], own_digits: str, business_calling_code: str) -> str:
    recipient_type = body.get("recipient_type", "individual")
    if recipient_type not in ("individual", "group"):
        raise bad_param("Param recipient_type must be one of {INDIVIDUAL, GROUP}.")
    if recipient_type == "group":
        raise invalid("Groups are not available in the sandbox.")
    to = body.get("to")
    if to is None or to == "":
        raise missing("to")
    if not isinstance(to, str | int) or isinstance(to, bool):
        raise bad_param("Param to must be a string.")
    wa_id = wa_id_of(str(to), business_calling_code)
    if wa_id is None:
        raise invalid(f"Param to ({to}) is not a valid phone number.")
    if wa_id == own_digits:
        raise GraphFailure(131021, "The recipient is the sender's own business number.")
    return wa_id


def _check_content(kind: str, content: dict[str, Any], state: State, waba_id: str) -> dict[str, Any] | None:
    """Check a free-form message's content; return what a customer's answer may refer to."""
    if kind == "text":
        _text(content.get("body"), "text['body']", 4096)
    elif kind in MEDIA_TYPES:
        _check_media(kind, content, state)
    elif kind == "location":
        _check_location(content)
    elif kind == "reaction":
        _text(content.get("message_id"), "reaction['message_id']", 256)
        if "emoji" not in content:
            raise missing("reaction['emoji']")
    else:
        return check_interactive(content, state, waba_id)
    return None


def _check_media(kind: str, media: dict[str, Any], state: State) -> None:
    media_id, link = media.get("id"), media.get("link")
    if media_id is None and link is None:
        raise missing(f"{kind}['id'] or {kind}['link']")
    if media_id is not None and link is not None:
        raise invalid(f"Param {kind} must have either id or link, not both.")
    if media_id is not None and str(media_id) not in state.media:
        raise invalid(f"Media id {media_id} was not uploaded to this WhatsApp Business Account (or has expired).")
    if link is not None and (not isinstance(link, str) or not link.startswith(("https://", "http://"))):
        raise invalid(f"Param {kind}['link'] must be an http(s) URL.")
    if "caption" in media:
        _text(media["caption"], f"{kind}['caption']", 1024, required=False)


def _check_location(location: dict[str, Any]) -> None:
    for name, bound in (("latitude", 90.0), ("longitude", 180.0)):
        value = location.get(name)
        if value is None or value == "":
            raise missing(f"location['{name}']")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise bad_param(f"Param location['{name}'] must be a number.") from None
        if not -bound <= number <= bound:
            raise invalid(f"Param location['{name}'] must be between -{bound:g} and {bound:g}.")


def _check_contacts(contacts: Any) -> None:
    if contacts is None:
        raise missing("contacts")
    if not isinstance(contacts, list) or not contacts:
        raise bad_param("Param contacts must be a non-empty array.")
    for index, contact in enumerate(contacts):
        name = contact.get("name") if isinstance(contact, dict) else None
        if not isinstance(name, dict) or not name.get("formatted_name"):
            raise missing(f"contacts[{index}]['name']['formatted_name']")


def check_interactive(interactive: dict[str, Any], state: State, waba_id: str) -> dict[str, Any] | None:
    """Validate an interactive message; return what a customer's answer may refer to."""
    kind = interactive.get("type")
    if kind is None:
        raise missing("interactive['type']")
    if kind not in INTERACTIVE_TYPES:
        raise bad_param(f"Param interactive['type'] must be one of {', '.join(INTERACTIVE_TYPES)} - got {kind!r}.")
    header = interactive.get("header")
    if isinstance(header, dict) and header.get("type") == "text":
        _text(header.get("text"), "interactive['header']['text']", 60)
    footer = interactive.get("footer")
    if isinstance(footer, dict):
        _text(footer.get("text"), "interactive['footer']['text']", 60)
    body = interactive.get("body")
    body_text = body.get("text") if isinstance(body, dict) else None
    if kind in ("button", "list", "cta_url", "flow"):
        _text(body_text, "interactive['body']['text']", 4096 if kind == "list" else 1024)
    action = interactive.get("action")
    if not isinstance(action, dict):
        raise missing("interactive['action']")
    if kind == "button":
        return _check_reply_buttons(action)
    if kind == "list":
        return _check_list(action)
    if kind == "cta_url":
        _check_cta_url(action)
    if kind == "flow":
        return _check_flow_message(action, state, waba_id)
    return None


def _check_reply_buttons(action: dict[str, Any]) -> dict[str, Any]:
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not buttons:
        raise missing("interactive['action']['buttons']")
    if len(buttons) > 3:
        raise invalid("An interactive button message may have at most 3 buttons.")
    seen: dict[str, str] = {}
    for index, button in enumerate(buttons):
        reply = button.get("reply") if isinstance(button, dict) else None
        if not isinstance(reply, dict):
            raise missing(f"interactive['action']['buttons'][{index}]['reply']")
        button_id = _text(reply.get("id"), f"buttons[{index}]['reply']['id']", 256)
        title = _text(reply.get("title"), f"buttons[{index}]['reply']['title']", 20)
        assert button_id is not None
        assert title is not None
        if button_id in seen:
            raise invalid(f"Button ids must be unique; {button_id!r} is used twice.")
        seen[button_id] = title
    return {"buttons": seen}


def _check_list(action: dict[str, Any]) -> dict[str, Any]:
    _text(action.get("button"), "interactive['action']['button']", 20)
    sections = action.get("sections")
    if not isinstance(sections, list) or not sections:
        raise missing("interactive['action']['sections']")
    if len(sections) > 10:
        raise invalid("A list message may have at most 10 sections.")
    rows: dict[str, str] = {}
    for s_index, section in enumerate(sections):
        section_rows = section.get("rows") if isinstance(section, dict) else None
        if not isinstance(section_rows, list) or not section_rows:
            raise missing(f"sections[{s_index}]['rows']")
        if len(sections) > 1:
            _text(section.get("title"), f"sections[{s_index}]['title']", 24)
        for r_index, row in enumerate(section_rows):
            if not isinstance(row, dict):
                raise bad_param(f"sections[{s_index}]['rows'][{r_index}] must be an object.")
            row_id = _text(row.get("id"), f"rows[{r_index}]['id']", 200)
            title = _text(row.get("title"), f"rows[{r_index}]['title']", 24)
            _text(row.get("description"), f"rows[{r_index}]['description']", 72, required=False)
            assert row_id is not None
            assert title is not None
            rows[row_id] = title
    if len(rows) > 10:
        raise invalid("A list message may have at most 10 rows in total.")
    return {"rows": rows}


def _check_cta_url(action: dict[str, Any]) -> None:
    parameters = action.get("parameters")
    if not isinstance(parameters, dict):
        raise missing("interactive['action']['parameters']")
    _text(parameters.get("display_text"), "parameters['display_text']", 20)
    url = _text(parameters.get("url"), "parameters['url']", 2000)
    if url and not url.startswith(("https://", "http://")):
        raise invalid("Param parameters['url'] must be an http(s) URL.")


def _check_flow_message(action: dict[str, Any], state: State, waba_id: str) -> dict[str, Any]:
    parameters = action.get("parameters")
    if not isinstance(parameters, dict):
        raise missing("interactive['action']['parameters']")
    if str(parameters.get("flow_message_version", "")) != "3":
        raise invalid("Param flow_message_version must be '3'.")
    flow_id, flow_name = parameters.get("flow_id"), parameters.get("flow_name")
    if (flow_id is None) == (flow_name is None):
        raise invalid("Exactly one of flow_id and flow_name is required.")
    _text(parameters.get("flow_cta"), "parameters['flow_cta']", 20)
    flow_action = parameters.get("flow_action", "navigate")
    if flow_action not in ("navigate", "data_exchange"):
        raise bad_param("Param flow_action must be one of {navigate, data_exchange}.")
    if flow_action == "navigate":
        payload = parameters.get("flow_action_payload")
        if not isinstance(payload, dict) or not payload.get("screen"):
            raise missing("parameters['flow_action_payload']['screen']")
        if "data" in payload and (not isinstance(payload["data"], dict) or not payload["data"]):
            raise invalid("Param flow_action_payload['data'] must be a non-empty object when given.")
    mode = parameters.get("mode", "published")
    flows = [f for f in state.flows.values() if f.waba_id == waba_id]
    flow = next((f for f in flows if (f.id == str(flow_id) if flow_id is not None else f.name == flow_name)), None)
    if flow is None:
        raise invalid(f"Flow {flow_id or flow_name} does not exist in this WhatsApp Business Account.")
    _check_flow_sendable(flow, mode)
    return {"flow_id": flow.id, "flow_token": parameters.get("flow_token")}


def _check_flow_sendable(flow: Flow, mode: str) -> None:
    if flow.status == "BLOCKED":
        raise GraphFailure(132068, f"Flow {flow.id} is blocked.")
    if flow.status == "DEPRECATED":
        raise invalid(f"Flow {flow.id} is deprecated and cannot be sent.")
    if flow.status == "DRAFT" and mode != "draft":
        raise invalid(f"Flow {flow.id} is a draft: send it with mode 'draft' or publish it first.")


def variables(text: str) -> list[str]:
    """The variables of a text in order of appearance, without repeats."""
    seen: list[str] = []
    for match in _ANY_VARIABLE.finditer(text):
        if match.group(1) not in seen:
            seen.append(match.group(1))
    return seen


def component(template: Template, kind: str) -> dict[str, Any] | None:
    return next((c for c in template.components if str(c.get("type", "")).upper() == kind), None)


def _template_buttons(template: Template) -> list[dict[str, Any]]:
    buttons = component(template, "BUTTONS")
    return list(buttons.get("buttons", [])) if buttons else []


def find_template(state: State, waba_id: str, name: str, language: str) -> tuple[Template | None, bool]:
    """The template of that name and language, and whether the name exists in any language."""
    language = language.replace("-", "_")
    named = [t for t in state.templates.values() if t.waba_id == waba_id and t.name == name]
    return next((t for t in named if t.language == language), None), bool(named)


def check_template_send(content: dict[str, Any], state: State, waba_id: str) -> Template:
    """Validate a template send against the stored template (§2.9)."""
    name = content.get("name")
    if not name:
        raise missing("template['name']")
    language = content.get("language")
    if language is None:
        raise missing("template['language']")
    code = language.get("code") if isinstance(language, dict) else None
    if not code:
        raise missing("template['language']['code']")
    template, name_exists = find_template(state, waba_id, str(name), str(code))
    if template is None:
        where = "in the translation" if name_exists else "(no template of that name)"
        raise GraphFailure(132001, f"template name ({name}) does not exist in {code} {where}".rstrip())
    if template.status == "PAUSED":
        raise GraphFailure(132015, f"Template {name} ({code}) is paused because of low quality.")
    if template.status == "DISABLED":
        raise GraphFailure(132016, f"Template {name} ({code}) is disabled.")
    if template.status not in SENDABLE_TEMPLATE_STATUSES:
        raise GraphFailure(132001, f"template name ({name}) in {code} is {template.status}, not APPROVED")
    header, body, buttons = _split_components(content.get("components", []))
    _check_header_params(template, header)
    _check_body_params(template, body)
    _check_button_params(template, buttons)
    return template


def _split_components(
    given: Any,
) -> tuple[list[Any] | None, list[Any] | None, dict[int, tuple[str, list[Any]]]]:
    """The header, body and button parameters of a template send (button index -> sub_type, params)."""
    if not isinstance(given, list):
        raise bad_param("Param template['components'] must be an array.")
    header: list[Any] | None = None
    body: list[Any] | None = None
    buttons: dict[int, tuple[str, list[Any]]] = {}
    for part in given:
        if not isinstance(part, dict):
            raise bad_param("Each template component must be an object.")
        kind = str(part.get("type", "")).lower()
        parameters = part.get("parameters", [])
        if not isinstance(parameters, list):
            raise bad_param(f"Param parameters of the {kind} component must be an array.")
        if kind == "header":
            header = parameters
        elif kind == "body":
            body = parameters
        elif kind == "button":
            try:
                index = int(part.get("index", ""))
            except (TypeError, ValueError):
                raise missing("template['components'][]['index']") from None
            buttons[index] = (str(part.get("sub_type", "")).lower(), parameters)
        elif kind not in ("carousel", "limited_time_offer"):
            raise bad_param(f"Param template component type must be header, body or button - got {kind!r}.")
    return header, body, buttons


def _fill(text: str, values: list[str] | dict[str, str], named: bool) -> str:
    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if isinstance(values, dict):
            return values.get(key, match.group(0))
        return values[int(key) - 1] if key.isdigit() and 0 < int(key) <= len(values) else match.group(0)

    return (_NAMED if named else _POSITIONAL).sub(replace, text)


def _param_text(param: Any, where: str) -> str:
    if not isinstance(param, dict):
        raise bad_param(f"Each {where} parameter must be an object.")
    kind = param.get("type")
    if kind == "text":
        text = param.get("text")
        if not isinstance(text, str) or not text:
            raise missing(f"{where} parameter text")
        return text
    if kind in ("currency", "date_time"):
        value = param.get(kind)
        if not isinstance(value, dict) or not value.get("fallback_value"):
            raise missing(f"{where} parameter {kind}['fallback_value']")
        return str(value["fallback_value"])
    raise GraphFailure(132012, f"The {where} expects text parameters, got {kind!r}.")


def _check_header_params(template: Template, params: list[Any] | None) -> None:
    header = component(template, "HEADER")
    if header is None:
        if params:
            raise GraphFailure(132000, "The template has no header, but header parameters were given.")
        return
    fmt = str(header.get("format", "TEXT")).upper()
    if fmt == "TEXT":
        expected = len(variables(str(header.get("text", ""))))
        got = params or []
        if len(got) != expected:
            raise GraphFailure(132000, f"header: expected {expected} parameter(s), received {len(got)}.")
        values = [_param_text(p, "header") for p in got]
        filled = _fill(str(header.get("text", "")), _as_values(got, values, template), _named(template))
        if len(filled) > 60:
            raise GraphFailure(132005, f"The filled-in header is {len(filled)} characters long; the maximum is 60.")
        return
    if not params:
        raise GraphFailure(132000, f"header: expected 1 {fmt} parameter, received 0.")
    if len(params) != 1:
        raise GraphFailure(132000, f"header: expected 1 {fmt} parameter, received {len(params)}.")
    param = params[0]
    kind = str(param.get("type", "")).upper() if isinstance(param, dict) else ""
    if kind != ("VIDEO" if fmt == "GIF" else fmt):
        raise GraphFailure(132012, f"header: the template expects {fmt}, received {kind or 'nothing'}.")
    media = param.get(kind.lower())
    if fmt != "LOCATION" and (not isinstance(media, dict) or not (media.get("id") or media.get("link"))):
        raise missing(f"header parameter {kind.lower()}['id'] or ['link']")


def _named(template: Template) -> bool:
    return template.parameter_format.upper() == "NAMED"


def _as_values(params: list[Any], values: list[str], template: Template) -> list[str] | dict[str, str]:
    if not _named(template):
        return values
    return {str(p.get("parameter_name")): v for p, v in zip(params, values, strict=True)}


def _check_body_params(template: Template, params: list[Any] | None) -> None:
    body = component(template, "BODY")
    text = str(body.get("text", "")) if body else ""
    names = variables(text)
    got = params or []
    if len(got) != len(names):
        raise GraphFailure(132000, f"body: expected {len(names)} parameter(s), received {len(got)}.")
    values = [_param_text(p, "body") for p in got]
    if _named(template):
        given = [str(p.get("parameter_name", "")) for p in got]
        unknown = [g for g in given if g not in names]
        if unknown or sorted(given) != sorted(names):
            raise GraphFailure(
                132000, f"body: expected the named parameters {', '.join(names)}, received {', '.join(given)}."
            )
    filled = _fill(text, _as_values(got, values, template), _named(template))
    if len(filled) > 1024:
        raise GraphFailure(132005, f"The filled-in body is {len(filled)} characters long; the maximum is 1024.")


_SUB_TYPES = {"URL": "url", "QUICK_REPLY": "quick_reply", "COPY_CODE": "copy_code", "FLOW": "flow", "OTP": "url"}
_BUTTON_PARAM = {"url": "text", "quick_reply": "payload", "copy_code": "coupon_code", "flow": "action"}


def _check_button_params(template: Template, given: dict[int, tuple[str, list[Any]]]) -> None:
    buttons = _template_buttons(template)
    for index, button in enumerate(buttons):
        kind = str(button.get("type", "")).upper()
        needs = (kind == "URL" and "{{" in str(button.get("url", ""))) or kind == "COPY_CODE"
        needs = needs or (kind == "OTP" and str(button.get("otp_type", "")).upper() != "ZERO_TAP")
        if needs and index not in given:
            raise GraphFailure(132000, f"button {index} ({kind}) expects a parameter, received none.")
    for index, (sub_type, params) in given.items():
        if not 0 <= index < len(buttons):
            raise invalid(f"The template has no button at index {index}.")
        expected = _SUB_TYPES.get(str(buttons[index].get("type", "")).upper())
        if sub_type != expected:
            raise GraphFailure(132012, f"button {index}: the template expects sub_type {expected}, got {sub_type!r}.")
        if len(params) != 1:
            raise GraphFailure(132000, f"button {index}: expected 1 parameter, received {len(params)}.")
        param = params[0]
        wanted = _BUTTON_PARAM[sub_type]
        if not isinstance(param, dict) or param.get("type") != wanted:
            got = param.get("type") if isinstance(param, dict) else None
            raise GraphFailure(132012, f"button {index}: expected a {wanted} parameter, got {got!r}.")


def _template_extra(template: Template, content: dict[str, Any]) -> dict[str, Any] | None:
    """Quick-reply buttons of a sent template (text -> payload) for the customer's taps."""
    buttons = _template_buttons(template)
    payloads: dict[str, str] = {}
    for part in content.get("components", []):
        if str(part.get("type", "")).lower() == "button" and str(part.get("sub_type", "")).lower() == "quick_reply":
            params = part.get("parameters") or [{}]
            payloads[str(part.get("index"))] = str(params[0].get("payload", ""))
    replies = {}
    for index, button in enumerate(buttons):
        if str(button.get("type", "")).upper() == "QUICK_REPLY":
            text = str(button.get("text", ""))
            replies[text] = payloads.get(str(index), text)
    return {"quick_replies": replies} if replies else None


def in_window(state: State, phone_number_id: str, wa_id: str, now: float) -> bool:
    last = state.windows.get((phone_number_id, wa_id))
    return last is not None and now - last < WINDOW_SECONDS


def pricing_type(send: Send, window_open: bool) -> str:
    """``free_customer_service`` for free-form and utility templates inside the window (§9.4)."""
    if window_open and (send.free_form or send.category == "utility"):
        return "free_customer_service"
    return "regular"


def failure_for(message: Message) -> tuple[int, str]:
    """The error a message that ``--fail-rate`` picked fails with."""
    if message.category == "marketing":
        return 131049, (
            "Delivery was withheld to protect user engagement; wait at least 24 hours before retrying this "
            "marketing template."
        )
    return 131026, "The recipient cannot receive this message (not a WhatsApp user or outdated client)."


# -- template creation (§3.2, §3.3) ----------------------------------------------------------------

CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
HEADER_FORMATS = ("TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION", "GIF")
REJECTION_REASONS = (
    "ABUSIVE_CONTENT",
    "INCORRECT_CATEGORY",
    "INVALID_FORMAT",
    "NONE",
    "PROMOTIONAL",
    "SCAM",
    "TAG_CONTENT_MISMATCH",
)
_TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}([_-][A-Za-z]{2,4})?$")
_AUTH_BODY = "*{{1}}* is your verification code."
_AUTH_SECURITY = " For your security, do not share this code."


def template_error(user_msg: str, subcode: int | None = None, title: str = "Invalid template") -> GraphFailure:
    """A template-creation error: code 100 with Meta's 2388xxx subcode and a user message."""
    return GraphFailure(100, message="Invalid parameter", subcode=subcode, user_title=title, user_msg=user_msg)


def check_new_template(body: dict[str, Any], state: State, waba_id: str, limit: int) -> Template:  # noqa: PLR0912
    """Validate a ``POST /{waba-id}/message_templates`` body; the template to store, PENDING."""
    name = body.get("name")
    if not name:
        raise template_error("The parameter name is required.", title="Missing template name")
    if not isinstance(name, str) or not _TEMPLATE_NAME.match(name):
        raise template_error(
            "Template names may contain only lowercase letters, digits and underscores (at most 512).",
            title="Invalid template name",
        )
    language = body.get("language")
    if not language:
        raise template_error("The parameter language is required.", title="Missing language")
    if not isinstance(language, str) or not _LANGUAGE.match(language):
        raise template_error(f"The language {language!r} is not supported.", title="Invalid language")
    language = language.replace("-", "_")
    category = str(body.get("category") or "").upper()
    if category not in CATEGORIES:
        raise template_error(
            f"The category must be one of {', '.join(CATEGORIES)}; got {body.get('category')!r}.",
            title="Invalid category",
        )
    parameter_format = str(body.get("parameter_format") or "positional").upper()
    if parameter_format not in ("POSITIONAL", "NAMED"):
        raise template_error("parameter_format must be positional or named.", title="Invalid parameter format")
    existing, _ = find_template(state, waba_id, name, language)
    if existing is not None:
        raise template_error(
            f"A template named {name} already exists in {language}.",
            subcode=2388024,
            title="Content in this language already exists",
        )
    if len(state.templates_of(waba_id)) >= limit:
        raise template_error(
            f"This WhatsApp Business Account has reached its limit of {limit} templates.",
            subcode=2388019,
            title="Template limit reached",
        )
    components = body.get("components")
    if not isinstance(components, list) or not components:
        raise template_error("The parameter components is required (at least a BODY).", title="Missing components")
    normalized = [_normalize_component(c, category, parameter_format) for c in components]
    kinds = [c["type"] for c in normalized]
    for kind in ("HEADER", "BODY", "FOOTER", "BUTTONS"):
        if kinds.count(kind) > 1:
            raise template_error(f"A template may have only one {kind} component.", subcode=2388072)
    if "BODY" not in kinds:
        raise template_error("A template needs a BODY component.", subcode=2388072, title="Missing body")
    if category == "AUTHENTICATION":
        _check_authentication(normalized)
    ttl = body.get("message_send_ttl_seconds")
    if ttl is not None and (not isinstance(ttl, int) or isinstance(ttl, bool) or not -1 <= ttl <= 86400 * 30):
        raise template_error("message_send_ttl_seconds must be a whole number of seconds.")
    return Template(
        id=state.new_id(),
        waba_id=waba_id,
        name=name,
        language=language,
        category=category,
        status="PENDING",
        components=normalized,
        parameter_format=parameter_format,
        sub_category="CUSTOM" if category == "MARKETING" else None,
        message_send_ttl_seconds=ttl,
    )


def check_components(components: Any, category: str, parameter_format: str) -> list[dict[str, Any]]:
    """Validate replacement components for a template edit."""
    if not isinstance(components, list) or not components:
        raise template_error("The parameter components must be a non-empty array.")
    normalized = [_normalize_component(c, category, parameter_format) for c in components]
    if [c["type"] for c in normalized].count("BODY") != 1:
        raise template_error("A template needs exactly one BODY component.", subcode=2388072)
    return normalized


def _normalize_component(raw: Any, category: str, parameter_format: str) -> dict[str, Any]:  # noqa: PLR0912
    if not isinstance(raw, dict):
        raise template_error("Each component must be an object.")
    part = dict(raw)
    kind = str(part.get("type", "")).upper()
    part["type"] = kind
    named = parameter_format == "NAMED"
    if kind == "HEADER":
        fmt = str(part.get("format", "")).upper()
        if fmt not in HEADER_FORMATS:
            raise template_error(f"The header format must be one of {', '.join(HEADER_FORMATS)}.", subcode=2388047)
        part["format"] = fmt
        if fmt == "TEXT":
            text = _component_text(part, "header", 60, 2388040)
            names = _check_variables(text, "header", named, part.get("example"), subcode=2388047)
            if len(names) > 1:
                raise template_error("A header may have at most one variable.", subcode=2388047)
        elif fmt == "LOCATION" and category == "AUTHENTICATION":
            raise template_error("Location headers are for UTILITY and MARKETING templates.", subcode=2388047)
        elif fmt != "LOCATION":
            example = part.get("example")
            handles = example.get("header_handle") if isinstance(example, dict) else None
            if not isinstance(handles, list) or not handles:
                raise template_error(f"A {fmt} header needs example.header_handle (a resumable-upload handle).")
    elif kind == "BODY":
        if category == "AUTHENTICATION" and not part.get("text"):
            part["text"] = _AUTH_BODY + (_AUTH_SECURITY if part.get("add_security_recommendation") else "")
            part["example"] = {"body_text": [["123456"]]}
        text = _component_text(part, "body", 1024, 2388040)
        _check_variables(text, "body", named, part.get("example"), subcode=2388072)
    elif kind == "FOOTER":
        if category == "AUTHENTICATION" and "code_expiration_minutes" in part:
            minutes = part["code_expiration_minutes"]
            if not isinstance(minutes, int) or not 1 <= minutes <= 90:
                raise template_error("code_expiration_minutes must be between 1 and 90.", subcode=2388073)
            part.setdefault("text", f"This code expires in {minutes} minutes.")
        text = _component_text(part, "footer", 60, 2388040)
        if variables(text):
            raise template_error("A footer may not contain variables.", subcode=2388073)
    elif kind == "BUTTONS":
        _check_buttons(part, category)
    else:
        raise template_error(f"Unknown component type {raw.get('type')!r}.")
    return part


def _component_text(part: dict[str, Any], where: str, limit: int, subcode: int) -> str:
    text = part.get("text")
    if not isinstance(text, str) or not text.strip():
        raise template_error(f"The {where} needs a text.")
    if len(text) > limit:
        raise template_error(f"The {where} text is {len(text)} characters long; the maximum is {limit}.", subcode)
    return text


def _check_variables(text: str, where: str, named: bool, example: Any, *, subcode: int) -> list[str]:
    names = variables(text)
    if not names:
        return names
    if named:
        if not all(re.fullmatch(r"[a-z_][a-z0-9_]*", n) for n in names):
            raise template_error(f"Named variables in the {where} are lowercase letters and underscores.", subcode)
        key = f"{where}_text_named_params"
        given = example.get(key) if isinstance(example, dict) else None
        if not isinstance(given, list) or {str(g.get("param_name")) for g in given if isinstance(g, dict)} != set(
            names
        ):
            raise template_error(f"Every {where} variable needs an example in example.{key}.")
    else:
        if names != [str(i) for i in range(1, len(names) + 1)]:
            raise template_error(f"The {where} variables must be {{{{1}}}}, {{{{2}}}}, ... in order.", subcode)
        key = f"{where}_text"
        given = example.get(key) if isinstance(example, dict) else None
        values = given[0] if where == "body" and isinstance(given, list) and given else given
        if not isinstance(values, list) or len(values) != len(names):
            raise template_error(f"Every {where} variable needs an example value in example.{key}.")
    stripped = text.strip()
    if _ANY_VARIABLE.match(stripped) or re.search(r"\{\{[^{}]*\}\}$", stripped):
        raise template_error(f"The {where} may not start or end with a variable.", 2388299)
    words = len(_WORD.findall(_ANY_VARIABLE.sub(" ", text)))
    if where == "body" and words < 2 * len(names) + 1:  # Meta's length rule is about the body
        raise template_error(f"The {where} has too many variables for its length.", 2388293)
    return names


def _check_buttons(part: dict[str, Any], category: str) -> None:  # noqa: PLR0912
    buttons = part.get("buttons")
    if not isinstance(buttons, list) or not buttons:
        raise template_error("BUTTONS needs a non-empty buttons array.")
    if len(buttons) > 10:
        raise template_error("A template may have at most 10 buttons.")
    kinds: list[str] = []
    for index, button in enumerate(buttons):
        if not isinstance(button, dict):
            raise template_error("Each button must be an object.")
        kind = str(button.get("type", "")).upper()
        button["type"] = kind
        kinds.append(kind)
        if kind in ("QUICK_REPLY", "URL", "PHONE_NUMBER", "FLOW") or (kind == "OTP" and "text" in button):
            text = button.get("text")
            if not isinstance(text, str) or not text or len(text) > 25:
                raise template_error(f"Button {index} needs a text of 1 to 25 characters.")
        if kind == "URL":
            url = button.get("url")
            if not isinstance(url, str) or not url.startswith(("https://", "http://")) or len(url) > 2000:
                raise template_error(f"Button {index} needs an http(s) url of at most 2000 characters.")
            count = len(variables(url))
            if count > 1 or (count == 1 and not re.search(r"\{\{\s*1\s*\}\}$", url)):
                raise template_error(f"Button {index}: a URL may have one variable, {{{{1}}}}, at its end.")
            if count and not button.get("example"):
                raise template_error(f"Button {index}: a URL with a variable needs an example.")
        elif kind == "PHONE_NUMBER":
            phone = button.get("phone_number")
            if not isinstance(phone, str) or not phone or len(phone) > 20:
                raise template_error(f"Button {index} needs a phone_number of at most 20 characters.")
        elif kind == "COPY_CODE":
            example = button.get("example")
            if not isinstance(example, str) or not example or len(example) > 15:
                raise template_error(f"Button {index}: COPY_CODE needs an example of at most 15 characters.")
        elif kind == "FLOW":
            if not any(button.get(k) for k in ("flow_id", "flow_name", "flow_json")):
                raise template_error(f"Button {index}: FLOW needs flow_id, flow_name or flow_json.")
        elif kind == "OTP":
            if category != "AUTHENTICATION":
                raise template_error("OTP buttons are for AUTHENTICATION templates.")
            if str(button.get("otp_type", "")).upper() not in ("COPY_CODE", "ONE_TAP", "ZERO_TAP"):
                raise template_error(f"Button {index}: otp_type must be COPY_CODE, ONE_TAP or ZERO_TAP.")
        elif kind not in ("QUICK_REPLY", "MPM", "SPM", "CATALOG", "VOICE_CALL", "APP"):
            raise template_error(f"Button {index}: unknown button type {kind!r}.")
    for kind, most in (("URL", 2), ("PHONE_NUMBER", 1), ("COPY_CODE", 1)):
        if kinds.count(kind) > most:
            raise template_error(f"A template may have at most {most} {kind} button(s).")
    quick = [i for i, k in enumerate(kinds) if k == "QUICK_REPLY"]
    if quick and quick != list(range(quick[0], quick[-1] + 1)):
        raise template_error("Quick-reply buttons must be next to each other.")


def _check_authentication(components: list[dict[str, Any]]) -> None:
    buttons = next((c for c in components if c["type"] == "BUTTONS"), None)
    kinds = [b.get("type") for b in (buttons or {}).get("buttons", [])]
    if "OTP" not in kinds and "URL" not in kinds:
        raise template_error("An AUTHENTICATION template needs an OTP button.")


# -- template review -------------------------------------------------------------------------------

_PROMOTIONAL = re.compile(r"\b(discount|sale|promo code|coupon)\b|% off", re.IGNORECASE)
_MARKER = re.compile(r"REJECT(?::([A-Z_]+))?")


@dataclass(frozen=True)
class Review:
    status: str  # APPROVED | REJECTED
    reason: str  # NONE or a rejection reason (§3.5)
    rejection_info: dict[str, str] | None = None
    pause_later: bool = False


def _texts(template: Template) -> list[str]:
    texts = [str(c.get("text", "")) for c in template.components if c.get("text")]
    for part in template.components:
        texts += [str(b.get("text", "")) for b in part.get("buttons", []) if isinstance(b, dict)]
    return texts


def review(template: Template) -> Review:
    """Decide a PENDING template, by these rules, first match wins:

    1. a text contains ``REJECT`` (or ``REJECT:<REASON>`` with a reason of §3.5): REJECTED with
       INVALID_FORMAT (or that reason);
    2. two variables next to each other (``{{1}}{{2}}``): REJECTED, INVALID_FORMAT, with rejection_info;
    3. MARKETING with "free money": REJECTED, PROMOTIONAL;
    4. UTILITY or AUTHENTICATION that reads like a promotion (discount, sale, promo code, coupon,
       "% off"): REJECTED, INCORRECT_CATEGORY;
    5. otherwise APPROVED; a text containing ``PAUSE`` is APPROVED and paused (132015 on send)
       one review delay later.
    """
    texts = _texts(template)
    joined = "\n".join(texts)
    marker = _MARKER.search(joined)
    if marker:
        reason = marker.group(1) if marker.group(1) in REJECTION_REASONS else "INVALID_FORMAT"
        info = None
        if reason == "INVALID_FORMAT":
            info = {
                "reason": "The template contains the sandbox's REJECT marker.",
                "recommendation": "Remove REJECT from the template's text and submit it again.",
            }
        return Review("REJECTED", reason, info)
    if re.search(r"\}\}\s*\{\{", joined):
        return Review(
            "REJECTED",
            "INVALID_FORMAT",
            {
                "reason": "The template places two variables next to each other ({{1}}{{2}}).",
                "recommendation": "Add descriptive text or punctuation between variables.",
            },
        )
    if template.category == "MARKETING" and "free money" in joined.lower():
        return Review("REJECTED", "PROMOTIONAL")
    if template.category in ("UTILITY", "AUTHENTICATION") and _PROMOTIONAL.search(joined):
        return Review("REJECTED", "INCORRECT_CATEGORY")
    return Review("APPROVED", "NONE", pause_later="PAUSE" in joined)


# -- Flow JSON (§6) --------------------------------------------------------------------------------

FLOW_CATEGORIES = (
    "SIGN_UP",
    "SIGN_IN",
    "APPOINTMENT_BOOKING",
    "LEAD_GENERATION",
    "CONTACT_US",
    "CUSTOMER_SUPPORT",
    "SURVEY",
    "OTHER",
)
FLOW_JSON_VERSIONS = ("2.1", "3.0", "3.1", "4.0", "5.0", "5.1", "6.0", "6.1", "6.2", "6.3", "7.0", "7.1", "7.2")
FLOW_COMPONENTS = frozenset(
    {
        "TextHeading",
        "TextSubheading",
        "TextBody",
        "TextCaption",
        "RichText",
        "TextInput",
        "TextArea",
        "CheckboxGroup",
        "RadioButtonsGroup",
        "Dropdown",
        "Footer",
        "OptIn",
        "EmbeddedLink",
        "DatePicker",
        "CalendarPicker",
        "Image",
        "ImageCarousel",
        "If",
        "Switch",
        "NavigationList",
        "ChipsSelector",
        "PhotoPicker",
        "DocumentPicker",
        "Form",
    }
)
_SCREEN_ID = re.compile(r"^[A-Z][A-Z_]*$")


@dataclass(frozen=True)
class FlowCheck:
    errors: list[dict[str, Any]]
    json_version: str | None
    data_api_version: str | None


def check_flow_json(text: str) -> FlowCheck:  # noqa: PLR0912, PLR0915 - one check per Flow JSON rule
    """Validation errors of a Flow JSON document, with line/column pointers (§6)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        error = {
            "error": "INVALID_JSON",
            "error_type": "JSON_SCHEMA_ERROR",
            "message": f"Invalid JSON: {exc.msg}.",
            "line_start": exc.lineno,
            "line_end": exc.lineno,
            "column_start": exc.colno,
            "column_end": exc.colno,
        }
        return FlowCheck([error], None, None)
    spans = json_spans(text)
    errors: list[dict[str, Any]] = []

    def report(error: str, message: str, path: str, error_type: str = "FLOW_JSON_ERROR") -> None:
        line_start, column_start, line_end, column_end = spans.get(path, (1, 1, 1, 1))
        where = {"line_start": line_start, "line_end": line_end, "column_start": column_start, "column_end": column_end}
        errors.append(
            {
                "error": error,
                "error_type": error_type,
                "message": message,
                **where,
                "pointers": [{**where, "path": path}],
            }
        )

    if not isinstance(document, dict):
        report("INVALID_PROPERTY_TYPE", "The Flow JSON must be an object.", "", "JSON_SCHEMA_ERROR")
        return FlowCheck(errors, None, None)
    version = document.get("version")
    if version is None:
        report("MISSING_REQUIRED_PROPERTY", "Missing required property 'version'.", "", "JSON_SCHEMA_ERROR")
    elif str(version) not in FLOW_JSON_VERSIONS:
        report("INVALID_PROPERTY_VALUE", f"Invalid value found for property 'version': {version}.", "version")
    data_api = document.get("data_api_version")
    screens = document.get("screens")
    if not isinstance(screens, list) or not screens:
        report("MISSING_REQUIRED_PROPERTY", "Missing required property 'screens'.", "", "JSON_SCHEMA_ERROR")
        screens = []
    seen: set[str] = set()
    terminal = False
    for s_index, screen in enumerate(screens):
        path = f"screens[{s_index}]"
        if not isinstance(screen, dict):
            report("INVALID_PROPERTY_TYPE", "A screen must be an object.", path, "JSON_SCHEMA_ERROR")
            continue
        screen_id = screen.get("id")
        if not isinstance(screen_id, str) or not _SCREEN_ID.match(screen_id):
            report("INVALID_PROPERTY_VALUE", "Invalid value found for property 'id'.", f"{path}.id")
        elif screen_id in seen:
            report("DUPLICATE_SCREEN_ID", f"Screen id {screen_id} is used more than once.", f"{path}.id")
        else:
            seen.add(screen_id)
        terminal = terminal or screen.get("terminal") is True
        layout = screen.get("layout")
        if not isinstance(layout, dict):
            report("MISSING_REQUIRED_PROPERTY", "Missing required property 'layout'.", path, "JSON_SCHEMA_ERROR")
            continue
        if layout.get("type") != "SingleColumnLayout":
            report("INVALID_PROPERTY_VALUE", "Invalid value found for property 'type'.", f"{path}.layout.type")
        children = layout.get("children")
        if not isinstance(children, list):
            report(
                "MISSING_REQUIRED_PROPERTY",
                "Missing required property 'children'.",
                f"{path}.layout",
                "JSON_SCHEMA_ERROR",
            )
            continue
        for c_index, child in enumerate(children):
            child_path = f"{path}.layout.children[{c_index}]"
            kind = child.get("type") if isinstance(child, dict) else None
            if kind not in FLOW_COMPONENTS:
                report("INVALID_PROPERTY_VALUE", "Invalid value found for property 'type'.", f"{child_path}.type")
    if screens and not terminal:
        report("MISSING_TERMINAL_SCREEN", "At least one screen must be terminal.", "screens")
    return FlowCheck(
        errors,
        str(version) if version is not None else None,
        str(data_api) if data_api is not None else None,
    )


def json_spans(text: str) -> dict[str, tuple[int, int, int, int]]:
    """Where each value of a JSON document is: path -> (line, column, end line, end column), 1-based."""
    spans: dict[str, tuple[int, int, int, int]] = {}
    decoder = json.JSONDecoder()
    line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def position(index: int) -> tuple[int, int]:
        low, high = 0, len(line_starts) - 1
        while low < high:
            mid = (low + high + 1) // 2
            if line_starts[mid] <= index:
                low = mid
            else:
                high = mid - 1
        return low + 1, index - line_starts[low] + 1

    def skip(index: int) -> int:
        while index < len(text) and text[index] in " \t\r\n":
            index += 1
        return index

    def value(index: int, path: str) -> int:
        index = skip(index)
        start = index
        if text[index] == "{":
            index = skip(index + 1)
            while text[index] != "}":
                key, index = decoder.raw_decode(text, index)
                index = skip(index) + 1  # the colon
                index = value(index, f"{path}.{key}" if path else str(key))
                index = skip(index)
                if text[index] == ",":
                    index = skip(index + 1)
            index += 1
        elif text[index] == "[":
            index = skip(index + 1)
            item = 0
            while text[index] != "]":
                index = skip(value(index, f"{path}[{item}]"))
                item += 1
                if text[index] == ",":
                    index = skip(index + 1)
            index += 1
        else:
            _, index = decoder.raw_decode(text, index)
        spans[path] = (*position(start), *position(max(start, index - 1)))
        return index

    try:
        value(0, "")
    except (ValueError, IndexError):
        return {}
    return spans


# -- business profile (§4.6) -----------------------------------------------------------------------

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


# -- field selection (§1.3) ------------------------------------------------------------------------


def split_top(text: str, separator: str = ",") -> list[str]:
    """Split at ``separator`` outside brackets and quotes."""
    parts: list[str] = []
    depth, quote = 0, ""
    current: list[str] = []
    for ch in text:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == separator and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


_MODIFIER = re.compile(r"\.([a-z_]+)\(((?:[^()]|\([^()]*\))*)\)")


def parse_fields(value: str) -> list[tuple[str, dict[str, str]]]:
    """``fields=a,b.start(1).end(2)`` as [("a", {}), ("b", {"start": "1", "end": "2"})]."""
    result: list[tuple[str, dict[str, str]]] = []
    for part in split_top(value):
        name_end = len(part)
        for i, ch in enumerate(part):
            if ch in ".{(":
                name_end = i
                break
        name = part[:name_end]
        modifiers = {m.group(1): m.group(2) for m in _MODIFIER.finditer(part[name_end:])}
        result.append((name, modifiers))
    return result


def parse_list(value: str) -> list[str]:
    """A Graph list argument: ``[]``, ``["US","BR"]``, ``[0,2]`` or ``US,IN``."""
    text = value.strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError:
            items = [p.strip().strip("\"'") for p in text[1:-1].split(",")]
        return [str(i) for i in items if str(i) != ""] if isinstance(items, list) else []
    return [p.strip().strip("\"'") for p in text.split(",") if p.strip()]
