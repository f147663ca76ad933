"""Reading Meta's deliveries: the signature check, the JSON, and the plain rows its shapes turn into.

The uvicorn process of ``waba serve-webhook`` verifies signatures, parses bodies and hands
deliveries to the writer process; it imports this module alone of the package, which keeps
SQLAlchemy, the models and the cryptography out of it: ~35 MB instead of ~80 MB resident. The
writer reads the same JSON into rows (an inbound message, a status, a business change's key)
with the total conversions at the end: nothing here raises on any JSON, and nothing here
imports SQLAlchemy.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from waba_cli.db.timestamps import utcnow

SIGNATURE_HEADER = "x-hub-signature-256"
_SIGNATURE_PREFIX = b"sha256="
_EXCLUDED_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


class Keys:
    """The app secrets and verify tokens of every configured account, decrypted once."""

    def __init__(self, app_secrets: Mapping[str, Iterable[int]], verify_tokens: Iterable[str]) -> None:
        self._secrets = {secret: sorted(ids) for secret, ids in app_secrets.items()}
        self._macs = [
            (hmac.new(secret.encode("utf-8"), digestmod=hashlib.sha256), frozenset(ids))
            for secret, ids in self._secrets.items()
        ]
        self._tokens = [token.encode("utf-8") for token in verify_tokens if token]

    def __repr__(self) -> str:  # never the secrets themselves
        return f"Keys({self.apps} app secret(s), {self.tokens} verify token(s))"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Keys) and self.to_wire() == other.to_wire()

    __hash__ = None  # type: ignore[assignment]

    def to_wire(self) -> dict[str, Any]:
        """For the socket between serve-webhook's processes only (it holds the secrets in clear)."""
        return {"secrets": self._secrets, "tokens": sorted(t.decode("utf-8") for t in self._tokens)}

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Keys:
        return cls(data["secrets"], data["tokens"])

    @property
    def apps(self) -> int:
        return len(self._macs)

    @property
    def tokens(self) -> int:
        return len(self._tokens)

    def verify(self, body: bytes, header: bytes | None) -> frozenset[int] | None:
        """The accounts whose app secret signed ``body``, or None when the signature is not valid."""
        if not header or not header.startswith(_SIGNATURE_PREFIX):
            return None
        given = header[len(_SIGNATURE_PREFIX) :].strip().lower()
        matched: frozenset[int] | None = None
        for template, accounts in self._macs:
            mac = template.copy()
            mac.update(body)
            if hmac.compare_digest(mac.hexdigest().encode("ascii"), given):
                matched = accounts
        return matched

    def verify_token(self, token: str | None) -> bool:
        """True when ``token`` is the webhook verify token of a configured account."""
        if not token:
            return False
        given = token.encode("utf-8")
        found = False
        for expected in self._tokens:
            found |= hmac.compare_digest(expected, given)
        return found


@dataclass
class Delivery:
    """One webhook POST: raw bytes, headers, the parsed body and who signed it."""

    body: bytes
    payload: Any
    headers: dict[str, str] = field(default_factory=dict)
    # accounts whose app secret signed it; None for stored events (checked when they arrived)
    signed_for: frozenset[int] | None = None
    received_at: datetime = field(default_factory=utcnow)
    event_id: int | None = None


