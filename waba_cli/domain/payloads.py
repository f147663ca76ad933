"""Request bodies for ``POST /{phone-number-id}/messages``, built and checked against Meta's limits.

The one place a message becomes what the Graph API receives: ``waba send``, campaigns and
auto-replies all build their bodies here. Every builder validates what Meta would reject
(reference §2) and raises ``ValidationError`` naming the option, so a bad message is refused
before anything is recorded or sent. The bodies are complete (``messaging_product``,
``recipient_type``, ``to``, ``type``), exactly as sent. A template message is bound against the
template's local definition, given as its fields (``TemplateDefinition``), not a database row.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Protocol
from urllib.parse import urlsplit

from waba_cli.domain.templates import render as template_render
from waba_cli.errors import ValidationError

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
FLOW_ACTIONS = ("navigate", "data_exchange")
CALLBACK_DATA_MAX = 512
AUTH_CODE_MAX = 15
MEDIA_KINDS = ("image", "document", "video", "audio", "sticker")
HEADER_MEDIA_KINDS = ("image", "document", "video")

# The reference writes "KB" and "MB" without saying which; read as 1,024 and 1,024² bytes, as
# Meta's upload limits are usually read (a "100 KB" sticker is 102,400 bytes)
KB = 1024
MB = 1024 * KB
# a static WebP sticker must be smaller than an animated one (reference §2.4, §7)
STICKER_STATIC_MAX = 100 * KB
STICKER_ANIMATED_MAX = 500 * KB
# kind -> (MIME types, size limit in bytes); reference §7 (for stickers, the animated limit)
MEDIA_LIMITS: dict[str, tuple[frozenset[str], int]] = {
    "audio": (frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}), 16 * MB),
    "document": (
        frozenset(
            {
                "text/plain",
                "application/pdf",
                "application/msword",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.ms-excel",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.ms-powerpoint",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            }
        ),
        100 * MB,
    ),
    "image": (frozenset({"image/jpeg", "image/png"}), 5 * MB),
    "sticker": (frozenset({"image/webp"}), STICKER_ANIMATED_MAX),
    "video": (frozenset({"video/mp4", "video/3gpp"}), 16 * MB),
}
_EXTRA_TYPES = {
    ".amr": "audio/amr",
    ".aac": "audio/aac",
    ".m4a": "audio/mp4",
    ".opus": "audio/ogg",
    ".ogg": "audio/ogg",
    ".3gp": "video/3gpp",
    ".webp": "image/webp",
}


def envelope(
    to: str, kind: str, body: dict[str, Any], *, reply_to: str | None = None, callback_data: str | None = None
) -> dict[str, Any]:
    """The common envelope (§2.1) around a type-specific body."""
    payload: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": kind,
        kind: body,
    }
    if reply_to:
        payload["context"] = {"message_id": reply_to}
    if callback_data:
        _limit("biz_opaque_callback_data", callback_data, CALLBACK_DATA_MAX)
        payload["biz_opaque_callback_data"] = callback_data
    return payload


def _limit(field: str, value: str, maximum: int, *, minimum: int = 1) -> str:
    if len(value) < minimum:
        raise ValidationError(field, "is empty")
    if len(value) > maximum:
        raise ValidationError(field, f"is {len(value)} characters long; WhatsApp allows {maximum}")
    return value


def _https(field: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationError(field, f"{value!r} is not a URL (https://...)")
    return value


def text(body: str, *, preview_url: bool = False) -> dict[str, Any]:
    """``text`` body (§2.3)."""
    return {"preview_url": preview_url, "body": _limit("--body", body, TEXT_MAX)}


def _header(header: str | None) -> dict[str, Any]:
    return {"header": {"type": "text", "text": _limit("--header", header, HEADER_TEXT_MAX)}} if header else {}


def _footer(footer: str | None) -> dict[str, Any]:
    return {"footer": {"text": _limit("--footer", footer, FOOTER_MAX)}} if footer else {}


def reply_buttons(
    body: str, buttons: list[str], *, header: str | None = None, footer: str | None = None
) -> dict[str, Any]:
    """``interactive`` reply buttons (§2.8) from ``ID:TITLE`` strings."""
    if not 1 <= len(buttons) <= 3:
        raise ValidationError(
            "--button", f"{len(buttons)} given; a message has 1 to 3 reply buttons", "use --list-file for more choices"
        )
    parsed = []
    seen: set[str] = set()
    for spec in buttons:
        button_id, sep, title = spec.partition(":")
        if not sep or not button_id or not title:
            raise ValidationError("--button", f"{spec!r} is not ID:TITLE")
        _limit("--button id", button_id, BUTTON_ID_MAX)
        _limit("--button title", title, BUTTON_TITLE_MAX)
        if button_id in seen:
            raise ValidationError("--button", f"the id {button_id!r} is used twice; ids must be unique")
        seen.add(button_id)
        parsed.append({"type": "reply", "reply": {"id": button_id, "title": title}})
    return {
        "type": "button",
        **_header(header),
        "body": {"text": _limit("--body", body, BUTTON_BODY_MAX)},
        **_footer(footer),
        "action": {"buttons": parsed},
    }


def _file_text(key: str, value: Any, maximum: int, source: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(key, "must be text", source=source)
    if not value.strip():
        raise ValidationError(key, "is empty", source=source)
    if len(value) > maximum:
        raise ValidationError(key, f"is {len(value)} characters long; WhatsApp allows {maximum}", source=source)
    return value


def _list_section(index: int, section: Any, titled: bool, row_ids: set[str], source: str) -> dict[str, Any]:
    if not isinstance(section, dict):
        raise ValidationError(f"sections[{index}]", "must be a table with title and rows", source=source)
    rows = section.get("rows")
    if not isinstance(rows, list) or not rows:
        raise ValidationError(f"sections[{index}].rows", "must list at least one row", source=source)
    out_rows = []
    for j, row in enumerate(rows, 1):
        where = f"sections[{index}].rows[{j}]"
        if not isinstance(row, dict):
            raise ValidationError(where, "must be a table with id and title", source=source)
        row_id = _file_text(f"{where}.id", row.get("id"), ROW_ID_MAX, source)
        if row_id in row_ids:
            raise ValidationError(f"{where}.id", f"{row_id!r} is used twice; row ids must be unique", source=source)
        row_ids.add(row_id)
        out_row = {"id": row_id, "title": _file_text(f"{where}.title", row.get("title"), ROW_TITLE_MAX, source)}
        if row.get("description") is not None:
            out_row["description"] = _file_text(f"{where}.description", row["description"], ROW_DESCRIPTION_MAX, source)
        out_rows.append(out_row)
    out: dict[str, Any] = {"rows": out_rows}
    if section.get("title") is not None or titled:
        out["title"] = _file_text(f"sections[{index}].title", section.get("title"), SECTION_TITLE_MAX, source)
    return out


def list_message(spec: dict[str, Any], *, body: str | None = None, source: str = "--list-file") -> dict[str, Any]:
    """``interactive`` list (§2.8) from a list file: ``button``, ``sections`` and optional texts."""
    unknown = set(spec) - {"button", "sections", "body", "header", "footer"}
    if unknown:
        raise ValidationError(
            sorted(unknown)[0], "unknown key (keys: button, sections, body, header, footer)", source=source
        )
    body_text = body if body is not None else spec.get("body")
    if body_text is None:
        raise ValidationError("body", "is required (in the file or as --body)", source=source)
    sections = spec.get("sections")
    if not isinstance(sections, list) or not 1 <= len(sections) <= LIST_SECTIONS_MAX:
        raise ValidationError("sections", f"must be a list of 1 to {LIST_SECTIONS_MAX} sections", source=source)
    row_ids: set[str] = set()
    out_sections = [_list_section(i, s, len(sections) > 1, row_ids, source) for i, s in enumerate(sections, 1)]
    if len(row_ids) > LIST_ROWS_MAX:
        raise ValidationError(
            "sections", f"{len(row_ids)} rows in all; a list holds at most {LIST_ROWS_MAX}", source=source
        )
    result: dict[str, Any] = {"type": "list"}
    if spec.get("header") is not None:
        result["header"] = {"type": "text", "text": _file_text("header", spec["header"], HEADER_TEXT_MAX, source)}
    result["body"] = {"text": _file_text("body", body_text, LIST_BODY_MAX, source)}
    if spec.get("footer") is not None:
        result["footer"] = {"text": _file_text("footer", spec["footer"], FOOTER_MAX, source)}
    result["action"] = {
        "button": _file_text("button", spec.get("button"), LIST_BUTTON_MAX, source),
        "sections": out_sections,
    }
    return result


def cta_url(
    body: str, display_text: str, url: str, *, header: str | None = None, footer: str | None = None
) -> dict[str, Any]:
    """``interactive`` call-to-action URL button (§2.8)."""
    return {
        "type": "cta_url",
        **_header(header),
        "body": {"text": _limit("--body", body, BUTTON_BODY_MAX)},
        **_footer(footer),
        "action": {
            "name": "cta_url",
            "parameters": {
                "display_text": _limit("--cta-text", display_text, CTA_TEXT_MAX),
                "url": _https("--cta-url", url),
            },
        },
    }


def flow(
    flow: str,
    token: str,
    *,
    cta: str,
    body: str,
    screen: str | None = None,
    data: dict[str, Any] | None = None,
    header: str | None = None,
    footer: str | None = None,
    draft: bool = False,
    action: str = "navigate",
) -> dict[str, Any]:
    """``interactive`` flow message (§2.8): ``flow_id`` when FLOW is numeric, else ``flow_name``;
    ``navigate`` opens ``screen`` (with ``data``), ``data_exchange`` asks the flow's endpoint."""
    if not token.strip():
        raise ValidationError("--token", "is empty")
    if action not in FLOW_ACTIONS:
        raise ValidationError("--action", f"must be one of {', '.join(FLOW_ACTIONS)}")
    if action == "navigate" and screen is None:
        raise ValidationError(
            "--screen",
            "is required: the flow's first screen (navigate action)",
            "pass --screen SCREEN_ID, or `waba flow sync` so the first screen is known",
        )
    if data is not None and not data:
        raise ValidationError("--data", "must be a non-empty object when given")
    parameters: dict[str, Any] = {
        "flow_message_version": "3",
        "flow_token": token,
        ("flow_id" if flow.isdigit() else "flow_name"): flow,
        "flow_cta": _limit("--cta", cta, FLOW_CTA_MAX),
        "flow_action": action,
    }
    if action == "navigate":
        action_payload: dict[str, Any] = {"screen": screen}
        if data:
            action_payload["data"] = data
        parameters["flow_action_payload"] = action_payload
    parameters["mode"] = "draft" if draft else "published"
    return {
        "type": "flow",
        **_header(header),
        "body": {"text": _limit("--body", body, BUTTON_BODY_MAX)},
        **_footer(footer),
        "action": {"name": "flow", "parameters": parameters},
    }


