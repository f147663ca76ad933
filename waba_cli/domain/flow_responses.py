"""A Flow completion (``nfm_reply``, §8.5) and its answers as one flat row.

Meta hands the answers over as a JSON *string* inside the message, with the ``flow_token`` mixed
in among the form fields. Operators want them as a table: one column per answered field, nested
answers under dotted names (``address.city``), lists joined, so a spreadsheet can take them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

LIST_SEPARATOR = ", "


@dataclass(frozen=True)
class Completion:
    """The answers of one completed Flow, and the token it echoed (None when none was sent)."""

    flow_token: str | None
    data: dict[str, Any]


def completion_of(message: Mapping[str, Any]) -> Completion | None:
    """The completion an inbound message carries, or None when it is not an ``nfm_reply``.

    A ``response_json`` that is not a JSON object is kept whole under ``response_json``.
    """
    interactive = message.get("interactive")
    if not isinstance(interactive, Mapping) or interactive.get("type") != "nfm_reply":
        return None
    reply = interactive.get("nfm_reply")
    raw = reply.get("response_json") if isinstance(reply, Mapping) else None
    try:
        answers = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        answers = None
    if not isinstance(answers, dict):
        return Completion(None, {} if raw in (None, "") else {"response_json": str(raw)})
    token = answers.pop("flow_token", None)
    return Completion(str(token)[:255] if token not in (None, "") else None, answers)


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """The answers as text by dotted name: nested objects flattened, lists of plain values joined."""
    flat: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, list) and any(isinstance(v, Mapping | list) for v in value):
            flat.update(flatten({str(i): v for i, v in enumerate(value)}, f"{name}."))
        elif isinstance(value, list):
            flat[name] = LIST_SEPARATOR.join(_text(v) for v in value)
        else:
            flat[name] = _text(value)
    return flat


def columns_of(rows: Iterable[Mapping[str, str]]) -> list[str]:
    """Every field answered in any row, in the order first seen."""
    seen: dict[str, None] = {}
    for row in rows:
        for name in row:
            seen.setdefault(name, None)
    return list(seen)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
