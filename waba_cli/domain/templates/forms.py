"""The forms a template is written in, turned into one: Meta's create request.

A template file entry takes the simple form (``body_text``, ``buttons = ["URL:Track:https://..."]``)
or Meta's ``components``; ``to_request`` makes either the body of Meta's create request, the one
shape the rules (``rules.validate``), the comparison and the preview read. Meta lists its templates
in a slightly different shape (``as_create_shape`` turns it back), and sends values of its own in
listings and webhooks (``enum_of``, ``text_of``, ``template_id_of`` read them; a components
webhook is merged by ``merge_components_update``). Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from waba_cli.domain.templates.rules import (
    BUTTON_ALIASES,
    BUTTON_TYPES,
    ERR_PARAMETER,
    FILE_HANDLE_PREFIX,
    MEDIA_EXTENSIONS,
    REQUEST_KEYS,
    Violation,
    count_variables,
    distinct_keys,
    is_int,
    placeholders,
    type_name,
    upper_text,
)

# -- template files: the simple form and Meta's form ------------------------------------------

# simple-form keys (reference: the seed's template JSON plus examples), and the read-only keys Meta
# and `template show --json` return (ignored, so such output can be a file)
SIMPLE_KEYS = (
    "header_text",
    "header_example",
    "header_format",
    "header_file",
    "header_handle",
    "body_text",
    "examples",
    "footer_text",
    "buttons",
    "url_examples",
    "add_security_recommendation",
    "code_expiration_minutes",
)
READ_ONLY_KEYS = (
    "id",
    "status",
    "quality_score",
    "rejected_reason",
    "previous_category",
    "correct_category",
    "sub_category",
    "library_template_name",
    "history",
    "rejection_detail",
    "preview",
    "updated_at",
    "synced_at",
)
ACCOUNT_KEY = "waba_account"


@dataclass
class TemplateInput:
    """A template file entry turned into Meta's create request, with what stood out on the way."""

    request: dict[str, Any]
    account: str | int | None = None
    violations: list[Violation] = field(default_factory=list)

    @property
    def name(self) -> str:
        name = self.request.get("name")
        return name if isinstance(name, str) else "?"

    @property
    def language(self) -> str:
        language = self.request.get("language")
        return language if isinstance(language, str) else "?"

    @property
    def label(self) -> str:
        return f"{self.name} {self.language}"


def to_request(data: Any) -> TemplateInput:
    """A template file entry (simple keys or ``components``) as Meta's create request.

    Problems of shape that cannot be expressed in the request (both forms mixed, an unknown key, a
    button spec that does not parse) are violations here; ``validate`` finds the rest.
    """
    if not isinstance(data, Mapping):
        problem = Violation(
            "template", f"must be an object of template keys, not {type_name(data)}", "see `--help`", ERR_PARAMETER
        )
        return TemplateInput({}, violations=[problem])
    violations: list[Violation] = []
    known = (*SIMPLE_KEYS, *REQUEST_KEYS, *READ_ONLY_KEYS, ACCOUNT_KEY)
    for key in data:
        if key not in known:
            violations.append(
                Violation(
                    str(key)[:60],
                    "is not a template key",
                    "remove it or check its spelling (see `waba template create --help`)",
                    ERR_PARAMETER,
                )
            )
    account = data.get(ACCOUNT_KEY)
    if account is not None and not (isinstance(account, str) or is_int(account)):
        violations.append(
            Violation(ACCOUNT_KEY, "must be an account name or WABA id", 'e.g. waba_account = "acme"', ERR_PARAMETER)
        )
        account = None
    components = data.get("components")
    simple = [k for k in SIMPLE_KEYS if data.get(k) not in (None, "", [], {})]
    if components not in (None, []):
        if simple:
            violations.append(
                Violation(
                    "components",
                    f"given together with {', '.join(simple)}",
                    "use either components or the simple keys",
                    ERR_PARAMETER,
                )
            )
        components = normalize_components(components)
        if data.get("id") is not None:
            # a copy of Meta's template (`template show --json`): Meta's listing shape to the create shape
            components = as_create_shape(data.get("category"), components)
    else:
        components = _simple_components(data, violations)
    request: dict[str, Any] = {}
    name = data.get("name")
    request["name"] = name.strip() if isinstance(name, str) else name
    language = data.get("language")
    request["language"] = normalize_language(language) if isinstance(language, str) else language
    category = data.get("category")
    request["category"] = category.strip().upper() if isinstance(category, str) else category
    request["parameter_format"] = _parameter_format(data.get("parameter_format"), components)
    request["components"] = components
    for key in ("message_send_ttl_seconds", "allow_category_change", "cta_url_link_tracking_opted_out"):
        if data.get(key) is not None:
            request[key] = data[key]
    return TemplateInput(request, account, violations)