def media_mime(kind: str, filename: str) -> str:
    """The MIME type of a file (from its extension), which must be one Meta accepts for ``kind`` (§7)."""
    mimes, _ = MEDIA_LIMITS[kind]
    suffix = PurePath(filename).suffix.lower()
    mime = _EXTRA_TYPES.get(suffix) or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if mime not in mimes:
        raise ValidationError(f"--{kind}", f"{filename} is {mime}; WhatsApp accepts {', '.join(sorted(mimes))}")
    return mime


def check_media_size(kind: str, filename: str, size: int, *, animated: bool = False) -> None:
    """A file of ``size`` bytes must be within Meta's limit for ``kind`` (§7); a sticker's limit is
    100 KB when static, 500 KB when ``animated`` (as its own header says)."""
    _, limit = MEDIA_LIMITS[kind]
    if size == 0:
        raise ValidationError(f"--{kind}", f"{filename} is empty")
    if kind == "sticker":
        limit, what = (STICKER_ANIMATED_MAX, "an animated") if animated else (STICKER_STATIC_MAX, "a static")
        if size > limit:
            raise ValidationError(
                "--sticker",
                f"{filename} is {size:,} bytes; {what} sticker may be at most {limit:,} bytes ({limit // KB} KB)",
            )
    elif size > limit:
        raise ValidationError(f"--{kind}", f"{filename} is {size:,} bytes; the limit for {kind} is {limit:,}")


