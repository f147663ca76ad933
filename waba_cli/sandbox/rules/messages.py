"""Sends (§2): the envelope of ``POST /{phone-number-id}/messages`` and the free-form content of
each message type (text, media, location, contacts, reactions, interactive messages).

Template messages are checked against the stored template in ``template_sends``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from waba_cli.sandbox.errors import GraphFailure, bad_param, invalid, missing
from waba_cli.sandbox.rules.phones import wa_id_of
from waba_cli.sandbox.rules.template_sends import check_template_send, template_extra
from waba_cli.sandbox.state import Flow, Message, State, Template

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
# Meta's length and count limits (§2); waba's message builder has the same, by the same names
TEXT_MAX = 4096
CAPTION_MAX = 1024
HEADER_TEXT_MAX = 60
FOOTER_MAX = 60
BUTTON_BODY_MAX = 1024
BUTTON_ID_MAX = 256
BUTTON_TITLE_MAX = 20
LIST_BODY_MAX = 4096
LIST_BUTTON_MAX = 20
LIST_SECTIONS_MAX = 10
LIST_ROWS_MAX = 10
SECTION_TITLE_MAX = 24
ROW_ID_MAX = 200
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
CTA_TEXT_MAX = 20
FLOW_CTA_MAX = 20
CALLBACK_DATA_MAX = 512


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
    if callback is not None and (not isinstance(callback, str) or len(callback) > CALLBACK_DATA_MAX):
        raise invalid(f"Param biz_opaque_callback_data must be a string of at most {CALLBACK_DATA_MAX} characters.")
    if kind == "contacts":
        _check_contacts(body.get("contacts"))
        return Send(wa_id, kind, "service", free_form=True)
    content = _object(body, kind)
    if kind == "template":
        template = check_template_send(content, state, number.waba_id)
        extra = template_extra(template, content)
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
        _text(content.get("body"), "text['body']", TEXT_MAX)
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
        _text(media["caption"], f"{kind}['caption']", CAPTION_MAX, required=False)


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
        _text(header.get("text"), "interactive['header']['text']", HEADER_TEXT_MAX)
    footer = interactive.get("footer")
    if isinstance(footer, dict):
        _text(footer.get("text"), "interactive['footer']['text']", FOOTER_MAX)
    body = interactive.get("body")
    body_text = body.get("text") if isinstance(body, dict) else None
    if kind in ("button", "list", "cta_url", "flow"):
        _text(body_text, "interactive['body']['text']", LIST_BODY_MAX if kind == "list" else BUTTON_BODY_MAX)
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
        button_id = _text(reply.get("id"), f"buttons[{index}]['reply']['id']", BUTTON_ID_MAX)
        title = _text(reply.get("title"), f"buttons[{index}]['reply']['title']", BUTTON_TITLE_MAX)
        assert button_id is not None
        assert title is not None
        if button_id in seen:
            raise invalid(f"Button ids must be unique; {button_id!r} is used twice.")
        seen[button_id] = title
    return {"buttons": seen}


def _check_list(action: dict[str, Any]) -> dict[str, Any]:
    _text(action.get("button"), "interactive['action']['button']", LIST_BUTTON_MAX)
    sections = action.get("sections")
    if not isinstance(sections, list) or not sections:
        raise missing("interactive['action']['sections']")
    if len(sections) > LIST_SECTIONS_MAX:
        raise invalid(f"A list message may have at most {LIST_SECTIONS_MAX} sections.")
    rows: dict[str, str] = {}
    for s_index, section in enumerate(sections):
        section_rows = section.get("rows") if isinstance(section, dict) else None
        if not isinstance(section_rows, list) or not section_rows:
            raise missing(f"sections[{s_index}]['rows']")
        if len(sections) > 1:
            _text(section.get("title"), f"sections[{s_index}]['title']", SECTION_TITLE_MAX)
        for r_index, row in enumerate(section_rows):
            if not isinstance(row, dict):
                raise bad_param(f"sections[{s_index}]['rows'][{r_index}] must be an object.")
            row_id = _text(row.get("id"), f"rows[{r_index}]['id']", ROW_ID_MAX)
            title = _text(row.get("title"), f"rows[{r_index}]['title']", ROW_TITLE_MAX)
            _text(row.get("description"), f"rows[{r_index}]['description']", ROW_DESCRIPTION_MAX, required=False)
            assert row_id is not None
            assert title is not None
            rows[row_id] = title
    if len(rows) > LIST_ROWS_MAX:
        raise invalid(f"A list message may have at most {LIST_ROWS_MAX} rows in total.")
    return {"rows": rows}


def _check_cta_url(action: dict[str, Any]) -> None:
    parameters = action.get("parameters")
    if not isinstance(parameters, dict):
        raise missing("interactive['action']['parameters']")
    _text(parameters.get("display_text"), "parameters['display_text']", CTA_TEXT_MAX)
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
    _text(parameters.get("flow_cta"), "parameters['flow_cta']", FLOW_CTA_MAX)
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


def failure_for(message: Message) -> tuple[int, str]:
    """The error a message that ``--fail-rate`` picked fails with."""
    if message.category == "marketing":
        return 131049, (
            "Delivery was withheld to protect user engagement; wait at least 24 hours before retrying this "
            "marketing template."
        )
    return 131026, "The recipient cannot receive this message (not a WhatsApp user or outdated client)."
