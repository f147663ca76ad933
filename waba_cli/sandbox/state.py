"""What the sandbox remembers: the objects of its Graph API, the messages it saw, and persistence.

Everything lives in one ``State`` (one event loop, so no locks). Objects addressable as
``/{id}`` are registered by id with their kind; new ids, wamids and times are written in Meta's
shapes. ``save``/``load`` write and read the whole state as one JSON document (bytes as base64),
atomically, so ``--state FILE`` survives restarts. A leaf: it imports nothing else of the sandbox.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import secrets
import tempfile
import time
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

FORMAT = 1
STATUS_ORDER = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}


@dataclass
class App:
    id: str
    name: str
    secret: str
    callback_url: str | None = None  # set by POST /{app-id}/subscriptions (else --webhook-url)
    verify_token: str | None = None
    fields: list[str] | None = None  # webhook fields subscribed; None = all
    kind: ClassVar[str] = "app"


@dataclass
class Token:
    token: str
    type: str
    app_id: str
    user_id: str
    scopes: list[str]
    target_ids: list[str]
    issued_at: int
    expires_at: int = 0
    valid: bool = True


@dataclass
class Waba:
    id: str
    name: str
    business_id: str
    business_name: str
    # the business portfolios it is shared with as a client's WABA (their client_whatsapp_business_accounts)
    client_of: list[str] = field(default_factory=list)
    currency: str = "USD"
    timezone_id: str = "1"
    message_template_namespace: str = "58e6d318_b627_4112_b9c7_2961197553ea"
    account_review_status: str = "APPROVED"
    business_verification_status: str = "verified"
    country: str = "US"
    ownership_type: str = "SELF_OWNED"
    status: str = "ACTIVE"
    is_enabled_for_insights: bool = True
    subscribed: bool = False
    override_callback_uri: str | None = None
    # Meta's verdict on the WABA entity of health_status (§5.6): AVAILABLE, LIMITED or BLOCKED
    can_send_message: str = "AVAILABLE"
    kind: ClassVar[str] = "waba"


@dataclass
class Business:
    """A business portfolio, known from the WABAs it owns or was shared (derived, not stored)."""

    id: str
    name: str
    kind: ClassVar[str] = "business"


@dataclass
class SystemUser:
    """A (system) user, known from the tokens issued to it (derived, not stored)."""

    id: str
    kind: ClassVar[str] = "user"


@dataclass
class PhoneNumber:
    id: str
    waba_id: str
    phone_number: str  # E.164 with +
    display_phone_number: str
    verified_name: str
    quality_rating: str = "GREEN"
    code_verification_status: str = "VERIFIED"
    name_status: str = "APPROVED"
    new_name_status: str = "NONE"
    requested_name: str | None = None
    status: str = "CONNECTED"
    platform_type: str = "CLOUD_API"
    throughput_level: str = "STANDARD"
    is_on_biz_app: bool = False  # coexistence with the WhatsApp Business app: 20 messages/s
    messaging_limit: str = "TIER_10K"
    account_mode: str = "LIVE"
    is_official_business_account: bool = False
    is_pin_enabled: bool = False
    pin: str | None = None
    last_onboarded_time: str = "2024-05-29T16:26:40+0000"
    webhook_override: str | None = None
    data_localization_region: str | None = None
    registrations: list[float] = field(default_factory=list)
    requested_code: str | None = None
    business_public_key: str | None = None
    profile: dict[str, Any] = field(default_factory=dict)
    kind: ClassVar[str] = "phone_number"

    @property
    def digits(self) -> str:
        return self.phone_number.lstrip("+")


@dataclass
class Template:
    id: str
    waba_id: str
    name: str
    language: str
    category: str
    status: str
    components: list[dict[str, Any]]
    parameter_format: str = "POSITIONAL"
    rejected_reason: str = "NONE"
    sub_category: str | None = None
    quality_score: dict[str, Any] = field(default_factory=lambda: {"score": "UNKNOWN", "date": int(time.time())})
    message_send_ttl_seconds: int | None = None
    previous_category: str | None = None
    cta_url_link_tracking_opted_out: bool = False
    created_at: float = field(default_factory=time.time)
    review_due: float | None = None  # when a PENDING template is decided
    edits: list[float] = field(default_factory=list)
    kind: ClassVar[str] = "template"


@dataclass
class Flow:
    id: str
    waba_id: str
    name: str
    categories: list[str]
    status: str = "DRAFT"
    flow_json: str | None = None
    validation_errors: list[dict[str, Any]] = field(default_factory=list)
    json_version: str | None = None
    data_api_version: str | None = None
    endpoint_uri: str | None = None
    created_at: float = field(default_factory=time.time)
    kind: ClassVar[str] = "flow"


@dataclass
class Media:
    id: str
    phone_number_id: str
    mime_type: str
    sha256: str
    file_size: int
    data: bytes = field(repr=False)
    filename: str | None = None
    created_at: float = field(default_factory=time.time)
    kind: ClassVar[str] = "media"


@dataclass
class UploadSession:
    id: str  # "upload:..." without the ?sig= part
    file_name: str
    file_length: int
    file_type: str
    data: bytes = field(default=b"", repr=False)
    handle: str | None = None
    kind: ClassVar[str] = "upload"


@dataclass(slots=True)
class Message:
    """A message the sandbox accepted (outbound) or simulated (inbound)."""

    wamid: str
    direction: str  # "out" | "in"
    phone_number_id: str
    contact: str  # the customer's wa_id
    type: str
    created_at: float
    status: str = "accepted"  # out: accepted < sent < delivered < read, or failed; in: received
    category: str | None = None  # pricing category (marketing, utility, authentication, service)
    pricing_type: str | None = None  # regular | free_customer_service
    template_id: str | None = None
    api_version: str = "v23.0"
    country: str | None = None
    biz_opaque_callback_data: str | None = None
    error_code: int | None = None
    sent_at: float | None = None
    delivered_at: float | None = None
    read_at: float | None = None
    failed_at: float | None = None
    conversation_id: str | None = None
    # what a customer's reply may refer to: reply buttons, quick replies, a flow token
    extra: dict[str, Any] | None = None


_WAMID_PREFIX = secrets.token_hex(3).upper()  # per process: ids stay unique across restarts with --state
_WAMID_SEQUENCE = itertools.count(1)


def wamid(wa_id: str, *, inbound: bool = False) -> str:
    """A message id shaped like Meta's: ``wamid.`` + base64 of the contact and a unique id.

    A counter rather than random bytes: the send path runs thousands of times a second.
    """
    contact = wa_id.encode()
    ident = f"{_WAMID_PREFIX}{next(_WAMID_SEQUENCE):012X}".encode()
    if inbound:
        marker, ident = b"\x12", b"3A" + ident
    else:
        marker = b"\x11"
    raw = b"\x1c\x18" + bytes([len(contact)]) + contact + b"\x15\x02\x00" + marker + b"\x18"
    return "wamid." + base64.b64encode(raw + bytes([len(ident)]) + ident + b"\x00").decode()


def iso(at: float) -> str:
    """A unix time as Graph writes times in fields (``2024-05-29T16:26:40+0000``)."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