def normalize_language(code: str) -> str:
    text = code.strip().replace("-", "_")
    head, sep, tail = text.partition("_")
    return f"{head.lower()}{sep}{tail.upper() if len(tail) == 2 else tail}" if sep else head.lower()


def _parameter_format(value: Any, components: Any) -> Any:
    if isinstance(value, str):
        return value.strip().lower()
    if value is not None:
        return value
    found = [
        p
        for c in (components if isinstance(components, list) else [])
        if isinstance(c, Mapping) and upper_text(c.get("type")) in ("HEADER", "BODY")
        for p in placeholders(c.get("text"))[0]
    ]
    return "named" if found and not any(p.positional for p in found) else "positional"


def plain_copy(value: Any) -> Any:
    """A copy of JSON-like data: dicts and lists copied, everything else shared.

    ``copy.deepcopy`` does the same for such data at several times the cost (its memo), and
    ``template sync`` copies the components of thousands of templates.
    """
    if isinstance(value, dict):
        return {key: plain_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_copy(item) for item in value]
    return value


def normalize_components(components: Any) -> Any:
    """A copy of Meta-shaped components with ``type`` and ``format`` upper-cased (Meta's spelling)."""
    if not isinstance(components, list):
        return plain_copy(components)
    result: list[Any] = []
    for component in components:
        if not isinstance(component, Mapping):
            result.append(plain_copy(component))
            continue
        item = plain_copy(dict(component))
        for key in ("type", "format"):
            if isinstance(item.get(key), str):
                item[key] = item[key].strip().upper()
        if isinstance(item.get("buttons"), list):
            item["buttons"] = [_normalize_button(b) for b in item["buttons"]]
        result.append(item)
    return result


def _normalize_button(button: Any) -> Any:
    if not isinstance(button, Mapping):
        return plain_copy(button)
    item = plain_copy(dict(button))
    if isinstance(item.get("type"), str):
        kind = item["type"].strip().upper()
        item["type"] = BUTTON_ALIASES.get(kind, kind)
    if isinstance(item.get("otp_type"), str):
        item["otp_type"] = item["otp_type"].strip().upper()
    return item


def _example_text(value: Any) -> Any:
    if is_int(value) or isinstance(value, float):
        return str(value)
    return value


def _simple_components(  # noqa: PLR0912 - one branch per simple key
    data: Mapping[str, Any], violations: list[Violation]
) -> list[dict[str, Any]]:
    components: list[dict[str, Any]] = []
    header = _simple_header(data)
    if header is not None:
        components.append(header)
    category = upper_text(data.get("category"))
    body: dict[str, Any] = {"type": "BODY"}
    if data.get("body_text") is not None:
        body["text"] = data["body_text"]
    if category == "AUTHENTICATION":
        if data.get("add_security_recommendation") is not None:
            body["add_security_recommendation"] = data["add_security_recommendation"]
    elif data.get("examples") is not None:
        example = _body_example(data["examples"], violations)
        if example is not None:
            body["example"] = example
    components.append(body)
    footer: dict[str, Any] = {"type": "FOOTER"}
    if data.get("footer_text") not in (None, ""):
        footer["text"] = data["footer_text"]
    if data.get("code_expiration_minutes") is not None:
        footer["code_expiration_minutes"] = data["code_expiration_minutes"]
    if len(footer) > 1:
        components.append(footer)
    buttons = data.get("buttons")
    if buttons not in (None, []):
        if not isinstance(buttons, list):
            violations.append(
                Violation("buttons", "must be a list", 'e.g. buttons = ["QUICK_REPLY:Stop promos"]', ERR_PARAMETER)
            )
        else:
            parsed: list[Any] = []
            for index, spec in enumerate(buttons):
                if isinstance(spec, str):
                    button, problem = parse_button_spec(spec)
                    if problem:
                        violations.append(
                            Violation(f"BUTTONS[{index + 1}]", problem, "write TYPE:TEXT[:VALUE]", ERR_PARAMETER)
                        )
                        continue
                    parsed.append(button)
                else:
                    parsed.append(_normalize_button(spec))
            components.append({"type": "BUTTONS", "buttons": parsed})
    _simple_url_examples(data.get("url_examples"), components, violations)
    return components


