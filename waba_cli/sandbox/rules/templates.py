"""Templates (§3.2, §3.3, §3.5): what ``POST /{waba-id}/message_templates`` and template edits
accept, and how a submitted template is reviewed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from waba_cli.sandbox.errors import GraphFailure
from waba_cli.sandbox.state import State, Template

_ANY_VARIABLE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_WORD = re.compile(r"[^\W_]+")  # letters and digits: "$24.90" is two words, punctuation none


def variables(text: str) -> list[str]:
    """The variables of a text in order of appearance, without repeats."""
    seen: list[str] = []
    for match in _ANY_VARIABLE.finditer(text):
        if match.group(1) not in seen:
            seen.append(match.group(1))
    return seen


def find_template(state: State, waba_id: str, name: str, language: str) -> tuple[Template | None, bool]:
    """The template of that name and language, and whether the name exists in any language."""
    language = language.replace("-", "_")
    named = [t for t in state.templates.values() if t.waba_id == waba_id and t.name == name]
    return next((t for t in named if t.language == language), None), bool(named)


# -- template creation (§3.2, §3.3) ----------------------------------------------------------------

CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
PARAMETER_FORMATS = ("POSITIONAL", "NAMED")
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
BUTTON_TYPES = ("QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE", "FLOW", "OTP")
# valid at Meta, for catalogs, calling and contact requests: accepted without further checks
SPECIALISED_BUTTONS = ("MPM", "SPM", "CATALOG", "VOICE_CALL", "CALL_PERMISSION_REQUEST", "REQUEST_CONTACT_INFO", "APP")
OTP_TYPES = ("COPY_CODE", "ONE_TAP", "ZERO_TAP")
# Meta's limits (§3.2, §3.3); waba's template validator has the same, by the same names
NAME_MAX = 512
HEADER_MAX = 60
BODY_MAX = 1024
FOOTER_MAX = 60
BUTTON_TEXT_MAX = 25
URL_MAX = 2000
PHONE_MAX = 20
COPY_CODE_MAX = 15
BUTTONS_MAX = 10
URL_BUTTONS_MAX = 2
CODE_EXPIRATION = range(1, 91)  # minutes
TTL_MAX = 30 * 24 * 3600
_TEMPLATE_NAME = re.compile(rf"^[a-z0-9_]{{1,{NAME_MAX}}}$")
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}([_-][A-Za-z]{2,4})?$")
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
            f"Template names may contain only lowercase letters, digits and underscores (at most {NAME_MAX}).",
            title="Invalid template name",
        )
    language = body.get("language")
    if not language:
        raise template_error("The parameter language is required.", title="Missing language")
    if not isinstance(language, str) or not LANGUAGE_CODE.match(language):
        raise template_error(f"The language {language!r} is not supported.", title="Invalid language")
    language = language.replace("-", "_")
    category = str(body.get("category") or "").upper()
    if category not in CATEGORIES:
        raise template_error(
            f"The category must be one of {', '.join(CATEGORIES)}; got {body.get('category')!r}.",
            title="Invalid category",
        )
    parameter_format = str(body.get("parameter_format") or "positional").upper()
    if parameter_format not in PARAMETER_FORMATS:
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
    if ttl is not None and (not isinstance(ttl, int) or isinstance(ttl, bool) or not -1 <= ttl <= TTL_MAX):
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
            text = _component_text(part, "header", HEADER_MAX, 2388040)
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
        text = _component_text(part, "body", BODY_MAX, 2388040)
        _check_variables(text, "body", named, part.get("example"), subcode=2388072)
    elif kind == "FOOTER":
        if category == "AUTHENTICATION" and "code_expiration_minutes" in part:
            minutes = part["code_expiration_minutes"]
            if not isinstance(minutes, int) or minutes not in CODE_EXPIRATION:
                raise template_error(
                    f"code_expiration_minutes must be between {CODE_EXPIRATION[0]} and {CODE_EXPIRATION[-1]}.",
                    subcode=2388073,
                )
            part.setdefault("text", f"This code expires in {minutes} minutes.")
        text = _component_text(part, "footer", FOOTER_MAX, 2388040)
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
    if len(buttons) > BUTTONS_MAX:
        raise template_error(f"A template may have at most {BUTTONS_MAX} buttons.")
    kinds: list[str] = []
    for index, button in enumerate(buttons):
        if not isinstance(button, dict):
            raise template_error("Each button must be an object.")
        kind = str(button.get("type", "")).upper()
        button["type"] = kind
        kinds.append(kind)
        if kind in ("QUICK_REPLY", "URL", "PHONE_NUMBER", "FLOW") or (kind == "OTP" and "text" in button):
            text = button.get("text")
            if not isinstance(text, str) or not text or len(text) > BUTTON_TEXT_MAX:
                raise template_error(f"Button {index} needs a text of 1 to {BUTTON_TEXT_MAX} characters.")
        if kind == "URL":
            url = button.get("url")
            if not isinstance(url, str) or not url.startswith(("https://", "http://")) or len(url) > URL_MAX:
                raise template_error(f"Button {index} needs an http(s) url of at most {URL_MAX} characters.")
            count = len(variables(url))
            if count > 1 or (count == 1 and not re.search(r"\{\{\s*1\s*\}\}$", url)):
                raise template_error(f"Button {index}: a URL may have one variable, {{{{1}}}}, at its end.")
            if count and not button.get("example"):
                raise template_error(f"Button {index}: a URL with a variable needs an example.")
        elif kind == "PHONE_NUMBER":
            phone = button.get("phone_number")
            if not isinstance(phone, str) or not phone or len(phone) > PHONE_MAX:
                raise template_error(f"Button {index} needs a phone_number of at most {PHONE_MAX} characters.")
        elif kind == "COPY_CODE":
            example = button.get("example")
            if not isinstance(example, str) or not example or len(example) > COPY_CODE_MAX:
                raise template_error(
                    f"Button {index}: COPY_CODE needs an example of at most {COPY_CODE_MAX} characters."
                )
        elif kind == "FLOW":
            if not any(button.get(k) for k in ("flow_id", "flow_name", "flow_json")):
                raise template_error(f"Button {index}: FLOW needs flow_id, flow_name or flow_json.")
        elif kind == "OTP":
            if category != "AUTHENTICATION":
                raise template_error("OTP buttons are for AUTHENTICATION templates.")
            if str(button.get("otp_type", "")).upper() not in OTP_TYPES:
                raise template_error(f"Button {index}: otp_type must be COPY_CODE, ONE_TAP or ZERO_TAP.")
        elif kind not in BUTTON_TYPES and kind not in SPECIALISED_BUTTONS:
            raise template_error(f"Button {index}: unknown button type {kind!r}.")
    for kind, most in (("URL", URL_BUTTONS_MAX), ("PHONE_NUMBER", 1), ("COPY_CODE", 1)):
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