def media(
    kind: str,
    *,
    media_id: str | None = None,
    link: str | None = None,
    caption: str | None = None,
    filename: str | None = None,
) -> dict[str, Any]:
    """Media body by uploaded id or public link (§2.4); captions only where Meta shows them."""
    if (media_id is None) == (link is None):
        raise ValidationError(f"--{kind}", "give a local file or an https URL")
    body: dict[str, Any] = {"id": media_id} if media_id else {"link": _https(f"--{kind}", link or "")}
    if caption:
        if kind not in ("image", "video", "document"):
            raise ValidationError("--caption", f"{kind} messages have no caption")
        body["caption"] = _limit("--caption", caption, CAPTION_MAX)
    if filename and kind == "document":
        body["filename"] = filename
    return body


# -- template messages ------------------------------------------------------------------------


class TemplateDefinition(Protocol):
    """The fields of a local template that a send reads (a ``MessageTemplate`` row has them)."""

    @property
    def name(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def parameter_format(self) -> str: ...
    @property
    def components(self) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class MediaRef:
    """Media for a message or a template header: an uploaded id or a public link."""

    kind: str
    media_id: str | None = None
    link: str | None = None
    filename: str | None = None

    def object(self) -> dict[str, Any]:
        obj: dict[str, Any] = {"id": self.media_id} if self.media_id else {"link": self.link}
        if self.filename and self.kind == "document":
            obj["filename"] = self.filename
        return obj


def _component(components: Any, kind: str) -> dict[str, Any] | None:
    for component in components if isinstance(components, list) else []:
        if isinstance(component, dict) and str(component.get("type", "")).upper() == kind:
            return component
    return None


def _bind(
    template: TemplateDefinition, params: Sequence[str], url_suffixes: Sequence[str]
) -> dict[template_render.Slot, str]:
    named = template.parameter_format.upper() == "NAMED"
    slots = template_render.variable_slots(template.components, template.category)
    url_slots = [s for s in slots if s.component == "BUTTON"]
    if url_suffixes:
        if len(url_suffixes) != len(url_slots):
            raise ValidationError(
                "--button-url-suffix",
                f"{len(url_suffixes)} given; template {template.name!r} has {len(url_slots)} URL button(s) "
                "with a variable",
            )
        slots = [s for s in slots if s.component != "BUTTON"]
    try:
        values = template_render.bind(slots, params, named=named)
    except ValueError as exc:
        how = "--param name=value for each" if named else "--param V in order"
        if url_slots and not url_suffixes:
            how += " (a URL button's suffix may instead be given with --button-url-suffix)"
        raise ValidationError(
            "--param", f"template {template.name!r}: {exc}", f"give {how}; see `waba template show {template.name}`"
        ) from None
    values.update(zip(url_slots, url_suffixes, strict=False))
    # in the template's order, whatever order name=value pairs came in
    ordered = template_render.variable_slots(template.components, template.category)
    values = {slot: values[slot] for slot in ordered if slot in values}
    for slot, value in values.items():
        if not value.strip():
            raise ValidationError("--param", f"the value for {slot.name(named=named)} is empty; Meta refuses it")
    return values


def _header_parameters(
    template: TemplateDefinition, values: dict[template_render.Slot, str], header_media: MediaRef | None, named: bool
) -> list[dict[str, Any]]:
    header = _component(template.components, "HEADER")
    fmt = str((header or {}).get("format") or "TEXT").upper()
    if header is None or fmt == "TEXT":
        if header_media is not None:
            raise ValidationError(f"--header-{header_media.kind}", f"template {template.name!r} has no media header")
        slot = next((s for s in values if s.component == "HEADER"), None)
        if slot is None:
            return []
        parameter = {"type": "text", "text": values[slot]}
        return [{**parameter, "parameter_name": slot.key} if named else parameter]
    kind = fmt.lower()
    if kind not in HEADER_MEDIA_KINDS:
        raise ValidationError("--header", f"template {template.name!r} has a {fmt} header, which waba cannot fill")
    if header_media is None:
        raise ValidationError(
            f"--header-{kind}", f"template {template.name!r} has an {fmt} header", f"pass --header-{kind} PATH|URL"
        )
    if header_media.kind != kind:
        raise ValidationError(
            f"--header-{header_media.kind}",
            f"template {template.name!r} has an {fmt} header",
            f"pass --header-{kind} PATH|URL instead",
        )
    return [{"type": kind, kind: header_media.object()}]


def _button_components(
    template: TemplateDefinition,
    values: dict[template_render.Slot, str],
    *,
    coupon_code: str | None,
    button_payloads: Sequence[str],
    flow_token: str | None = None,
) -> list[dict[str, Any]]:
    buttons = (_component(template.components, "BUTTONS") or {}).get("buttons") or []
    auth_code = next((v for s, v in values.items() if s.component == "BODY"), None)
    auth = str(template.category).upper() == "AUTHENTICATION"
    result: list[dict[str, Any]] = []
    payloads_left = list(button_payloads)
    coupon_used = False
    for index, button in enumerate(buttons):
        kind = str(button.get("type", "")).upper() if isinstance(button, dict) else ""
        parameter: dict[str, Any] | None = None
        sub_type = kind.lower()
        if auth and kind in ("OTP", "URL"):
            sub_type, parameter = "url", {"type": "text", "text": auth_code}
        elif kind == "URL":
            suffix = next((v for s, v in values.items() if s.component == "BUTTON" and s.button_index == index), None)
            if suffix is not None:
                parameter = {"type": "text", "text": suffix}
        elif kind == "COPY_CODE":
            if coupon_code is None:
                raise ValidationError(
                    "--coupon-code", f"template {template.name!r} has a copy-code button", "pass --coupon-code CODE"
                )
            parameter, coupon_used = {"type": "coupon_code", "coupon_code": coupon_code}, True
        elif kind == "QUICK_REPLY" and payloads_left:
            parameter = {"type": "payload", "payload": payloads_left.pop(0)}
        elif kind == "FLOW" and flow_token is not None:
            parameter = {"type": "action", "action": {"flow_token": flow_token}}
        if parameter is not None:
            result.append({"type": "button", "sub_type": sub_type, "index": str(index), "parameters": [parameter]})
    if coupon_code is not None and not coupon_used:
        raise ValidationError("--coupon-code", f"template {template.name!r} has no copy-code button")
    if payloads_left:
        quick = sum(1 for b in buttons if isinstance(b, dict) and str(b.get("type", "")).upper() == "QUICK_REPLY")
        raise ValidationError(
            "--button-payload",
            f"{len(button_payloads)} given; template {template.name!r} has {quick} quick-reply button(s)",
        )
    return result


def flow_button_flow(template: TemplateDefinition) -> str | None:
    """The flow (id, else name) a template's FLOW button opens; None when it has no FLOW button."""
    buttons = (_component(template.components, "BUTTONS") or {}).get("buttons") or []
    for button in buttons:
        if isinstance(button, dict) and str(button.get("type", "")).upper() == "FLOW":
            return str(button.get("flow_id") or button.get("flow_name") or "")
    return None


def with_flow_token(body: dict[str, Any], template: TemplateDefinition, token: str) -> None:
    """Give the FLOW button of a template message ``body`` this ``token`` (a campaign's, one per
    recipient, set after the body was built once for all)."""
    buttons = (_component(template.components, "BUTTONS") or {}).get("buttons") or []
    for index, button in enumerate(buttons):
        if isinstance(button, dict) and str(button.get("type", "")).upper() == "FLOW":
            content = body["template"]
            components = [c for c in content.get("components", []) if c.get("sub_type") != "flow"]
            parameter = {"type": "action", "action": {"flow_token": token}}
            components.append({"type": "button", "sub_type": "flow", "index": str(index), "parameters": [parameter]})
            content["components"] = components
            return


def template_body(
    template: TemplateDefinition,
    to: str,
    params: Sequence[str],
    *,
    header_media: MediaRef | None = None,
    url_suffixes: Sequence[str] = (),
    coupon_code: str | None = None,
    button_payloads: Sequence[str] = (),
    reply_to: str | None = None,
    callback_data: str | None = None,
    flow_token: str | None = None,
) -> dict[str, Any]:
    """The request body of a template message (§2.9), its values counted against the template first.

    ``params`` fill the header and body variables (``V`` in order for positional templates,
    ``name=value`` for named ones), then URL buttons' suffixes unless ``url_suffixes`` gives them.
    ``flow_token`` goes to the template's FLOW button, if it has one.
    """
    named = template.parameter_format.upper() == "NAMED"
    values = _bind(template, params, url_suffixes)
    if str(template.category).upper() == "AUTHENTICATION":
        code = next(iter(values.values()), "")
        if len(code) > AUTH_CODE_MAX:
            raise ValidationError("--param", f"the code is {len(code)} characters; Meta allows {AUTH_CODE_MAX}")
    problems = template_render.render(template.components, template.category, values).problems
    if problems:
        raise ValidationError("--param", problems[0])
    components: list[dict[str, Any]] = []
    header = _header_parameters(template, values, header_media, named)
    if header:
        components.append({"type": "header", "parameters": header})
    body = [
        {"type": "text", "parameter_name": s.key, "text": v} if named else {"type": "text", "text": v}
        for s, v in values.items()
        if s.component == "BODY"
    ]
    if body:
        components.append({"type": "body", "parameters": body})
    components += _button_components(
        template, values, coupon_code=coupon_code, button_payloads=button_payloads, flow_token=flow_token
    )
    content: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
    if components:
        content["components"] = components
    return envelope(to, "template", content, reply_to=reply_to, callback_data=callback_data)


def template_text(template: TemplateDefinition, params: Sequence[str], url_suffixes: Sequence[str] = ()) -> str:
    """The template as the customer reads it, for the record (``message list``)."""
    values = _bind(template, params, url_suffixes)
    return template_render.render(template.components, template.category, values).text