def _simple_url_examples(value: Any, components: list[dict[str, Any]], violations: list[Violation]) -> None:
    """``url_examples``: the example suffix of each URL button with a variable, in order (Meta's
    ``example`` of the button, as ``--url-example`` gives it)."""
    if value in (None, []):
        return
    if isinstance(value, str | int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int) and not isinstance(v, bool) for v in value):
        violations.append(
            Violation(
                "url_examples",
                "must be a list of example suffixes, one per URL button with a variable",
                'e.g. url_examples = ["8812"]',
                ERR_PARAMETER,
            )
        )
        return
    left = add_url_examples(components, [str(v) for v in value])
    if left:
        violations.append(
            Violation(
                "url_examples",
                f"{len(left)} value(s) for no URL button with a variable",
                "remove them, or add the URL button they are for",
                ERR_PARAMETER,
            )
        )


def _simple_header(data: Mapping[str, Any]) -> dict[str, Any] | None:  # noqa: PLR0912 - one branch per header form
    text, fmt = data.get("header_text"), data.get("header_format")
    file_path, handle = data.get("header_file"), data.get("header_handle")
    if all(v in (None, "") for v in (text, fmt, file_path, handle)):
        return None
    if isinstance(fmt, str):
        fmt = fmt.strip().upper()
    elif fmt is None:
        fmt = (
            "TEXT" if text not in (None, "") else _format_from_path(file_path if isinstance(file_path, str) else handle)
        )
    header: dict[str, Any] = {"type": "HEADER", "format": fmt}
    if fmt == "TEXT" or text not in (None, ""):
        header["text"] = text
        example = data.get("header_example")
        if isinstance(example, list) and len(example) == 1:
            example = example[0]
        found = distinct_keys(placeholders(text)[0])
        if example is not None and found:
            value = _example_text(example)
            if found[0].isdigit():
                header["example"] = {"header_text": [value]}
            else:
                header["example"] = {"header_text_named_params": [{"param_name": found[0], "example": value}]}
        elif example is not None:
            header["example"] = {"header_text": [_example_text(example)]}
    elif fmt != "LOCATION":
        handles: list[Any] = []
        if isinstance(handle, str) and handle:
            handles.append(handle)
        elif isinstance(file_path, str) and file_path:
            handles.append(FILE_HANDLE_PREFIX + file_path)
        elif handle is not None or file_path is not None:
            handles.append(handle if handle is not None else file_path)
        if handles:
            header["example"] = {"header_handle": handles}
    return header


def _format_from_path(path: Any) -> str:
    if isinstance(path, str) and "." in path:
        suffix = "." + path.rsplit(".", 1)[-1].lower()
        for fmt in ("IMAGE", "VIDEO", "DOCUMENT"):
            if suffix in MEDIA_EXTENSIONS[fmt]:
                return fmt
    return "IMAGE"


def _body_example(examples: Any, violations: list[Violation]) -> dict[str, Any] | None:
    if isinstance(examples, Mapping):
        return {
            "body_text_named_params": [
                {"param_name": str(name), "example": _example_text(value)} for name, value in examples.items()
            ]
        }
    if isinstance(examples, str | int | float) and not isinstance(examples, bool):
        return {"body_text": [[_example_text(examples)]]}
    if isinstance(examples, list):
        if len(examples) == 1 and isinstance(examples[0], list):
            return {"body_text": [[_example_text(v) for v in examples[0]]]}
        return {"body_text": [[_example_text(v) for v in examples]]}
    violations.append(
        Violation(
            "examples",
            "must be the body's example values in order, or a table of named values",
            'e.g. examples = ["Ana", "8812"]',
            ERR_PARAMETER,
        )
    )
    return None


