"""Reading Meta's deliveries: the signature check, the JSON, and nothing of the database stack.

The uvicorn process of ``waba serve-webhook`` verifies signatures, parses bodies and hands
deliveries to the writer process; it imports this module alone of the package, which keeps
SQLAlchemy, the models and the cryptography out of it: ~35 MB instead of ~80 MB resident.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from waba_cli.db.timestamps import utcnow

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
