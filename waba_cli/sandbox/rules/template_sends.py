"""Template messages (§2.9): a send's template, language and parameters checked against the
stored template (status, parameter count and kind, filled-in lengths, buttons)."""

from __future__ import annotations

import re
from typing import Any

from waba_cli.sandbox.errors import GraphFailure, bad_param, invalid, missing
from waba_cli.sandbox.rules.templates import BODY_MAX, HEADER_MAX, find_template, variables
from waba_cli.sandbox.state import State, Template

SENDABLE_TEMPLATE_STATUSES = ("APPROVED", "FLAGGED", "REINSTATED")
_POSITIONAL = re.compile(r"\{\{\s*(\d+)\s*\}\}")
_NAMED = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")


def component(template: Template, kind: str) -> dict[str, Any] | None:
    return next((c for c in template.components if str(c.get("type", "")).upper() == kind), None)


def _template_buttons(template: Template) -> list[dict[str, Any]]:
    buttons = component(template, "BUTTONS")
    return list(buttons.get("buttons", [])) if buttons else []


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
        if len(filled) > HEADER_MAX:
            raise GraphFailure(
                132005, f"The filled-in header is {len(filled)} characters long; the maximum is {HEADER_MAX}."
            )
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
    if len(filled) > BODY_MAX:
        raise GraphFailure(132005, f"The filled-in body is {len(filled)} characters long; the maximum is {BODY_MAX}.")


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


def template_extra(template: Template, content: dict[str, Any]) -> dict[str, Any] | None:
    """Quick-reply buttons of a sent template (text -> payload) for the customer's taps, and its
    FLOW button's flow and token for a Flow reply (``sandbox inbound --flow-reply``)."""
    buttons = _template_buttons(template)
    payloads: dict[str, str] = {}
    flow_token: str | None = None
    for part in content.get("components", []):
        sub_type = str(part.get("sub_type", "")).lower()
        if str(part.get("type", "")).lower() != "button":
            continue
        params = part.get("parameters") or [{}]
        if sub_type == "quick_reply":
            payloads[str(part.get("index"))] = str(params[0].get("payload", ""))
        elif sub_type == "flow" and isinstance(params[0].get("action"), dict):
            flow_token = params[0]["action"].get("flow_token")
    replies = {}
    extra: dict[str, Any] = {}
    for index, button in enumerate(buttons):
        kind = str(button.get("type", "")).upper()
        if kind == "QUICK_REPLY":
            text = str(button.get("text", ""))
            replies[text] = payloads.get(str(index), text)
        elif kind == "FLOW":
            extra["flow_id"] = str(button.get("flow_id") or button.get("flow_name") or "")
            if flow_token:
                extra["flow_token"] = str(flow_token)
    if replies:
        extra["quick_replies"] = replies
    return extra or None