def parse_button_spec(spec: str) -> tuple[dict[str, Any], str | None]:  # noqa: PLR0911 - one return per type
    """A button from ``TYPE:TEXT[:VALUE]`` (``--button`` and the simple form's strings).

    QUICK_REPLY:TEXT · URL:TEXT:URL · PHONE_NUMBER:TEXT:+NUMBER · COPY_CODE:EXAMPLE ·
    FLOW:TEXT:FLOW_ID_OR_NAME · OTP:TEXT[:COPY_CODE|ONE_TAP|ZERO_TAP]. The value may contain colons.
    """
    kind_text, _, rest = spec.partition(":")
    kind = BUTTON_ALIASES.get(kind_text.strip().upper(), kind_text.strip().upper())
    text, has_value, value = rest.partition(":")
    text, value = text.strip(), value.strip()
    if kind not in BUTTON_TYPES:
        return {}, f"{kind_text.strip()[:30]!r} is not a button type ({', '.join(BUTTON_TYPES)})"
    if kind == "QUICK_REPLY":
        return {"type": kind, "text": rest.strip()}, None
    if kind == "COPY_CODE":
        return {"type": kind, "example": value if has_value else text}, None
    if kind == "OTP":
        return {"type": kind, "otp_type": (value or "COPY_CODE").upper(), "text": text or "Copy code"}, None
    if not has_value or not value:
        return {}, f"a {kind} button needs a value after the text ({kind}:TEXT:VALUE)"
    if kind == "URL":
        return {"type": kind, "text": text, "url": value}, None
    if kind == "PHONE_NUMBER":
        return {"type": kind, "text": text, "phone_number": value}, None
    key = "flow_id" if value.isdigit() else "flow_name"
    return {"type": kind, "text": text, key: value}, None


def add_url_examples(components: Any, examples: Sequence[str]) -> list[str]:
    """Give URL buttons with a variable their example (``--url-example``), in order; returns leftovers."""
    left = list(examples)
    for component in components if isinstance(components, list) else []:
        if not isinstance(component, dict) or component.get("type") != "BUTTONS":
            continue
        for button in component.get("buttons") or []:
            if isinstance(button, dict) and button.get("type") == "URL" and placeholders(button.get("url"))[0] and left:
                button["example"] = [left.pop(0)]
    return left


def examples_from_values(values: Sequence[str], body_text: Any) -> list[str] | dict[str, str]:
    """``--example`` values: in order, or ``name=value`` pairs for a body with named variables."""
    found = placeholders(body_text)[0]
    if found and not found[0].positional:
        pairs: dict[str, str] = {}
        for value in values:
            name, _, text = value.partition("=")
            pairs[name.strip()] = text
        return pairs
    return list(values)


# -- Meta's listing shape ------------------------------------------------------------------------


def url_example_suffix(url: Any, example: Any) -> Any:
    """A URL button's example as the suffix that fills its ``{{1}}``.

    Meta takes the suffix at creation but lists the whole URL (``https://host/track/8812``).
    """
    if isinstance(url, str) and isinstance(example, str):
        prefix = url.split("{{", 1)[0]
        if prefix and example.startswith(prefix) and example != prefix:
            return example[len(prefix) :]
    return example


_OTP_URL_RE = re.compile(r"[?&]otp_type=([A-Za-z_]+)")
_EXPIRY_RE = re.compile(r"expires in (\d+) minutes?")


def as_create_shape(category: Any, components: Any) -> Any:
    """Components as Meta's list shows them, in the shape a create request takes.

    Only authentication templates differ: Meta writes their body and footer texts and lists the
    OTP button as a URL button (``...otp/code/?otp_type=COPY_CODE...``).
    """
    if upper_text(category) != "AUTHENTICATION" or not isinstance(components, list):
        return components
    return [_as_create_component(c) for c in normalize_components(components)]


def _as_create_component(component: Any) -> Any:
    kind = component.get("type") if isinstance(component, dict) else None
    if kind == "BODY":
        text = component.get("text")
        flag = component.get("add_security_recommendation")
        secure = flag if isinstance(flag, bool) else isinstance(text, str) and "for your security" in text.lower()
        return {"type": "BODY", "add_security_recommendation": secure}
    if kind == "FOOTER" and component.get("text") is not None:
        minutes = component.get("code_expiration_minutes")
        found = _EXPIRY_RE.search(str(component.get("text")))
        if minutes is None and found:
            minutes = int(found.group(1))
        return {"type": "FOOTER", "code_expiration_minutes": minutes}
    if kind == "BUTTONS" and isinstance(component.get("buttons"), list):
        return {**component, "buttons": [_as_otp_button(b) for b in component["buttons"]]}
    return component