Obj = App | Waba | PhoneNumber | Template | Flow | Media | UploadSession | Business | SystemUser
T = TypeVar("T")
_KINDS: dict[str, type[Any]] = {
    "wabas": Waba,
    "phone_numbers": PhoneNumber,
    "templates": Template,
    "flows": Flow,
    "media": Media,
    "uploads": UploadSession,
}


@dataclass
class State:
    """The sandbox's whole world."""

    app: App = field(default_factory=lambda: App(id="0", name="", secret=""))
    tokens: dict[str, Token] = field(default_factory=dict)
    wabas: dict[str, Waba] = field(default_factory=dict)
    phone_numbers: dict[str, PhoneNumber] = field(default_factory=dict)
    templates: dict[str, Template] = field(default_factory=dict)
    flows: dict[str, Flow] = field(default_factory=dict)
    media: dict[str, Media] = field(default_factory=dict)
    uploads: dict[str, UploadSession] = field(default_factory=dict)
    messages: dict[str, Message] = field(default_factory=dict)
    # (phone_number_id, wa_id) -> unix time of the customer's last message: the 24 h window
    windows: dict[tuple[str, str], float] = field(default_factory=dict)
    dirty: bool = False

    def add(self, obj: Waba | PhoneNumber | Template | Flow | Media | UploadSession) -> None:
        table: dict[str, Any] = getattr(self, _table_of(type(obj)))
        table[obj.id] = obj
        self.dirty = True

    def find(self, object_id: str) -> Obj | None:
        """The object with this id, whatever its kind (the Graph API's ``/{id}``)."""
        if object_id == self.app.id:
            return self.app
        for name in ("phone_numbers", "wabas", "templates", "flows", "media"):
            obj = getattr(self, name).get(object_id)
            if obj is not None:
                return obj  # type: ignore[no-any-return]
        upload = self.uploads.get(object_id)
        return upload if upload is not None else self._portfolio_node(object_id)

    def _portfolio_node(self, object_id: str) -> Business | SystemUser | None:
        """A business (owner of a WABA, or one a WABA is shared with) or a user holding a token."""
        for waba in self.wabas.values():
            if waba.business_id == object_id:
                return Business(waba.business_id, waba.business_name)
        if any(object_id in waba.client_of for waba in self.wabas.values()):
            return Business(object_id, "")
        if any(token.user_id == object_id for token in self.tokens.values()):
            return SystemUser(object_id)
        return None

    def new_id(self, digits: int = 16) -> str:
        """A fresh numeric id like Meta's (not used by anything yet)."""
        while True:
            candidate = str(secrets.randbelow(9 * 10 ** (digits - 1)) + 10 ** (digits - 1))
            if self.find(candidate) is None and candidate not in self.messages:
                return candidate

    def number_by_phone(self, value: str) -> PhoneNumber | None:
        """A number by its id, E.164 number or display number."""
        if value in self.phone_numbers:
            return self.phone_numbers[value]
        digits = "".join(ch for ch in value if ch.isdigit())
        return next((n for n in self.phone_numbers.values() if n.digits == digits), None)

    def numbers_of(self, waba_id: str) -> list[PhoneNumber]:
        """A WABA's numbers, the last onboarded first (as Graph lists them)."""
        numbers = [n for n in self.phone_numbers.values() if n.waba_id == waba_id]
        return sorted(numbers, key=lambda n: n.last_onboarded_time, reverse=True)

    def templates_of(self, waba_id: str) -> list[Template]:
        return [t for t in self.templates.values() if t.waba_id == waba_id]

    # -- persistence ---------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"format": FORMAT, "app": asdict(self.app)}
        document["tokens"] = [asdict(t) for t in self.tokens.values()]
        for name in _KINDS:
            document[name] = [_encode(asdict(obj)) for obj in getattr(self, name).values()]
        document["messages"] = [_message_dict(m) for m in self.messages.values()]
        document["windows"] = [[phone, contact, at] for (phone, contact), at in self.windows.items()]
        return document

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> State:
        if document.get("format") != FORMAT:
            raise ValueError(f"unknown sandbox state format {document.get('format')!r}")
        state = cls(app=_build(App, document["app"]))
        state.tokens = {t["token"]: _build(Token, t) for t in document.get("tokens", [])}
        for name, kind in _KINDS.items():
            table: dict[str, Any] = getattr(state, name)
            for item in document.get(name, []):
                obj = _build(kind, _decode(item))
                table[obj.id] = obj
        state.messages = {m["wamid"]: _build(Message, m) for m in document.get("messages", [])}
        state.windows = {(str(p), str(c)): float(at) for p, c, at in document.get("windows", [])}
        return state

    def save(self, path: Path) -> None:
        """Write the state to ``path`` atomically (a crash leaves the previous file)."""
        data = json.dumps(self.to_json(), separators=(",", ":")).encode()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.dirty = False

    @classmethod
    def load(cls, path: Path) -> State:
        return cls.from_json(json.loads(path.read_bytes()))


def _table_of(kind: type[Any]) -> str:
    return next(name for name, cls in _KINDS.items() if cls is kind)


def _message_dict(message: Message) -> dict[str, Any]:
    return {f.name: getattr(message, f.name) for f in fields(Message)}


def _encode(data: dict[str, Any]) -> dict[str, Any]:
    return {k: {"base64": base64.b64encode(v).decode()} if isinstance(v, bytes) else v for k, v in data.items()}


def _decode(data: dict[str, Any]) -> dict[str, Any]:
    return {
        k: base64.b64decode(v["base64"]) if isinstance(v, dict) and set(v) == {"base64"} else v for k, v in data.items()
    }


def _build(kind: type[T], data: dict[str, Any]) -> T:
    known = {f.name for f in fields(kind)}  # type: ignore[arg-type]
    return kind(**{k: v for k, v in data.items() if k in known})
