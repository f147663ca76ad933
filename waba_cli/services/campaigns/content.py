"""What a campaign's message says: the template or text, and how one CSV row's values become its request.

A campaign builds the same request body thousands of times with other values; ``Form`` builds a
template's body once, with markers, and fills each row in by a join. The CSV columns that give a
template its values are found here too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from waba_cli.errors import ValidationError

if TYPE_CHECKING:
    from waba_cli.db.models.templates import MessageTemplate

_MARK = re.compile(r"@@waba:(to|[0-9]+)@@")


class Form:
    """A template's request body and text, built once by ``messaging`` with markers for its values.

    ``payloads.template_body`` counts, binds and renders the template on every call (about a
    millisecond); a campaign needs the same body thousands of times with other values, so the
    values are substituted into the one built with markers. ``prepare`` checks that this gives
    exactly what ``template_body`` gives, and falls back to it otherwise.
    """

    def __init__(self, template: MessageTemplate) -> None:
        from waba_cli.domain import payloads
        from waba_cli.domain.templates import render as template_render

        self.named = template.parameter_format.upper() == "NAMED"
        self.auth = str(template.category).upper() == "AUTHENTICATION"
        slots = template_render.variable_slots(template.components, template.category)
        self.names = [s.name(named=self.named) for s in slots]
        keys = [s.name(named=True) for s in slots]
        self.prefixes = [f"{key}=" if self.named else "" for key in keys]
        marks = self.params([f"@@waba:{i}@@" for i in range(len(slots))])
        self.body_json = _Pieces(json.dumps(payloads.template_body(template, "@@waba:to@@", marks), ensure_ascii=False))
        self.text = _Pieces(payloads.template_text(template, marks))
        rendered = template_render.render(
            template.components, template.category, template_render.bind(slots, marks, named=self.named)
        )
        self.body_size = _Pieces(rendered.body)
        self.header_size = _Pieces(rendered.header) if rendered.header is not None else None

    def params(self, values: Sequence[str]) -> list[str]:
        """The values as ``--param`` takes them (``name=value`` for named templates)."""
        return [prefix + value for prefix, value in zip(self.prefixes, values, strict=True)]

    def values(self, params: Sequence[str]) -> list[str]:
        return [p.partition("=")[2] if self.named else p for p in params]

    def request(self, to: str, params: Sequence[str]) -> dict[str, Any]:
        body: dict[str, Any] = orjson.loads(self.body_json.fill(self.values(params), to, quote=True))
        return body

    def rendered_text(self, params: Sequence[str]) -> str:
        return self.text.fill(self.values(params), "", quote=False)

    def problem(self, params: Sequence[str]) -> str | None:
        """Why Meta (or ``template_body``) would refuse these values, or None."""
        from waba_cli.domain.payloads import AUTH_CODE_MAX
        from waba_cli.domain.templates.rules import BODY_MAX, HEADER_MAX

        values = self.values(params)
        for name, value in zip(self.names, values, strict=True):
            if not value.strip():
                return f"the value for {name} is empty; Meta refuses it"
        if self.auth and values and len(values[0]) > AUTH_CODE_MAX:
            return f"the code is {len(values[0])} characters; Meta allows {AUTH_CODE_MAX}"
        body = self.body_size.length(values)
        if body > BODY_MAX:
            return f"the filled-in body is {body} characters; Meta refuses more than {BODY_MAX} (132005)"
        header = self.header_size.length(values) if self.header_size is not None else 0
        if header > HEADER_MAX:
            return f"the filled-in header is {header} characters; Meta refuses more than {HEADER_MAX} (132005)"
        return None


class _Pieces:
    """A text with markers, split once: filling in a row's values is a join, not a regex pass."""

    def __init__(self, text: str) -> None:
        parts = _MARK.split(text)  # literal, key, literal, key ... literal
        self.literals = parts[0::2]
        self.keys = [-1 if key == "to" else int(key) for key in parts[1::2]]
        self.fixed = sum(len(literal) for literal in self.literals)

    def fill(self, values: Sequence[str], to: str, *, quote: bool) -> str:
        """The text with ``values`` (and ``to``) in place; ``quote``: escaped for a JSON string."""
        out = [self.literals[0]]
        for key, literal in zip(self.keys, self.literals[1:], strict=True):
            found = to if key < 0 else values[key]
            out.append(orjson.dumps(found).decode()[1:-1] if quote else found)
            out.append(literal)
        return "".join(out)

    def length(self, values: Sequence[str]) -> int:
        """``len(fill(values, "", quote=False))``, counted without building it (every row's check)."""
        return self.fixed + sum(len(values[key]) for key in self.keys if key >= 0)