def _as_otp_button(button: Any) -> Any:
    if not isinstance(button, dict) or button.get("type") != "URL":
        return button
    found = _OTP_URL_RE.search(str(button.get("url") or ""))
    if not found:
        return button
    otp: dict[str, Any] = {"type": "OTP", "otp_type": found.group(1).upper()}
    if button.get("text") is not None:
        otp["text"] = button["text"]
    return otp


# -- Meta's values: listings, answers and template webhooks --------------------------------------

_STATUS_LEN = 32
_ID_LEN = 32


def enum_of(value: Any, limit: int = _STATUS_LEN) -> str | None:
    """An enumeration value from Meta, upper-cased; anything else (numbers, objects) is None."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().upper()[:limit]


def text_of(value: Any, limit: int | None = None) -> str | None:
    """A text from Meta (a number as its digits), stripped and cut to ``limit``; anything else is None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        text = str(value).strip()
        return (text[:limit] if limit else text) or None
    return None


def template_id_of(value: Any) -> str | None:
    """A template id as a string; webhooks send them as JSON numbers (reference §0)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and value > 0:
        return str(value)[:_ID_LEN]
    if isinstance(value, str) and value.strip().isdigit():
        return value.strip()[:_ID_LEN]
    return None


def merge_components_update(components: Any, value: dict[str, Any]) -> list[dict[str, Any]]:
    """``components`` with the texts of a ``message_template_components_update`` put in.

    The webhook carries the body, the header text, the footer and the URL/phone buttons, but no
    examples and no other buttons; what it does not carry is kept. A body whose variables changed
    loses its examples (they no longer fit; the next sync brings Meta's).
    """
    result = [dict(c) for c in components if isinstance(c, dict)] if isinstance(components, list) else []

    def component(kind: str) -> dict[str, Any] | None:
        return next((c for c in result if str(c.get("type", "")).upper() == kind), None)

    body_text = text_of(value.get("message_template_element"))
    if body_text is not None:
        body = component("BODY")
        if body is None:
            body = {"type": "BODY"}
            result.append(body)
        if count_variables(body.get("text")) != count_variables(body_text):
            body.pop("example", None)
        body["text"] = body_text
    title = text_of(value.get("message_template_title"))
    if title is not None:
        header = component("HEADER")
        if header is None:
            result.insert(0, {"type": "HEADER", "format": "TEXT", "text": title})
        elif str(header.get("format", "TEXT")).upper() == "TEXT":
            if count_variables(header.get("text")) != count_variables(title):
                header.pop("example", None)
            header["text"] = title
    footer_text = text_of(value.get("message_template_footer"))
    if footer_text is not None:
        footer = component("FOOTER")
        if footer is None:
            footer = {"type": "FOOTER"}
            result.insert(len([c for c in result if str(c.get("type", "")).upper() in ("HEADER", "BODY")]), footer)
        footer["text"] = footer_text
    buttons = value.get("message_template_buttons")
    if isinstance(buttons, list) and buttons:
        _merge_buttons(result, [b for b in buttons if isinstance(b, dict)])
    return result


def _merge_buttons(components: list[dict[str, Any]], updates: list[dict[str, Any]]) -> None:
    block = next((c for c in components if str(c.get("type", "")).upper() == "BUTTONS"), None)
    if block is None:
        block = {"type": "BUTTONS", "buttons": []}
        components.append(block)
    current = block.get("buttons")
    buttons = [dict(b) for b in current if isinstance(b, dict)] if isinstance(current, list) else []
    used: set[int] = set()
    for update in updates:
        kind = enum_of(update.get("message_template_button_type")) or "UNKNOWN"
        match = next(
            (i for i, b in enumerate(buttons) if i not in used and str(b.get("type", "")).upper() == kind), None
        )
        if match is None:
            buttons.append({"type": kind})
            match = len(buttons) - 1
        used.add(match)
        button = buttons[match]
        for key, target in (
            ("message_template_button_text", "text"),
            ("message_template_button_url", "url"),
            ("message_template_button_phone_number", "phone_number"),
        ):
            text = text_of(update.get(key))
            if text is not None:
                button[target] = text
    block["buttons"] = buttons
