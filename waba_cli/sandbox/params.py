"""What a Graph request says, as the sandbox reads it: its parameters (query string, JSON, form or
multipart body, §1.3), field selection (``fields=a,b.start(1)``, §1.3) and cursor pagination (§1.4)."""

from __future__ import annotations

import base64
import json
import re
from email import policy
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl, urlencode

from waba_cli.sandbox.errors import bad_param


def cursor(position: int) -> str:
    """An opaque cursor shaped like Meta's (``QVFIU...``) for a position in a list."""
    return base64.urlsafe_b64encode(f"AQH:{position}".encode()).decode().rstrip("=")


def position(value: str, name: str) -> int:
    try:
        prefix, _, number = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode().partition(":")
        if prefix == "AQH" and number.isdigit():
            return int(number)
    except (ValueError, UnicodeDecodeError):
        pass
    raise bad_param(f"Invalid cursor in param {name}.")


def page(
    items: list[Any], query: dict[str, str], link_base: str, *, default: int = 25, most: int = 1000
) -> tuple[list[Any], dict[str, Any]]:
    """The slice of ``items`` a request asks for (``limit``, ``after``, ``before``) and its ``paging``.

    ``link_base`` is the absolute URL of the edge without query; ``paging.next`` keeps the request's
    other parameters so that following it gives the next page of the same listing.
    """
    raw_limit = query.get("limit")
    try:
        limit = int(raw_limit) if raw_limit else default
    except ValueError:
        raise bad_param("Param limit must be an integer.") from None
    limit = max(1, min(limit, most))
    if query.get("after"):
        start = position(query["after"], "after") + 1
    elif query.get("before"):
        start = max(0, position(query["before"], "before") - limit)
    else:
        start = 0
    chosen = items[start : start + limit]
    paging: dict[str, Any] = {}
    if chosen:
        paging["cursors"] = {"before": cursor(start), "after": cursor(start + len(chosen) - 1)}
        others = {k: v for k, v in query.items() if k not in ("after", "before", "limit", "access_token")}
        if start + len(chosen) < len(items):
            paging["next"] = (
                f"{link_base}?{urlencode({**others, 'limit': limit, 'after': cursor(start + len(chosen) - 1)})}"
            )
        if start > 0:
            paging["previous"] = f"{link_base}?{urlencode({**others, 'limit': limit, 'before': cursor(start)})}"
    return chosen, paging


def read_params(query: dict[str, str], content_type: str, body: bytes) -> dict[str, Any]:
    """Request parameters: the query string, then a JSON or form body on top (Graph takes either, §1.3)."""
    params: dict[str, Any] = dict(query)
    if not body.strip():
        return params
    if content_type.startswith("application/json"):
        try:
            document = json.loads(body.decode("utf-8"))
        except ValueError:  # UnicodeDecodeError included
            raise bad_param("The request body is not valid JSON.") from None
        if not isinstance(document, dict):
            raise bad_param("The request body must be a JSON object.")
        params.update(document)
    elif content_type.startswith("application/x-www-form-urlencoded"):
        for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            params[key] = _maybe_json(value)
    elif content_type.startswith("multipart/form-data"):
        for name, (_filename, _type, data) in multipart(content_type, body).items():
            if _filename is None:
                params[name] = _maybe_json(data.decode("utf-8", "replace"))
    return params


def _maybe_json(value: str) -> Any:
    """Form values that hold JSON arrays or objects (``categories=["SURVEY"]``) as Graph reads them."""
    if value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, str | None, bytes]]:
    """The parts of a ``multipart/form-data`` body: name -> (filename, content type, bytes)."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    parts: dict[str, tuple[str | None, str | None, bytes]] = {}
    if not message.is_multipart():
        return parts
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        data = part.get_payload(decode=True)
        filename = part.get_filename()
        kind = part.get_content_type() if part.get("content-type") else None
        parts[name] = (filename, kind, data if isinstance(data, bytes) else b"")
    return parts


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


def requested_fields(params: dict[str, Any], default: tuple[str, ...]) -> list[tuple[str, dict[str, str]]]:
    """The fields a request asks for (``fields=``), else the node's default fields."""
    value = params.get("fields")
    if not value:
        return [(name, {}) for name in default]
    return parse_fields(str(value))