def headers_to_store(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Request headers worth keeping with the raw body (never credentials)."""
    kept: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        if key not in _EXCLUDED_HEADERS:
            kept[key] = value.decode("latin-1")
    return kept


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# what json.loads lets through but no database stores: NUL, lone surrogates (escaped, or raw bytes
# that Python's decoder passes through), NaN and the infinities are refused
_ESCAPED_UNSTORABLE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_RAW_SURROGATE = re.compile(rb"\xed[\xa0-\xbf]")


# one decoder for every delivery: json.loads with any option builds a new one per call
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def parse_body(body: bytes) -> Any:
    """The JSON document in ``body``; ValueError when it is not JSON.

    Strings a database cannot store (NUL, lone surrogates) are cleaned here, once, so nothing
    downstream has to think about them; the raw bytes stay as they came.
    """
    try:
        payload = orjson.loads(body)  # about 3 times as fast as the standard library on Meta's bodies
    except orjson.JSONDecodeError:
        # what orjson refuses but JSON allows (UTF-16/32, a BOM, lone surrogates, integers beyond
        # 64 bits) or what is not JSON at all: the standard library decides
        try:
            payload = _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
    # the substring tests are fast scans that spare most bodies the regular expressions
    if (b"\\u" in body and _ESCAPED_UNSTORABLE.search(body)) or (b"\xed" in body and _RAW_SURROGATE.search(body)):
        payload = _storable(payload)
    return payload


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else ""


# -- the rows Meta's JSON shapes turn into ----------------------------------------------------


def fields_of(payload: Any) -> str | None:
    """The distinct ``field`` names of a delivery's changes, comma-separated (as ``webhook_event.field`` keeps them)."""
    seen: list[str] = []
    entries = payload.get("entry") if isinstance(payload, dict) else None
    for entry in entries if isinstance(entries, list) else ():
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else ():
            name = str_of(change.get("field"), 64) if isinstance(change, dict) else None
            if name and name not in seen:
                seen.append(name)
    return ",".join(seen)[:255] or None


def contacts_of(raw: Any) -> list[dict[str, Any]]:
    """The contact objects of a ``messages`` value (what is not an object is left out)."""
    return [c for c in raw if isinstance(c, dict)] if isinstance(raw, list) else []


def _contact_for(message: dict[str, Any], contacts: list[dict[str, Any]]) -> dict[str, Any]:
    sender = str_of(message.get("from"), 64)
    sender_user = str_of(message.get("from_user_id"), 64)
    for contact in contacts:
        if (sender and str_of(contact.get("wa_id"), 64) == sender) or (
            sender_user and str_of(contact.get("user_id"), 64) == sender_user
        ):
            return contact
    return contacts[0] if len(contacts) == 1 else {}


def inbound_row(
    now: datetime, account_id: int | None, pnid: str | None, message: Any, contacts: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """The ``message`` row of an inbound message; None when it is not one (no object, no id)."""
    if not isinstance(message, dict):
        return None
    wamid = str_of(message.get("id"), 255)
    if not wamid:
        return None
    contact = _contact_for(message, contacts)
    profile = contact.get("profile")
    wa_id = str_of(message.get("from"), 64) or str_of(contact.get("wa_id"), 64)
    user_id = str_of(message.get("from_user_id"), 64) or str_of(contact.get("user_id"), 64)
    digits = digits_of(wa_id or "")
    kind = str_of(message.get("type"), 32) or "unknown"
    at = timestamp_of(message.get("timestamp")) or now
    context = message.get("context")
    code, title, details = first_error(message.get("errors"))
    return {
        "account_id": account_id,
        "phone_number_id": pnid,
        "direction": "in",
        "wamid": wamid,
        "contact": f"+{digits[:63]}" if digits else (user_id or wa_id or "unknown"),
        "contact_name": str_of(profile.get("name"), 255) if isinstance(profile, dict) else None,
        "contact_user_id": user_id,
        "contact_username": str_of(contact.get("username"), 64),
        "type": kind,
        "text": message_text(kind, message),
        "payload": message,
        "status": "received",
        "status_at": at,
        "error_code": code,
        "error_title": title,
        "error_details": details,
        "campaign": None,
        "template_name": None,
        "context_wamid": str_of(context.get("id"), 255) if isinstance(context, dict) else None,
        "biz_opaque_callback_data": None,
        "pricing": None,
        "created_at": at,
        "updated_at": now,
    }


def message_text(kind: str, message: Mapping[str, Any]) -> str | None:  # noqa: PLR0911 - one branch per type
    """The human-readable text of an inbound message of type ``kind`` (reference §8.5)."""
    body = message.get(kind)
    if kind == "contacts" and isinstance(body, list):
        names = [str_of(value_at(c, "name", "formatted_name"), 200) for c in body]
        return ", ".join(n for n in names if n) or None
    if not isinstance(body, dict):
        return None
    if kind == "text":
        return str_of(body.get("body"))
    if kind in ("image", "video", "document", "audio", "sticker"):
        return str_of(body.get("caption")) or str_of(body.get("filename"))
    if kind == "location":
        place = ", ".join(p for p in (str_of(body.get("name")), str_of(body.get("address"))) if p)
        return place or f"{body.get('latitude')},{body.get('longitude')}"
    if kind == "interactive":
        reply = body.get(str_of(body.get("type"), 32) or "")
        if isinstance(reply, dict):
            return str_of(reply.get("title")) or str_of(reply.get("body"))
        return None
    if kind == "button":
        return str_of(body.get("text")) or str_of(body.get("payload"))
    if kind == "reaction":
        return str_of(body.get("emoji"))
    if kind in ("order", "system"):
        return str_of(body.get("text")) or str_of(body.get("body"))
    return None


def status_row(now: datetime, account_id: int | None, pnid: str | None, status: Any) -> dict[str, Any] | None:
    """The ``message_status`` row of a status; None when it is not one (no object, no id or status)."""
    if not isinstance(status, dict):
        return None
    wamid = str_of(status.get("id"), 255)
    name = (str_of(status.get("status"), 16) or "").lower()
    if not wamid or not name:
        return None
    errors = status.get("errors")
    code, title, details = first_error(errors)
    pricing = status.get("pricing")
    conversation = status.get("conversation")
    return {
        "wamid": wamid,
        "status": name,
        "status_at": timestamp_of(status.get("timestamp")),
        "account_id": account_id,
        "phone_number_id": pnid,
        "recipient_id": str_of(status.get("recipient_id"), 64),
        "biz_opaque_callback_data": str_of(status.get("biz_opaque_callback_data"), 512),
        "pricing": pricing if isinstance(pricing, dict) else None,
        "conversation": conversation if isinstance(conversation, dict) else None,
        "error_code": code,
        "error_title": title,
        "error_details": details,
        "errors": errors if isinstance(errors, list) else None,
        "received_at": now,
    }


def first_error(errors: Any) -> tuple[int | None, str | None, str | None]:
    """Code, title and details of the first of Meta's error objects."""
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return None, None, None
    error = errors[0]
    data = error.get("error_data")
    details = str_of(data.get("details")) if isinstance(data, dict) else str_of(data)
    return int_of(error.get("code")), str_of(error.get("title")) or str_of(error.get("message")), details


def item_key(scope: str | None, entry_time: Any, name: str, value: Any) -> str:
    """The key a business change without a natural one is applied once by: sha256 of where, when, field and value."""
    canonical = json.dumps([scope, entry_time, name, value], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


# -- small, total conversions ------------------------------------------------------------------


def str_of(value: Any, limit: int | None = None) -> str | None:
    """A string value (numbers as text), cut to ``limit``; parse_body has already made it storable."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        text = str(value)
    else:
        return None
    return (text[:limit] if limit else text) or None


def int_of(value: Any) -> int | None:
    """An integer value (digits as text) that fits 32 bits, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -(2**31) <= value < 2**31 else None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int_of(int(value))
    return None


def digits_of(text: str) -> str:
    """The ASCII digits of ``text``, in order."""
    return "".join(ch for ch in text if ch.isascii() and ch.isdigit())


def timestamp_of(value: Any) -> datetime | None:
    """A Unix timestamp (number or text) as an aware UTC datetime; None for anything else."""
    if isinstance(value, bool):
        return None
    try:
        seconds = float(value) if isinstance(value, int | float | str) else None
    except ValueError:
        return None
    if seconds is None or not 0 < seconds < 2**33:
        return None
    return datetime.fromtimestamp(seconds, UTC)


def value_at(value: Any, *path: str) -> Any:
    """The value at ``path`` in nested objects; None where one is missing or not an object."""
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value
