"""A template filled in: the values a send needs (``variable_slots``), the ``--param`` values bound
to them (``bind``) and the message as the customer sees it (``render``, ``template preview``).
Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from waba_cli.domain.templates.forms import url_example_suffix
from waba_cli.domain.templates.rules import (
    BODY_MAX,
    HEADER_MAX,
    PLACEHOLDER_RE,
    distinct_keys,
    is_int,
    placeholders,
    upper_text,
)


@dataclass(frozen=True)
class Slot:
    """A value the sender must supply: a header or body variable, or a URL button's suffix."""

    component: str  # HEADER | BODY | BUTTON
    key: str  # "1", "first_name"
    button_index: int | None = None

    def name(self, *, named: bool) -> str:
        if self.component == "BUTTON":
            return f"button_{self.button_index}"
        return self.key if named else f"{self.component.lower()} {{{{{self.key}}}}}"


def _component(components: Any, kind: str) -> Mapping[str, Any] | None:
    for component in components if isinstance(components, list) else []:
        if isinstance(component, Mapping) and upper_text(component.get("type")) == kind:
            return component
    return None


def variable_slots(components: Any, category: Any = None) -> list[Slot]:
    """The values a send needs, in the order positional ``--param`` values fill them."""
    if upper_text(category) == "AUTHENTICATION":
        return [Slot("BODY", "1")]
    slots: list[Slot] = []
    header = _component(components, "HEADER")
    if header is not None and upper_text(header.get("format")) in (None, "TEXT"):
        slots += [Slot("HEADER", k) for k in distinct_keys(placeholders(header.get("text"))[0])[:1]]
    body = _component(components, "BODY")
    if body is not None:
        keys = distinct_keys(placeholders(body.get("text"))[0])
        if keys and all(k.isdigit() for k in keys):
            keys = sorted(keys, key=int)
        slots += [Slot("BODY", k) for k in keys]
    buttons = _component(components, "BUTTONS")
    for index, button in enumerate((buttons or {}).get("buttons") or []):
        if (
            isinstance(button, Mapping)
            and upper_text(button.get("type")) == "URL"
            and placeholders(button.get("url"))[0]
        ):
            slots.append(Slot("BUTTON", "1", index))
    return slots


def bind(slots: Sequence[Slot], params: Sequence[str], *, named: bool) -> dict[Slot, str]:
    """``--param`` values for ``slots``; raises ``ValueError`` saying what is wrong and what is expected."""
    expected = ", ".join(s.name(named=named) for s in slots) or "none"
    if not named:
        if len(params) != len(slots):
            raise ValueError(f"the template takes {len(slots)} value(s) ({expected}), {len(params)} given")
        return dict(zip(slots, params, strict=True))
    by_name = {s.name(named=True): s for s in slots}
    values: dict[Slot, str] = {}
    for param in params:
        name, sep, value = param.partition("=")
        if not sep:
            raise ValueError(f"{param!r} is not name=value (this template's variables are named: {expected})")
        slot = by_name.get(name.strip())
        if slot is None:
            raise ValueError(f"the template has no variable {name.strip()!r} (it takes: {expected})")
        values[slot] = value
    missing = [s.name(named=True) for s in slots if s not in values]
    if missing:
        raise ValueError(f"no value for {', '.join(missing)} (the template takes: {expected})")
    return values