@dataclass
class Content:
    """The message every recipient gets, and how one row's values become its request body."""

    kind: str  # template | text
    columns: list[tuple[int, str]] = field(default_factory=list)  # (CSV column index, "" or "name=")
    template: MessageTemplate | None = None
    body: str | None = None
    form: Form | None = None  # the fast path for a template, once checked
    # a template's FLOW button: (the flow, its local row); each attempt's callback data is its flow_token
    flow: tuple[str, int | None] | None = None

    def params(self, row: Sequence[str]) -> list[str]:
        return [prefix + (row[index].strip() if index < len(row) else "") for index, prefix in self.columns]

    def request(self, phone: str, params: Sequence[str], callback_data: str | None = None) -> dict[str, Any]:
        """The complete request body; ``ValidationError`` when the row's values do not fit."""
        from waba_cli.domain import payloads

        if self.template is None:
            assert self.body is not None
            return payloads.envelope(phone, "text", payloads.text(self.body), callback_data=callback_data)
        if self.form is not None:
            body = self.form.request(phone, params)
            if callback_data:
                body["biz_opaque_callback_data"] = callback_data
        else:
            body = payloads.template_body(self.template, phone, params, callback_data=callback_data)
        if self.flow is not None and callback_data:
            payloads.with_flow_token(body, self.template, callback_data)
        return body

    def problem(self, phone: str, params: Sequence[str]) -> str | None:
        """Why this row cannot be sent, or None."""
        if self.form is not None:
            return self.form.problem(params)
        if self.template is not None:
            try:
                self.request(phone, params)
            except ValidationError as exc:
                return exc.problem
        return None

    def text(self, params: Sequence[str]) -> str | None:
        from waba_cli.domain import payloads

        if self.form is not None:
            return self.form.rendered_text(params)
        if self.template is not None:
            return payloads.template_text(self.template, params)
        return self.body


def template_columns(template: MessageTemplate, header: list[str], source: str) -> list[tuple[int, str]]:
    """The CSV columns that fill the template's variables, in ``--param`` order; exit 2 if one is missing.

    Positional templates take columns ``1, 2, 3 ...``; named ones take a column per variable name
    (or, failing that, its position).
    """
    from waba_cli.domain.templates.render import variable_slots

    named = template.parameter_format.upper() == "NAMED"
    slots = variable_slots(template.components, template.category)
    where = {name: index for index, name in enumerate(header)}
    columns: list[tuple[int, str]] = []
    missing: list[str] = []
    for position, slot in enumerate(slots, start=1):
        name = slot.name(named=True)
        prefix = f"{name}=" if named else ""
        if named and name in where:
            columns.append((where[name], prefix))
        elif str(position) in where:
            columns.append((where[str(position)], prefix))
        else:
            missing.append(name if named else str(position))
    if missing:
        wanted = ", ".join(s.name(named=True) if named else str(i) for i, s in enumerate(slots, start=1))
        raise ValidationError(
            "columns",
            f"no column for the template's variable(s) {', '.join(missing)}",
            f"template {template.name!r} takes {len(slots)} value(s): the first line should read phone,{wanted}",
            source=source,
        )
    return columns