@dataclass
class Rendered:
    """A template as the customer sees it."""

    header: str | None = None
    header_media: str | None = None
    body: str = ""
    footer: str | None = None
    buttons: list[dict[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The message as plain text: header, body and footer, then one line per button."""
        top = f"[{self.header_media}]" if self.header_media else self.header
        text = "\n\n".join(part for part in (top, self.body, self.footer) if part)
        lines = [f"[ {b['text']} ]" + (f" {b['target']}" if b.get("target") else "") for b in self.buttons]
        return text + ("\n\n" + "\n".join(lines) if lines else "")


def _fill(text: Any, component: str, values: Mapping[Slot, str]) -> str:
    if not isinstance(text, str):
        return ""
    by_key = {s.key: v for s, v in values.items() if s.component == component}
    return PLACEHOLDER_RE.sub(lambda m: by_key.get(m.group(1), m.group(0)), text)


def render(components: Any, category: Any, values: Mapping[Slot, str]) -> Rendered:  # noqa: PLR0912 - per component
    """The message ``components`` become with ``values`` filled in."""
    result = Rendered()
    auth = upper_text(category) == "AUTHENTICATION"
    header = _component(components, "HEADER")
    if header is not None:
        fmt = upper_text(header.get("format")) or "TEXT"
        if fmt == "TEXT":
            result.header = _fill(header.get("text"), "HEADER", values)
        else:
            result.header_media = fmt
    body = _component(components, "BODY")
    if auth:
        code = next(iter(values.values()), "123456")
        result.body = f"{code} is your verification code."
        if body is not None and body.get("add_security_recommendation") is True:
            result.body += " For your security, do not share this code."
    elif body is not None:
        result.body = _fill(body.get("text"), "BODY", values)
    footer = _component(components, "FOOTER")
    if footer is not None:
        minutes = footer.get("code_expiration_minutes")
        if auth and is_int(minutes):
            result.footer = f"This code expires in {minutes} minutes."
        elif isinstance(footer.get("text"), str):
            result.footer = footer["text"]
    buttons = _component(components, "BUTTONS")
    for index, button in enumerate((buttons or {}).get("buttons") or []):
        if not isinstance(button, Mapping):
            continue
        kind = upper_text(button.get("type")) or "?"
        text = button.get("text") if isinstance(button.get("text"), str) else kind.replace("_", " ").title()
        target = ""
        if kind == "URL" and isinstance(button.get("url"), str):
            suffix = next((v for s, v in values.items() if s.component == "BUTTON" and s.button_index == index), None)
            target = PLACEHOLDER_RE.sub(suffix if suffix is not None else "{{1}}", button["url"])
        elif kind == "PHONE_NUMBER":
            target = str(button.get("phone_number") or "")
        elif kind == "COPY_CODE":
            text, target = "Copy offer code", str(button.get("example") or "")
        result.buttons.append({"type": kind, "text": str(text), "target": target})
    if len(result.body) > BODY_MAX:
        result.problems.append(
            f"the filled-in body is {len(result.body)} characters; Meta refuses more than {BODY_MAX} (132005)"
        )
    if result.header is not None and len(result.header) > HEADER_MAX:
        result.problems.append(
            f"the filled-in header is {len(result.header)} characters; Meta refuses more than {HEADER_MAX} (132005)"
        )
    return result


def example_values(components: Any, category: Any) -> dict[Slot, str]:
    """The template's own example values for its slots (``template show`` renders with them)."""
    slots = variable_slots(components, category)
    values: dict[Slot, str] = {}
    header = _component(components, "HEADER")
    body = _component(components, "BODY")
    buttons = _component(components, "BUTTONS")
    for slot in slots:
        value: Any = None
        source = header if slot.component == "HEADER" else body
        example = source.get("example") if source is not None else None
        if slot.component in ("HEADER", "BODY") and isinstance(example, Mapping):
            kind = "header_text" if slot.component == "HEADER" else "body_text"
            named = example.get(f"{kind}_named_params")
            plain = example.get(kind)
            if isinstance(named, list):
                value = next(
                    (p.get("example") for p in named if isinstance(p, Mapping) and p.get("param_name") == slot.key),
                    None,
                )
            elif isinstance(plain, list) and plain:
                row = plain[0] if slot.component == "BODY" and isinstance(plain[0], list) else plain
                position = int(slot.key) - 1 if slot.key.isdigit() else -1
                if 0 <= position < len(row):
                    value = row[position]
        elif slot.component == "BUTTON" and buttons is not None and slot.button_index is not None:
            button = (buttons.get("buttons") or [None] * (slot.button_index + 1))[slot.button_index]
            if isinstance(button, Mapping) and isinstance(button.get("example"), list) and button["example"]:
                value = url_example_suffix(button.get("url"), button["example"][0])
        if isinstance(value, str):
            values[slot] = value
    return values
