"""The sandbox's Graph API: every endpoint waba calls, with Meta's shapes, checks and error envelopes.

``Sandbox.handle`` takes a parsed request and returns a status and a JSON document (or bytes); the
ASGI wrapper in ``server.py`` does the HTTP. What happens later (status webhooks, template reviews)
is scheduled on the running event loop and delivered by ``webhooks.Emitter``.

Behaviour that is the sandbox's own choice (the reference leaves it open):

* every number has Meta's default throughput, 80 messages/s (``throughput.level`` STANDARD; a
  burst of 80), and the pair rate limit (§9.2: a burst of 45 to one customer, then one per 6 s):
  beyond them sends get 130429 / 131056. ``--bench`` turns both off.
* a free-form message outside the customer's 24-hour window is accepted, then fails with a
  ``failed`` status carrying 131047, as Meta does; the window opens with ``sandbox inbound``.
* ``request_code`` always "sends" the code 123456; ``verify_code`` accepts only that.
* templates are decided ``review_delay`` seconds after submission by ``template_rules.review``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import random
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from waba_cli.sandbox.errors import GraphFailure, bad_param, invalid, missing, not_found, unknown_field, webhook_error
from waba_cli.sandbox.params import multipart, page, parse_fields, parse_list, read_params
from waba_cli.sandbox.rules import flows as flow_rules
from waba_cli.sandbox.rules import messages as send_rules
from waba_cli.sandbox.rules import pricing
from waba_cli.sandbox.rules import templates as template_rules
from waba_cli.sandbox.rules.phones import country_of
from waba_cli.sandbox.rules.pricing import PRICES
from waba_cli.sandbox.rules.profile import check_profile
from waba_cli.sandbox.state import (
    STATUS_ORDER,
    App,
    Flow,
    Media,
    Message,
    PhoneNumber,
    State,
    Template,
    Token,
    UploadSession,
    Waba,
    wamid,
)
from waba_cli.sandbox.webhooks import Emitter, messages_value

VERSION = re.compile(r"^v[0-9]+\.[0-9]+$")
VERIFICATION_CODE = "123456"
TEMPLATE_LIMIT = 250  # §3.7: an unverified portfolio
THROUGHPUT = {"STANDARD": 80.0, "HIGH": 1000.0}
COEXISTENCE_THROUGHPUT = 20.0  # numbers also used in the WhatsApp Business app (§9.1)
PAIR_BURST, PAIR_INTERVAL = 45.0, 6.0
UPLOAD_TYPES = ("application/pdf", "image/jpeg", "image/jpg", "image/png", "video/mp4")
MEDIA_LIMITS = {  # §7: MIME type -> largest accepted size in bytes
    **dict.fromkeys(("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"), 16 << 20),
    **dict.fromkeys(
        (
            "text/plain",
            "application/pdf",
            "application/msword",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.ms-excel",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.ms-powerpoint",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        100 << 20,
    ),
    "image/jpeg": 5 << 20,
    "image/png": 5 << 20,
    "image/webp": 500 << 10,
    "video/mp4": 16 << 20,
    "video/3gpp": 16 << 20,
}
MANAGEMENT, MESSAGING = "whatsapp_business_management", "whatsapp_business_messaging"
PHONE_DEFAULT_FIELDS = (
    "verified_name",
    "code_verification_status",
    "display_phone_number",
    "quality_rating",
    "platform_type",
    "throughput",
    "webhook_configuration",
    "id",
)
TEMPLATE_DEFAULT_FIELDS = (
    "name",
    "parameter_format",
    "components",
    "language",
    "status",
    "category",
    "sub_category",
    "id",
)
FLOW_DEFAULT_FIELDS = ("id", "name", "status", "categories", "validation_errors")
WABA_DEFAULT_FIELDS = ("id", "name", "timezone_id", "message_template_namespace")


@dataclass
class Options:
    """How the sandbox behaves (``waba sandbox serve`` flags)."""

    webhook_url: str | None = None
    throttle_rate: float = 0.0  # share of sends answered 130429 on top of the real limits
    error_rate: float = 0.0  # share of all requests answered 5xx
    latency_ms: int = 0
    status_failure_rate: float = 0.0  # share of accepted messages whose delivery fails
    bench: bool = False
    review_delay: float = 2.0  # seconds until a submitted template is decided
    status_delay: float = 0.2  # sent after 1x, delivered after 2x, read after 4x
    seed: int | None = None


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    origin: str  # scheme://host:port, for paging links and media URLs

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


@dataclass(slots=True)
class Raw:
    """A non-JSON answer (media downloads, Flow JSON)."""

    body: bytes
    content_type: str


Answer = tuple[int, dict[str, Any] | Raw]
Handler = Callable[["Call"], Awaitable[dict[str, Any] | Raw]]


@dataclass(slots=True)
class Call:
    """One authenticated Graph request about one object."""

    request: Request
    version: str
    obj: Any
    params: dict[str, Any]
    token: Token | None  # None for an app token
    path: str  # the path after the version, for paging links


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class Counters:
    """Accepted send requests (``GET /_sandbox/sent``), kept even with ``--bench``."""

    total: int = 0
    by_recipient: dict[str, int] = field(default_factory=dict)


class Sandbox:
    """The Graph API over one ``State``."""

    def __init__(self, state: State, options: Options, *, log: Callable[[str], None] = lambda _line: None) -> None:
        self.state = state
        self.options = options
        self.log = log
        self.random = random.Random(options.seed)  # noqa: S311 - fault injection, not security
        self.emitter = Emitter(state.app.secret, describe=log)
        self.sent = Counters()
        self._buckets: dict[str, _Bucket] = {}
        self._pairs: dict[tuple[str, str], _Bucket] = {}
        self._proofs: dict[str, str] = {}
        self._routes: dict[tuple[str, str | None, str], Handler] = self._route_table()

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start webhook delivery and resume template reviews a saved state left pending."""
        self.emitter.start()
        for template in self.state.templates.values():
            if template.status == "PENDING":
                self._schedule_review(template)

    async def stop(self) -> None:
        await self.emitter.stop()

    # -- entry point ---------------------------------------------------------------------------

    async def handle(self, request: Request) -> Answer:
        try:
            return 200, await self._dispatch(request)
        except GraphFailure as failure:
            return failure.http_status, failure.envelope()
        except Exception as exc:  # noqa: BLE001 - a sandbox bug must still answer like Graph, and be seen
            self.log(f"    sandbox error on {request.method} {request.path}: {type(exc).__name__}: {exc}")
            bug = GraphFailure(1, f"The sandbox failed: {type(exc).__name__}.", http_status=500, is_transient=False)
            return bug.http_status, bug.envelope()

    async def _dispatch(self, request: Request) -> dict[str, Any] | Raw:
        segments = [s for s in request.path.split("/") if s]
        version = "v23.0"
        if segments and VERSION.match(segments[0]):
            version, segments = segments[0], segments[1:]
        if segments and segments[0] == "_sandbox":
            return await self._internal(request, segments[1:])
        if self.options.latency_ms:
            await asyncio.sleep(self.options.latency_ms / 1000)
        if self.options.error_rate and self.random.random() < self.options.error_rate:
            raise self._injected_error()
        if not segments:
            raise GraphFailure(100, message="(#100) Missing object id in the request path")
        params = read_params(request.query, request.content_type, request.body) if request.body else dict(request.query)
        if segments == ["debug_token"]:
            return self._debug_token(request, params)
        if len(segments) > 2:
            raise GraphFailure(2500, message=f"Unknown path components: /{'/'.join(segments[2:])}")
        object_id, edge = segments[0], (segments[1] if len(segments) == 2 else None)
        obj = self.state.uploads.get(object_id) if object_id.startswith("upload:") else self.state.find(object_id)
        token = self._authenticate(request, params, app_endpoint=isinstance(obj, App))
        if obj is None or not self._may_see(token, obj):
            raise not_found(object_id, request.method)
        handler = self._routes.get((obj.kind, edge, request.method))
        if handler is None:
            if edge is not None and request.method == "GET":
                raise unknown_field(edge, _node_type(obj))
            raise not_found(object_id if edge is None else f"{object_id}/{edge}", request.method)
        call = Call(request, version, obj, params, token, "/".join(segments))
        answer = await handler(call)
        if request.method != "GET":
            self.state.dirty = True
        return answer

    def _injected_error(self) -> GraphFailure:
        if self.random.random() < 0.5:
            return GraphFailure(131000, "Injected by --error-rate.", http_status=500, is_transient=True)
        return GraphFailure(2, "Injected by --error-rate.", http_status=503, is_transient=True)

    def _route_table(self) -> dict[tuple[str, str | None, str], Handler]:
        return {
            ("waba", None, "GET"): self._get_waba,
            ("waba", None, "POST"): self._update_waba,
            ("waba", "phone_numbers", "GET"): self._list_numbers,
            ("waba", "phone_numbers", "POST"): self._add_number,
            ("waba", "message_templates", "GET"): self._list_templates,
            ("waba", "message_templates", "POST"): self._create_template,
            ("waba", "message_templates", "DELETE"): self._delete_templates,
            ("waba", "subscribed_apps", "GET"): self._list_subscribed_apps,
            ("waba", "subscribed_apps", "POST"): self._subscribe_app,
            ("waba", "subscribed_apps", "DELETE"): self._unsubscribe_app,
            ("waba", "flows", "GET"): self._list_flows,
            ("waba", "flows", "POST"): self._create_flow,
            ("waba", "template_analytics", "GET"): self._template_analytics,
            ("phone_number", None, "GET"): self._get_number,
            ("phone_number", None, "POST"): self._update_number,
            ("phone_number", "messages", "POST"): self._messages,
            ("phone_number", "register", "POST"): self._register,
            ("phone_number", "deregister", "POST"): self._deregister,
            ("phone_number", "request_code", "POST"): self._request_code,
            ("phone_number", "verify_code", "POST"): self._verify_code,
            ("phone_number", "whatsapp_business_profile", "GET"): self._get_profile,
            ("phone_number", "whatsapp_business_profile", "POST"): self._update_profile,
            ("phone_number", "whatsapp_business_encryption", "GET"): self._get_encryption,
            ("phone_number", "whatsapp_business_encryption", "POST"): self._set_encryption,
            ("phone_number", "media", "POST"): self._upload_media,
            ("template", None, "GET"): self._get_template,
            ("template", None, "POST"): self._edit_template,
            ("template", "unpause", "POST"): self._unpause_template,
            ("flow", None, "GET"): self._get_flow,
            ("flow", None, "POST"): self._update_flow,
            ("flow", None, "DELETE"): self._delete_flow,
            ("flow", "assets", "GET"): self._list_flow_assets,
            ("flow", "assets", "POST"): self._upload_flow_json,
            ("flow", "publish", "POST"): self._publish_flow,
            ("flow", "deprecate", "POST"): self._deprecate_flow,
            ("media", None, "GET"): self._get_media,
            ("media", None, "DELETE"): self._delete_media,
            ("upload", None, "GET"): self._get_upload,
            ("upload", None, "POST"): self._upload_bytes,
            ("app", "uploads", "POST"): self._start_upload,
            ("app", "subscriptions", "GET"): self._list_subscriptions,
            ("app", "subscriptions", "POST"): self._subscribe_callback,
        }

    # -- authentication (§1.2) -----------------------------------------------------------------

    def _bearer(self, request: Request, params: dict[str, Any]) -> str | None:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() in ("bearer", "oauth") and value.strip():
            return value.strip()
        token = params.pop("access_token", None)
        return str(token) if token else None

    def _authenticate(self, request: Request, params: dict[str, Any], *, app_endpoint: bool = False) -> Token | None:
        """The caller's token; an app token (``app_id|secret``) only where Graph takes one."""
        value = self._bearer(request, params)
        if value is None:
            raise GraphFailure(
                190, message="(#190) An active access token must be used to query this endpoint.", http_status=401
            )
        if "|" in value:
            if app_endpoint and self._is_app_token(value):
                return None
            raise GraphFailure(190, message="Invalid OAuth access token signature.", http_status=401)
        token = self.state.tokens.get(value)
        if token is None:
            raise GraphFailure(190, message="Invalid OAuth access token - Cannot parse access token", http_status=401)
        if not token.valid or (token.expires_at and token.expires_at < time.time()):
            raise GraphFailure(
                190, message="Error validating access token: Session has expired.", subcode=463, http_status=401
            )
        proof = params.pop("appsecret_proof", None)
        if proof is not None and proof != self._proof(token.token):
            raise GraphFailure(100, message="Invalid appsecret_proof provided in the API argument")
        return token

    def _proof(self, token: str) -> str:
        proof = self._proofs.get(token)
        if proof is None:
            proof = hmac.new(self.state.app.secret.encode(), token.encode(), hashlib.sha256).hexdigest()
            self._proofs[token] = proof
        return proof

    def _is_app_token(self, value: str) -> bool:
        app_id, _, secret = value.partition("|")
        return app_id == self.state.app.id and hmac.compare_digest(secret, self.state.app.secret)

    def _may_see(self, token: Token | None, obj: Any) -> bool:
        if token is None:
            return isinstance(obj, App)
        if isinstance(obj, App | UploadSession):
            return token.app_id == self.state.app.id
        waba_id = self._waba_of(obj)
        return waba_id is None or not token.target_ids or waba_id in token.target_ids

    def _waba_of(self, obj: Any) -> str | None:
        if isinstance(obj, Waba):
            return obj.id
        if isinstance(obj, PhoneNumber | Template | Flow):
            return obj.waba_id
        if isinstance(obj, Media):
            number = self.state.phone_numbers.get(obj.phone_number_id)
            return number.waba_id if number else None
        return None

    @staticmethod
    def _scope(call: Call, scope: str) -> None:
        if call.token is not None and scope not in call.token.scopes:
            raise GraphFailure(10, f"The access token does not have the {scope} permission.", http_status=403)

    # -- debug_token (§5.3) --------------------------------------------------------------------

    def _debug_token(self, request: Request, params: dict[str, Any]) -> dict[str, Any]:
        caller = self._bearer(request, params)
        if caller is None:
            raise GraphFailure(190, message="(#190) An access token is required to inspect a token.", http_status=401)
        if "|" in caller:
            if not self._is_app_token(caller):
                raise GraphFailure(190, message="Invalid OAuth access token signature.", http_status=401)
        else:
            self._authenticate(request, {"access_token": caller})
        input_token = params.get("input_token")
        if not input_token:
            raise missing("input_token")
        token = self.state.tokens.get(str(input_token))
        if token is None:
            return {
                "data": {
                    "is_valid": False,
                    "error": {"code": 190, "message": "Invalid OAuth access token.", "subcode": 467},
                    "scopes": [],
                }
            }
        expired = bool(token.expires_at and token.expires_at < time.time())
        data: dict[str, Any] = {
            "app_id": token.app_id,
            "type": token.type,
            "application": self.state.app.name,
            "data_access_expires_at": 0 if not token.expires_at else token.expires_at + 90 * 86400,
            "expires_at": token.expires_at,
            "is_valid": token.valid and not expired,
            "issued_at": token.issued_at,
            "scopes": list(token.scopes),
            "granular_scopes": [
                {"scope": scope, "target_ids": list(token.target_ids)}
                if scope in (MANAGEMENT, MESSAGING) and token.target_ids
                else {"scope": scope}
                for scope in token.scopes
                if scope != "public_profile"
            ],
            "user_id": token.user_id,
        }
        if not data["is_valid"]:
            data["error"] = {
                "code": 190,
                "message": "Error validating access token: Session has expired.",
                "subcode": 463,
            }
        return {"data": data}

    # -- WABA (§5) -----------------------------------------------------------------------------

    async def _get_waba(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        waba: Waba = call.obj
        answer: dict[str, Any] = {}
        for name, modifiers in _requested(call.params, WABA_DEFAULT_FIELDS):
            answer[name] = self._waba_field(waba, name, modifiers)
        answer.setdefault("id", waba.id)
        return answer

    def _waba_field(self, waba: Waba, name: str, modifiers: dict[str, str]) -> Any:  # noqa: PLR0911 - one per field
        simple = (
            "id",
            "name",
            "currency",
            "timezone_id",
            "message_template_namespace",
            "account_review_status",
            "business_verification_status",
            "country",
            "ownership_type",
            "status",
            "is_enabled_for_insights",
        )
        if name in simple:
            return getattr(waba, name)
        if name == "primary_business_location":
            return waba.country
        if name == "health_status":
            return self._waba_health(waba)
        if name in ("on_behalf_of_business_info", "owner_business_info"):
            return {"id": waba.business_id, "name": waba.business_name, "status": "APPROVED", "type": "SELF"}
        if name == "analytics":
            return self._analytics(waba, modifiers)
        if name in ("conversation_analytics", "pricing_analytics"):
            return self._pricing_analytics(waba, modifiers, conversation=name == "conversation_analytics")
        if name == "phone_numbers":
            return {"data": [self._number_fields(n, PHONE_DEFAULT_FIELDS) for n in self._numbers_of(waba)]}
        raise unknown_field(name, "WhatsAppBusinessAccount")

    def _waba_health(self, waba: Waba) -> dict[str, Any]:
        entities: list[dict[str, Any]] = []
        overall = "AVAILABLE"
        for number in self._numbers_of(waba):
            entity: dict[str, Any] = {"entity_type": "PHONE_NUMBER", "id": number.id, "can_send_message": "AVAILABLE"}
            if number.status != "CONNECTED":
                entity["can_send_message"] = "BLOCKED"
                entity["errors"] = [
                    {
                        "error_code": 141000,
                        "error_description": f"The phone number is {number.status}.",
                        "possible_solution": "Register the phone number (POST /{phone-number-id}/register).",
                    }
                ]
                overall = "LIMITED"
            entities.append(entity)
        entities += [
            {"entity_type": "WABA", "id": waba.id, "can_send_message": "AVAILABLE"},
            {"entity_type": "BUSINESS", "id": waba.business_id, "can_send_message": "AVAILABLE"},
            {"entity_type": "APP", "id": self.state.app.id, "can_send_message": "AVAILABLE"},
        ]
        return {"can_send_message": overall, "entities": entities}

    async def _update_waba(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        waba: Waba = call.obj
        changed = False
        if "name" in call.params:
            name = str(call.params["name"])
            if not 1 <= len(name) <= 100:
                raise bad_param("Param name must be 1 to 100 characters.")
            waba.name, changed = name, True
        if "timezone_id" in call.params:
            waba.timezone_id, changed = str(call.params["timezone_id"]), True
        if "is_enabled_for_insights" in call.params:
            if str(call.params["is_enabled_for_insights"]).lower() not in ("true", "1"):
                raise bad_param("Template insights cannot be turned off once enabled.")
            waba.is_enabled_for_insights, changed = True, True
        if not changed:
            raise bad_param("Nothing to update: give name, timezone_id or is_enabled_for_insights.")
        return {"id": waba.id} if "is_enabled_for_insights" in call.params else {"success": True}

    def _numbers_of(self, waba: Waba) -> list[PhoneNumber]:
        numbers = [n for n in self.state.phone_numbers.values() if n.waba_id == waba.id]
        return sorted(numbers, key=lambda n: n.last_onboarded_time, reverse=True)

    # -- phone numbers (§4) --------------------------------------------------------------------

    async def _list_numbers(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        numbers = self._numbers_of(call.obj)
        sort = str(call.params.get("sort", ""))
        if "ascending" in sort or ".asc" in sort:  # both syntaxes of §4.1; newest first otherwise
            numbers.reverse()
        mode = _account_mode_filter(call.params.get("filtering"))
        if mode:
            numbers = [n for n in numbers if n.account_mode == mode]
        requested = _requested(call.params, PHONE_DEFAULT_FIELDS)
        chosen, paging = page(numbers, call.request.query, self._link(call), default=25, most=100)
        return {"data": [self._number_fields(n, requested) for n in chosen], "paging": paging}

    def _number_fields(self, number: PhoneNumber, requested: Any) -> dict[str, Any]:
        answer: dict[str, Any] = {}
        for item in requested:
            name = item[0] if isinstance(item, tuple) else item
            answer[name] = self._number_field(number, name)
        answer["id"] = number.id
        return answer

    def _number_field(self, number: PhoneNumber, name: str) -> Any:  # noqa: PLR0911 - one per field
        simple = (
            "id",
            "display_phone_number",
            "verified_name",
            "quality_rating",
            "code_verification_status",
            "name_status",
            "new_name_status",
            "status",
            "platform_type",
            "account_mode",
            "is_official_business_account",
            "is_on_biz_app",
            "is_pin_enabled",
            "last_onboarded_time",
        )
        if name in simple:
            return getattr(number, name)
        if name in ("whatsapp_business_manager_messaging_limit", "messaging_limit_tier"):
            return number.messaging_limit
        if name == "throughput":
            return {"level": number.throughput_level}
        if name == "webhook_configuration":
            return self._webhook_configuration(number)
        if name == "country_dial_code":
            return country_of(number.digits)[1]
        if name == "country_code":
            return country_of(number.digits)[0]
        if name == "health_status":
            waba = self.state.wabas[number.waba_id]
            health = self._waba_health(waba)
            mine = [e for e in health["entities"] if e["id"] != number.id or e["entity_type"] == "PHONE_NUMBER"]
            return {"can_send_message": health["can_send_message"], "entities": mine}
        if name in ("certificate", "new_certificate"):
            return "CmEKHQi" + hashlib.sha256(number.id.encode()).hexdigest()[:40]
        if name in ("search_visibility",):
            return "VISIBLE"
        if name in ("is_preverified_number", "is_on_biz_app"):
            return False
        raise unknown_field(name, "WhatsAppBusinessPhoneNumber")

    def _webhook_configuration(self, number: PhoneNumber) -> dict[str, str]:
        waba = self.state.wabas[number.waba_id]
        configuration: dict[str, str] = {}
        if number.webhook_override:
            configuration["phone_number"] = number.webhook_override
        if waba.override_callback_uri:
            configuration["whatsapp_business_account"] = waba.override_callback_uri
        application = self.options.webhook_url or self.state.app.callback_url
        if application:
            configuration["application"] = application
        return configuration

    async def _get_number(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        return self._number_fields(call.obj, _requested(call.params, PHONE_DEFAULT_FIELDS))

    async def _add_number(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        waba: Waba = call.obj
        cc = str(call.params.get("cc") or call.params.get("country_code") or "")
        digits = str(call.params.get("phone_number") or "")
        name = call.params.get("verified_name")
        if not cc or not digits or not name:
            raise missing("cc, phone_number and verified_name")
        full = digits if digits.startswith(cc) else cc + digits
        if not full.isdigit() or country_of(full)[0] is None:
            raise bad_param(f"Param phone_number ({digits}) is not a valid phone number for country code {cc}.")
        if self.state.number_by_phone(full) is not None:
            raise bad_param("This phone number is already in a WhatsApp Business Account.")
        number = PhoneNumber(
            id=self.state.new_id(15),
            waba_id=waba.id,
            phone_number="+" + full,
            display_phone_number="+" + full,
            verified_name=str(name),
            code_verification_status="NOT_VERIFIED",
            name_status="PENDING_REVIEW",
            status="PENDING",
            platform_type="NOT_APPLICABLE",
            last_onboarded_time=_iso(time.time()),
        )
        self.state.add(number)
        return {"id": number.id}

    async def _update_number(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        number: PhoneNumber = call.obj
        params = call.params
        if "pin" in params:
            number.pin = _pin(params["pin"])
            number.is_pin_enabled = True
            return {"success": True}
        if "new_display_name" in params:
            name = str(params["new_display_name"])
            if not 3 <= len(name) <= 100:
                raise bad_param("Param new_display_name must be 3 to 100 characters.")
            number.requested_name, number.new_name_status = name, "PENDING_REVIEW"
            self._later(self.options.review_delay, self._decide_name, number.id)
            return {"success": True}
        if "webhook_configuration" in params:
            configuration = params["webhook_configuration"]
            if not isinstance(configuration, dict) or "override_callback_uri" not in configuration:
                raise missing("webhook_configuration['override_callback_uri']")
            uri = str(configuration["override_callback_uri"] or "")
            if uri:
                await self._verify_callback(uri, configuration.get("verify_token"))
            number.webhook_override = uri or None
            return {"success": True}
        raise bad_param("Nothing to update: give pin, new_display_name or webhook_configuration.")

    def _decide_name(self, phone_number_id: str) -> None:
        number = self.state.phone_numbers.get(phone_number_id)
        if number is None or number.requested_name is None:
            return
        rejected = "REJECT" in number.requested_name.upper()
        decision = "REJECTED" if rejected else "APPROVED"
        if not rejected:
            number.verified_name = number.requested_name
        number.new_name_status = "DECLINED" if rejected else "APPROVED"
        value = {
            "display_phone_number": number.digits,
            "decision": decision,
            "requested_verified_name": number.requested_name,
            "rejection_reason": "NAME_FORMAT_UNACCEPTABLE" if rejected else None,
        }
        number.requested_name = None
        self.state.dirty = True
        self.emit_management(number.waba_id, "phone_number_name_update", value)

    async def _register(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        number: PhoneNumber = call.obj
        if call.params.get("messaging_product") != "whatsapp":
            raise missing("messaging_product")
        if "pin" not in call.params:
            raise missing("pin")
        pin = _pin(call.params["pin"])
        self._count_registration(number)
        if number.is_pin_enabled and number.pin != pin:
            raise GraphFailure(133005, "The PIN does not match the number's two-step verification PIN.")
        region = call.params.get("data_localization_region")
        if region is not None:
            if region not in ("AU", "ID", "IN", "JP", "SG", "KR", "DE", "CH", "GB", "BR", "BH", "ZA", "AE", "CA"):
                raise bad_param(f"Param data_localization_region ({region}) is not a supported region.")
            number.data_localization_region = str(region)
        number.pin, number.is_pin_enabled = pin, True
        number.status, number.platform_type = "CONNECTED", "CLOUD_API"
        return {"success": True}

    def _count_registration(self, number: PhoneNumber) -> None:
        now = time.time()
        number.registrations = [at for at in number.registrations if now - at < 72 * 3600]
        if len(number.registrations) >= 10:
            raise GraphFailure(133016, "This number was registered or deregistered 10 times in 72 hours.")
        number.registrations.append(now)

    async def _deregister(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        number: PhoneNumber = call.obj
        if number.platform_type != "CLOUD_API":
            raise GraphFailure(133010, "The phone number is not registered.")
        self._count_registration(number)
        number.status, number.platform_type = "DISCONNECTED", "NOT_APPLICABLE"
        return {"success": True}

    async def _request_code(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        number: PhoneNumber = call.obj
        method = str(call.params.get("code_method") or "").upper()
        if not method:
            raise missing("code_method")
        if method not in ("SMS", "VOICE"):
            raise bad_param("Param code_method must be one of {SMS, VOICE}.")
        if not call.params.get("language"):
            raise missing("language")
        number.requested_code = VERIFICATION_CODE
        self.log(f"    verification code for {number.phone_number} ({method}): {VERIFICATION_CODE}")
        return {"success": True}

    async def _verify_code(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        number: PhoneNumber = call.obj
        code = call.params.get("code")
        if not code:
            raise missing("code")
        if number.requested_code is None or str(code) != number.requested_code:
            raise GraphFailure(136025, "Code couldn't be verified: request a new code and try again.")
        number.requested_code = None
        number.code_verification_status = "VERIFIED"
        if number.status == "PENDING":
            number.status = "DISCONNECTED"
        return {"success": True}

    async def _get_profile(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        number: PhoneNumber = call.obj
        known = ("about", "address", "description", "email", "profile_picture_url", "websites", "vertical")
        profile: dict[str, Any] = {}
        for name, _modifiers in _requested(call.params, known):
            if name == "messaging_product":
                continue
            if name not in known:
                raise unknown_field(name, "WhatsAppBusinessProfile")
            if name in number.profile:
                profile[name] = number.profile[name]
        profile["messaging_product"] = "whatsapp"
        return {"data": [profile]}

    async def _update_profile(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        number: PhoneNumber = call.obj
        handles = {u.handle for u in self.state.uploads.values() if u.handle}
        number.profile.update(check_profile(call.params, handles))
        return {"success": True}

    async def _get_encryption(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        number: PhoneNumber = call.obj
        if number.business_public_key is None:
            return {"data": []}
        return {
            "data": [
                {"business_public_key": number.business_public_key, "business_public_key_signature_status": "VALID"}
            ]
        }

    async def _set_encryption(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        key = call.params.get("business_public_key")
        if not key:
            raise missing("business_public_key")
        if "BEGIN PUBLIC KEY" not in str(key):
            raise bad_param("Param business_public_key must be a PEM-encoded RSA public key.")
        call.obj.business_public_key = str(key)
        return {"success": True}

    # -- messages (§2) -------------------------------------------------------------------------

    async def _messages(self, call: Call) -> dict[str, Any]:
        self._scope(call, MESSAGING)
        number: PhoneNumber = call.obj
        params = call.params
        if params.get("status") == "read" and "message_id" in params:
            return self._mark_read(number, params)
        if number.status != "CONNECTED" or number.platform_type != "CLOUD_API":
            raise GraphFailure(133010, f"Phone number {number.id} is not registered with the Cloud API.")
        send = send_rules.check_send(params, self.state, number.id, country_of(number.digits)[1])
        bench = self.options.bench
        if not bench:
            self._pace(number, send.wa_id)
        if self.options.throttle_rate and self.random.random() < self.options.throttle_rate:
            raise GraphFailure(130429, "Injected by --throttle-rate.")
        message_id = wamid(send.wa_id)
        sent = self.sent
        sent.total += 1
        sent.by_recipient[send.wa_id] = sent.by_recipient.get(send.wa_id, 0) + 1
        if not bench:
            self._accept(call, number, send, message_id)
        item: dict[str, Any] = {"id": message_id}
        if send.template is not None:
            item["message_status"] = "accepted"
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": str(params.get("to")), "wa_id": send.wa_id}],
            "messages": [item],
        }

    def _pace(self, number: PhoneNumber, wa_id: str) -> None:
        now = time.monotonic()
        rate = COEXISTENCE_THROUGHPUT if number.is_on_biz_app else THROUGHPUT.get(number.throughput_level, 80.0)
        bucket = self._buckets.get(number.id)
        if bucket is None:
            bucket = self._buckets[number.id] = _Bucket(rate, now)
        bucket.tokens = min(rate, bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        if bucket.tokens < 1:
            raise GraphFailure(130429, f"Cloud API message throughput ({rate:g} messages/s) has been reached.")
        pair = self._pairs.get((number.id, wa_id))
        if pair is None:
            pair = self._pairs[(number.id, wa_id)] = _Bucket(PAIR_BURST, now)
        pair.tokens = min(PAIR_BURST, pair.tokens + (now - pair.at) / PAIR_INTERVAL)
        pair.at = now
        if pair.tokens < 1:
            raise GraphFailure(131056, f"Too many messages to {wa_id} from this number in a short time.")
        bucket.tokens -= 1
        pair.tokens -= 1

    def _accept(self, call: Call, number: PhoneNumber, send: send_rules.Send, message_id: str) -> None:
        now = time.time()
        window = pricing.in_window(self.state, number.id, send.wa_id, now)
        message = Message(
            wamid=message_id,
            direction="out",
            phone_number_id=number.id,
            contact=send.wa_id,
            type=send.type,
            created_at=now,
            category=send.category,
            pricing_type=pricing.pricing_type(send, window),
            template_id=send.template.id if send.template else None,
            api_version=call.version,
            country=country_of(send.wa_id)[0],
            biz_opaque_callback_data=call.params.get("biz_opaque_callback_data"),
            extra=send.extra,
        )
        self.state.messages[message_id] = message
        delay = self.options.status_delay
        if send.free_form and not window:
            details = "Message failed to send because more than 24 hours have passed since the customer last replied."
            self._later(delay, self._fail, message_id, 131047, details)
        elif self.options.status_failure_rate and self.random.random() < self.options.status_failure_rate:
            self._later(delay, self._fail, message_id, *send_rules.failure_for(message))
        else:
            for step, status in ((1, "sent"), (2, "delivered"), (4, "read")):
                self._later(delay * step, self._advance, message_id, status)

    def _mark_read(self, number: PhoneNumber, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("messaging_product") != "whatsapp":
            raise missing("messaging_product")
        message = self.state.messages.get(str(params["message_id"]))
        if message is None or message.direction != "in" or message.phone_number_id != number.id:
            raise invalid(f"Message {params['message_id']} is not a message this number received.")
        message.status = "read"
        return {"success": True}

    def _advance(self, wamid: str, status: str) -> None:
        message = self.state.messages.get(wamid)
        if message is None or message.status == "failed":
            return
        now = time.time()
        if STATUS_ORDER[status] > STATUS_ORDER.get(message.status, 0):
            message.status = status
        setattr(message, f"{status}_at", now)
        if message.conversation_id is None:
            message.conversation_id = secrets.token_hex(16)
        self.state.dirty = True
        self._emit_status(message, self._status_item(message, status, now))

    def _fail(self, wamid: str, code: int, details: str) -> None:
        message = self.state.messages.get(wamid)
        if message is None:
            return
        now = time.time()
        message.status, message.error_code, message.failed_at = "failed", code, now
        self.state.dirty = True
        item = self._status_item(message, "failed", now)
        item["errors"] = [webhook_error(code, details)]
        self._emit_status(message, item)

    def _status_item(self, message: Message, status: str, now: float) -> dict[str, Any]:
        """A status object (§8.6): conversation up to v23.0, pricing on sent and delivered."""
        item: dict[str, Any] = {
            "id": message.wamid,
            "status": status,
            "timestamp": str(int(now)),
            "recipient_id": message.contact,
        }
        if message.biz_opaque_callback_data:
            item["biz_opaque_callback_data"] = message.biz_opaque_callback_data
        if status not in ("sent", "delivered"):
            return item
        category = message.category or "service"
        if _major(message.api_version) < 24:
            conversation: dict[str, Any] = {"id": message.conversation_id or secrets.token_hex(16)}
            if status == "sent":
                conversation["expiration_timestamp"] = str(int(message.created_at) + 86400)
            conversation["origin"] = {"type": category}
            item["conversation"] = conversation
        pricing_type = message.pricing_type or "regular"
        item["pricing"] = {
            "billable": pricing_type == "regular",
            "pricing_model": "PMP",
            "type": pricing_type,
            "category": category,
        }
        return item

    def _emit_status(self, message: Message, item: dict[str, Any]) -> None:
        number = self.state.phone_numbers.get(message.phone_number_id)
        if number is None:
            return
        url = self.messages_url(number)
        if url is None:
            return
        value = messages_value(number.digits, number.id, statuses=[item])
        self.emitter.emit(url, number.waba_id, "messages", value)

    def messages_url(self, number: PhoneNumber) -> str | None:
        """Where ``messages`` webhooks of this number go (§5.2): flag, number, WABA, app; None if unsubscribed."""
        waba = self.state.wabas.get(number.waba_id)
        if waba is None or not waba.subscribed or not self._app_wants("messages"):
            return None
        return (
            self.options.webhook_url
            or number.webhook_override
            or waba.override_callback_uri
            or self.state.app.callback_url
        )

    def management_url(self, waba_id: str, field_name: str) -> str | None:
        waba = self.state.wabas.get(waba_id)
        if waba is None or not waba.subscribed or not self._app_wants(field_name):
            return None
        return self.options.webhook_url or self.state.app.callback_url

    def _app_wants(self, field_name: str) -> bool:
        return self.state.app.fields is None or field_name in self.state.app.fields

    def emit_management(self, waba_id: str, field_name: str, value: dict[str, Any]) -> None:
        url = self.management_url(waba_id, field_name)
        if url is not None:
            self.emitter.emit(url, waba_id, field_name, value, at=int(time.time()))

    def _later(self, delay: float, callback: Callable[..., None], *args: Any) -> None:
        asyncio.get_running_loop().call_later(delay, callback, *args)

    # -- templates (§3) ------------------------------------------------------------------------

    async def _list_templates(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        templates = sorted(self.state.templates_of(call.obj.id), key=lambda t: t.created_at, reverse=True)
        templates = [t for t in templates if _template_matches(t, call.params)]
        requested = _requested(call.params, TEMPLATE_DEFAULT_FIELDS)
        chosen, paging = page(templates, call.request.query, self._link(call), default=25, most=1000)
        answer: dict[str, Any] = {"data": [_template_fields(t, requested) for t in chosen], "paging": paging}
        summary = call.params.get("summary")
        if summary:
            answer["summary"] = self._template_summary(call.obj, str(summary), len(templates))
        return answer

    def _template_summary(self, waba: Waba, names: str, total: int) -> dict[str, Any]:
        values = {
            "total_count": total,
            "message_template_count": len(self.state.templates_of(waba.id)),
            "message_template_limit": TEMPLATE_LIMIT,
            "are_translations_complete": True,
        }
        return {name: values[name] for name in names.split(",") if name in values}

    async def _create_template(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        template = template_rules.check_new_template(call.params, self.state, call.obj.id, TEMPLATE_LIMIT)
        self.state.add(template)
        self._schedule_review(template)
        self.log(f"    template {template.name} ({template.language}) submitted: PENDING")
        return {"id": template.id, "status": template.status, "category": template.category}

    def _schedule_review(self, template: Template) -> None:
        due = template.review_due or time.time() + self.options.review_delay
        template.review_due = due
        self._later(max(0.0, due - time.time()), self._review, template.id)

    def _review(self, template_id: str) -> None:
        template = self.state.templates.get(template_id)
        if template is None or template.status != "PENDING":
            return
        decision = template_rules.review(template)
        template.status, template.rejected_reason, template.review_due = decision.status, decision.reason, None
        if decision.status == "APPROVED":
            template.quality_score = {"score": "UNKNOWN", "date": int(time.time())}
        self.state.dirty = True
        self.log(f"    template {template.name} ({template.language}): {decision.status} ({decision.reason})")
        value = template_event(template, decision.status, decision.reason)
        if decision.rejection_info:
            value["rejection_info"] = dict(decision.rejection_info)
        self.emit_management(template.waba_id, "message_template_status_update", value)
        if decision.pause_later:
            self._later(self.options.review_delay, self._pause, template_id)

    def _pause(self, template_id: str) -> None:
        template = self.state.templates.get(template_id)
        if template is None or template.status != "APPROVED":
            return
        template.status = "PAUSED"
        template.quality_score = {"score": "RED", "date": int(time.time())}
        self.state.dirty = True
        value = template_event(template, "PAUSED", "NONE")
        value["other_info"] = {
            "title": "FIRST_PAUSE",
            "description": "Your template was paused for 3 hours: low quality.",
        }
        self.emit_management(template.waba_id, "message_template_status_update", value)

    async def _delete_templates(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        name = call.params.get("name")
        if not name:
            raise missing("name")
        hsm_id = call.params.get("hsm_id")
        doomed = [t for t in self.state.templates_of(call.obj.id) if t.name == name]
        if hsm_id is not None:
            doomed = [t for t in doomed if t.id == str(hsm_id)]
        if not doomed:
            raise GraphFailure(
                100,
                message="Invalid parameter",
                subcode=2593002,
                user_title="Message template not found",
                user_msg=f"There is no message template named {name}" + (f" with id {hsm_id}." if hsm_id else "."),
            )
        if any(t.status == "DISABLED" for t in doomed):
            raise bad_param("A DISABLED template cannot be deleted.", user_title="Template cannot be deleted")
        for template in doomed:
            del self.state.templates[template.id]
            self.emit_management(
                template.waba_id, "message_template_status_update", template_event(template, "DELETED", "NONE")
            )
        return {"success": True}

    async def _get_template(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        return _template_fields(call.obj, _requested(call.params, TEMPLATE_DEFAULT_FIELDS))

    async def _edit_template(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        template: Template = call.obj
        params = call.params
        if "cta_url_link_tracking_opted_out" in params and not {"components", "message_send_ttl_seconds"} & set(params):
            template.cta_url_link_tracking_opted_out = str(params["cta_url_link_tracking_opted_out"]).lower() == "true"
            return {"success": True}
        if template.status not in ("APPROVED", "REJECTED", "PAUSED"):
            raise template_rules.template_error(
                f"A {template.status} template cannot be edited.", title="Template cannot be edited"
            )
        category = str(params.get("category") or template.category).upper()
        if category != template.category and template.status == "APPROVED":
            raise template_rules.template_error("The category of an APPROVED template cannot be changed.")
        if category not in template_rules.CATEGORIES:
            raise template_rules.template_error(f"The category must be one of {', '.join(template_rules.CATEGORIES)}.")
        if template.status == "APPROVED":
            self._count_edit(template)
        if "components" in params:
            template.components = template_rules.check_components(
                params["components"], category, template.parameter_format
            )
        if "message_send_ttl_seconds" in params:
            template.message_send_ttl_seconds = int(params["message_send_ttl_seconds"])
        if category != template.category:
            template.previous_category, template.category = template.category, category
        template.status, template.review_due = "PENDING", None
        self._schedule_review(template)
        return {"success": True}

    @staticmethod
    def _count_edit(template: Template) -> None:
        now = time.time()
        template.edits = [at for at in template.edits if now - at < 30 * 86400]
        if any(now - at < 86400 for at in template.edits) or len(template.edits) >= 10:
            raise template_rules.template_error(
                "An APPROVED template can be edited once in 24 hours and 10 times in 30 days.",
                title="Edit limit reached",
            )
        template.edits.append(now)

    async def _unpause_template(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        template: Template = call.obj
        if template.status != "PAUSED":
            return {"success": False, "reason": f"The template is {template.status}, not PAUSED."}
        template.status = "APPROVED"
        value = template_event(template, "APPROVED", "NONE")
        value["other_info"] = {"title": "UNPAUSE", "description": "Your template was unpaused."}
        self.emit_management(template.waba_id, "message_template_status_update", value)
        return {"success": True, "reason": None}

    # -- analytics (§5.4) ----------------------------------------------------------------------

    def _messages_of(self, waba: Waba, start: int, end: int, numbers: list[str] | None) -> list[Message]:
        ids = {n.id for n in self._numbers_of(waba) if not numbers or n.digits in numbers}
        return [m for m in self.state.messages.values() if m.phone_number_id in ids and start <= m.created_at < end]

    def _analytics(self, waba: Waba, modifiers: dict[str, str]) -> dict[str, Any]:
        start, end = _span(modifiers)
        granularity = modifiers.get("granularity", "")
        if granularity not in ("HALF_HOUR", "DAY", "MONTH"):
            raise bad_param("Param granularity must be one of {HALF_HOUR, DAY, MONTH}.")
        numbers = parse_list(modifiers["phone_numbers"]) if "phone_numbers" in modifiers else []
        products = parse_list(modifiers.get("product_types", "[0,2]"))
        countries = parse_list(modifiers["country_codes"]) if "country_codes" in modifiers else []
        points: dict[int, dict[str, Any]] = {}
        for bucket_start, bucket_end in _buckets(start, end, granularity):
            points[bucket_start] = {"start": bucket_start, "end": bucket_end, "sent": 0, "delivered": 0}
        for message in self._messages_of(waba, start, end, numbers):
            product = "100" if message.direction == "in" else ("0" if message.type == "template" else "2")
            if product not in products or (countries and message.country not in countries):
                continue
            bucket = _bucket_of(message.created_at, granularity)
            point = points.get(bucket)
            if point is None:
                point = {"start": bucket, "end": _bucket_end(bucket, granularity), "sent": 0, "delivered": 0}
                points[bucket] = point
            point["sent"] += 1
            if message.status in ("delivered", "read", "received"):
                point["delivered"] += 1
        result: dict[str, Any] = {
            "phone_numbers": numbers or [n.digits for n in self._numbers_of(waba)],
            "granularity": granularity,
            "data_points": sorted(points.values(), key=lambda p: p["start"]),
        }
        if countries:
            result["country_codes"] = countries
        return result

    def _pricing_analytics(  # noqa: PLR0912 - one branch per dimension
        self, waba: Waba, modifiers: dict[str, str], *, conversation: bool
    ) -> dict[str, Any]:
        start, end = _span(modifiers)
        granularity = modifiers.get("granularity", "")
        allowed = ("HALF_HOUR", "DAILY", "MONTHLY")
        if granularity not in allowed:
            raise bad_param(f"Param granularity must be one of {{{', '.join(allowed)}}}.")
        step = {"HALF_HOUR": "HALF_HOUR", "DAILY": "DAY", "MONTHLY": "MONTH"}[granularity]
        numbers = parse_list(modifiers["phone_numbers"]) if "phone_numbers" in modifiers else []
        dimensions = {d.upper() for d in parse_list(modifiers.get("dimensions", "[]"))}
        groups: dict[tuple[Any, ...], dict[str, Any]] = {}
        for message in self._messages_of(waba, start, end, numbers):
            if message.direction != "out" or message.status == "failed":
                continue
            bucket = _bucket_of(message.created_at, step)
            bucket_end = _bucket_end(bucket, step)
            category = (message.category or "service").upper()
            pricing_type = (message.pricing_type or "regular").upper()
            point: dict[str, Any] = {"start": bucket, "end": bucket_end}
            number = self.state.phone_numbers[message.phone_number_id]
            if "COUNTRY" in dimensions:
                point["country"] = message.country
            if "PHONE" in dimensions:
                point["phone_number"] = number.digits
            if conversation:
                if "CONVERSATION_CATEGORY" in dimensions:
                    point["conversation_category"] = category
                if "CONVERSATION_TYPE" in dimensions:
                    point["conversation_type"] = "FREE_TIER" if pricing_type != "REGULAR" else "REGULAR"
                if "CONVERSATION_DIRECTION" in dimensions:
                    point["conversation_direction"] = (
                        "BUSINESS_INITIATED" if message.type == "template" else "USER_INITIATED"
                    )
            else:
                if "PRICING_CATEGORY" in dimensions:
                    point["pricing_category"] = category
                if "PRICING_TYPE" in dimensions:
                    point["pricing_type"] = pricing_type
                if "TIER" in dimensions and pricing_type == "REGULAR":
                    point["tier"] = "0:MAX" if category == "MARKETING" else "0:750000"
            key = tuple(sorted(point.items()))
            group = groups.setdefault(key, {**point, ("conversation" if conversation else "volume"): 0, "cost": 0.0})
            group["conversation" if conversation else "volume"] += 1
            price = PRICES.get(category.lower(), 0.0) if pricing_type == "REGULAR" else 0.0
            group["cost"] = round(group["cost"] + price, 4)
        return {"data": [{"data_points": sorted(groups.values(), key=lambda p: p["start"])}]}

    async def _template_analytics(self, call: Call) -> dict[str, Any]:  # noqa: PLR0912 - one per metric
        self._scope(call, MANAGEMENT)
        waba: Waba = call.obj
        if not waba.is_enabled_for_insights:
            raise bad_param("Template analytics are not enabled: POST /{waba-id}?is_enabled_for_insights=true first.")
        params = call.params
        start, end = _day_or_unix(params.get("start"), "start"), _day_or_unix(params.get("end"), "end")
        if params.get("granularity", "DAILY") != "DAILY":
            raise bad_param("Param granularity must be DAILY.")
        ids = parse_list(str(params.get("template_ids") or ""))
        if not ids:
            raise missing("template_ids")
        if len(ids) > 10:
            raise bad_param("Param template_ids takes at most 10 template ids.")
        metrics = {m.upper() for m in parse_list(str(params.get("metric_types") or "SENT,DELIVERED,READ"))}
        points: list[dict[str, Any]] = []
        by_key: dict[tuple[str, int], dict[str, Any]] = {}
        for message in self._messages_of(waba, start, end, None):
            if message.template_id not in ids:
                continue
            day = _bucket_of(message.created_at, "DAY")
            point = by_key.get((message.template_id, day))
            if point is None:
                point = {"template_id": message.template_id, "start": day, "end": day + 86400}
                for metric in ("SENT", "DELIVERED", "READ"):
                    if metric in metrics:
                        point[metric.lower()] = 0
                if "CLICKED" in metrics:
                    point["clicked"] = []
                if "COST" in metrics:
                    point["cost"] = [{"type": "amount_spent", "value": 0.0}]
                by_key[(message.template_id, day)] = point
                points.append(point)
            reached = {"SENT": message.status != "failed", "DELIVERED": message.status in ("delivered", "read")}
            reached["READ"] = message.status == "read"
            for metric, hit in reached.items():
                if hit and metric in metrics:
                    point[metric.lower()] += 1
            if "COST" in metrics and message.pricing_type == "regular" and message.status != "failed":
                point["cost"][0]["value"] = round(
                    point["cost"][0]["value"] + PRICES.get(message.category or "", 0.0), 4
                )
        return {
            "data": [{"granularity": "DAILY", "product_type": "cloud_api", "data_points": points}],
            "paging": {"cursors": {"before": "MAZDZD", "after": "MjQZD"}},
        }

    # -- subscriptions (§5.2) ------------------------------------------------------------------

    async def _list_subscribed_apps(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        waba: Waba = call.obj
        if not waba.subscribed:
            return {"data": []}
        app = self.state.app
        entry: dict[str, Any] = {
            "whatsapp_business_api_data": {
                "id": app.id,
                "link": f"https://www.facebook.com/games/?app_id={app.id}",
                "name": app.name,
            }
        }
        if waba.override_callback_uri:
            entry["override_callback_uri"] = waba.override_callback_uri
        return {"data": [entry]}

    async def _subscribe_app(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        waba: Waba = call.obj
        uri = call.params.get("override_callback_uri")
        if uri:
            if len(str(uri)) > 200:
                raise bad_param("Param override_callback_uri must be at most 200 characters.")
            await self._verify_callback(str(uri), call.params.get("verify_token"))
        waba.subscribed = True
        waba.override_callback_uri = str(uri) if uri else None
        return {"success": True}

    async def _unsubscribe_app(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        call.obj.subscribed = False
        call.obj.override_callback_uri = None
        return {"success": True}

    async def _list_subscriptions(self, call: Call) -> dict[str, Any]:
        app = self.state.app
        if not app.callback_url:
            return {"data": []}
        fields = [{"name": name, "version": call.version} for name in (app.fields or ["messages"])]
        entry = {
            "object": "whatsapp_business_account",
            "callback_url": app.callback_url,
            "active": True,
            "fields": fields,
        }
        return {"data": [entry]}

    async def _subscribe_callback(self, call: Call) -> dict[str, Any]:
        if call.token is not None:
            raise GraphFailure(
                190,
                message="(#190) This method must be called with an app access_token (app_id|app_secret).",
                http_status=401,
            )
        params = call.params
        if params.get("object") != "whatsapp_business_account":
            raise bad_param("Param object must be whatsapp_business_account.")
        url = params.get("callback_url")
        if not url:
            raise missing("callback_url")
        await self._verify_callback(str(url), params.get("verify_token"))
        fields = params.get("fields")
        app = self.state.app
        app.callback_url, app.verify_token = str(url), str(params.get("verify_token") or "")
        if fields:
            app.fields = (
                fields if isinstance(fields, list) else [f.strip() for f in str(fields).split(",") if f.strip()]
            )
        return {"success": True}

    async def _verify_callback(self, url: str, verify_token: Any) -> None:
        """Meta's verification request (§8.2): the URL must echo the challenge."""
        import httpx

        challenge = str(secrets.randbelow(10**9))
        query = {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": str(verify_token or "")}
        problem = None
        try:
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(url, params=query)
            if response.status_code != 200 or response.text.strip() != challenge:
                problem = f"The URL answered HTTP {response.status_code} without the challenge"
        except httpx.HTTPError as exc:
            problem = f"The URL could not be reached ({type(exc).__name__})"
        if problem:
            raise GraphFailure(
                2200,
                message=f"(#2200) Callback verification failed with the following errors: {problem}",
            )

    # -- flows (§6) ----------------------------------------------------------------------------

    async def _list_flows(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        flows = sorted((f for f in self.state.flows.values() if f.waba_id == call.obj.id), key=lambda f: -f.created_at)
        requested = _requested(call.params, FLOW_DEFAULT_FIELDS)
        chosen, paging = page(flows, call.request.query, self._link(call), default=25, most=100)
        return {"data": [self._flow_fields(f, requested) for f in chosen], "paging": paging}

    def _flow_fields(self, flow: Flow, requested: list[tuple[str, dict[str, str]]]) -> dict[str, Any]:
        answer: dict[str, Any] = {}
        waba = self.state.wabas[flow.waba_id]
        for name, _modifiers in requested:
            if name in (
                "id",
                "name",
                "status",
                "categories",
                "validation_errors",
                "json_version",
                "data_api_version",
                "endpoint_uri",
            ):
                value = getattr(flow, name)
                if value is not None:
                    answer[name] = value
            elif name == "data_channel_uri":
                answer[name] = flow.endpoint_uri
            elif name == "preview":
                expires = _iso(time.time() + 30 * 86400)
                preview_url = (
                    f"https://business.facebook.com/wa/manage/flows/{flow.id}/preview/?token={secrets.token_hex(8)}"
                )
                answer[name] = {"preview_url": preview_url, "expires_at": expires}
            elif name == "whatsapp_business_account":
                answer[name] = {
                    "id": waba.id,
                    "name": waba.name,
                    "timezone_id": waba.timezone_id,
                    "message_template_namespace": waba.message_template_namespace,
                }
            elif name == "application":
                app = self.state.app
                answer[name] = {
                    "id": app.id,
                    "name": app.name,
                    "link": f"https://www.facebook.com/games/?app_id={app.id}",
                }
            elif name == "health_status":
                can_send = {"THROTTLED": "LIMITED", "BLOCKED": "BLOCKED"}.get(flow.status, "AVAILABLE")
                entity = {"entity_type": "FLOW", "id": flow.id, "can_send_message": can_send}
                answer[name] = {"can_send_message": can_send, "entities": [entity]}
            else:
                raise unknown_field(name, "WhatsAppBusinessFlow")
        answer["id"] = flow.id
        return answer

    async def _create_flow(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        params = call.params
        name = params.get("name")
        if not name:
            raise missing("name")
        categories = params.get("categories")
        if isinstance(categories, str):
            categories = [c.strip() for c in categories.split(",") if c.strip()]
        if not isinstance(categories, list) or not categories:
            raise missing("categories")
        unknown = [c for c in categories if c not in flow_rules.FLOW_CATEGORIES]
        if unknown:
            raise bad_param(
                f"Param categories[0] must be one of {{{', '.join(flow_rules.FLOW_CATEGORIES)}}}; got {unknown[0]}."
            )
        if any(f.name == name and f.waba_id == call.obj.id for f in self.state.flows.values()):
            raise GraphFailure(
                100, message="(#100) A Flow with this name already exists in this WhatsApp Business Account."
            )
        flow = Flow(
            id=self.state.new_id(), waba_id=call.obj.id, name=str(name), categories=[str(c) for c in categories]
        )
        clone = params.get("clone_flow_id")
        if clone:
            source = self.state.flows.get(str(clone))
            if source is None:
                raise bad_param(f"Param clone_flow_id: flow {clone} does not exist.")
            flow.flow_json, flow.validation_errors = source.flow_json, list(source.validation_errors)
            flow.json_version, flow.data_api_version = source.json_version, source.data_api_version
        if params.get("endpoint_uri"):
            flow.endpoint_uri = str(params["endpoint_uri"])
        answer: dict[str, Any] = {"id": flow.id}
        if params.get("flow_json"):
            text = params["flow_json"] if isinstance(params["flow_json"], str) else _json_text(params["flow_json"])
            self._set_flow_json(flow, text)
            answer["success"] = True
            answer["validation_errors"] = flow.validation_errors
        self.state.add(flow)
        if str(params.get("publish", "")).lower() == "true":
            self._publish(flow)
        return answer

    async def _get_flow(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        return self._flow_fields(call.obj, _requested(call.params, FLOW_DEFAULT_FIELDS))

    async def _update_flow(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        flow: Flow = call.obj
        if flow.status == "DEPRECATED":
            raise GraphFailure(139001, "A deprecated Flow cannot be changed.")
        params = call.params
        if "name" in params:
            flow.name = str(params["name"])
        if "categories" in params:
            categories = params["categories"]
            if (
                not isinstance(categories, list)
                or not categories
                or any(c not in flow_rules.FLOW_CATEGORIES for c in categories)
            ):
                raise bad_param(f"Param categories must be a list of {', '.join(flow_rules.FLOW_CATEGORIES)}.")
            flow.categories = [str(c) for c in categories]
        if "endpoint_uri" in params:
            flow.endpoint_uri = str(params["endpoint_uri"]) or None
        return {"success": True}

    async def _delete_flow(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        flow: Flow = call.obj
        if flow.status != "DRAFT":
            raise GraphFailure(139004, f"Only DRAFT Flows can be deleted; this one is {flow.status}.")
        del self.state.flows[flow.id]
        return {"success": True}

    async def _upload_flow_json(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        flow: Flow = call.obj
        if flow.status != "DRAFT":
            raise GraphFailure(139001, f"The Flow JSON of a {flow.status} Flow cannot be changed.")
        parts = multipart(call.request.content_type, call.request.body)
        if "file" not in parts:
            raise missing("file")
        if str(call.params.get("asset_type", "")) != "FLOW_JSON":
            raise bad_param("Param asset_type must be FLOW_JSON.")
        self._set_flow_json(flow, parts["file"][2].decode("utf-8", "replace"))
        return {"success": True, "validation_errors": flow.validation_errors}

    @staticmethod
    def _set_flow_json(flow: Flow, text: str) -> None:
        check = flow_rules.check_flow_json(text)
        flow.flow_json, flow.validation_errors = text, check.errors
        flow.json_version, flow.data_api_version = check.json_version, check.data_api_version

    async def _list_flow_assets(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        flow: Flow = call.obj
        if flow.flow_json is None:
            return {"data": [], "paging": {"cursors": {}}}
        url = f"{call.request.origin}/_sandbox/flows/{flow.id}/flow.json"
        asset = {"name": "flow.json", "asset_type": "FLOW_JSON", "download_url": url}
        return {"data": [asset], "paging": {"cursors": {"before": "QVFIUm", "after": "QVFIUm"}}}

    async def _publish_flow(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        self._publish(call.obj)
        return {"success": True}

    def _publish(self, flow: Flow) -> None:
        if flow.status != "DRAFT":
            raise GraphFailure(139002, f"Only DRAFT Flows can be published; this one is {flow.status}.")
        if flow.flow_json is None:
            raise GraphFailure(139002, "The Flow has no Flow JSON: upload one first.")
        if flow.validation_errors:
            raise GraphFailure(139002, f"The Flow JSON has {len(flow.validation_errors)} validation error(s).")
        if flow.data_api_version and not flow.endpoint_uri:
            raise GraphFailure(139002, "The Flow uses an endpoint (data_api_version) but has no endpoint_uri.")
        self.flow_status(flow, "PUBLISHED")

    async def _deprecate_flow(self, call: Call) -> dict[str, Any]:
        self._scope(call, MANAGEMENT)
        flow: Flow = call.obj
        if flow.status not in ("PUBLISHED", "THROTTLED", "BLOCKED"):
            raise GraphFailure(139003, f"Only published Flows can be deprecated; this one is {flow.status}.")
        self.flow_status(flow, "DEPRECATED")
        return {"success": True}

    def flow_status(self, flow: Flow, status: str) -> None:
        old, flow.status = flow.status, status
        value = {
            "event": "FLOW_STATUS_CHANGE",
            "message": f"Flow {flow.name} changed status from {old} to {status}",
            "flow_id": flow.id,
            "old_status": old,
            "new_status": status,
        }
        self.emit_management(flow.waba_id, "flows", value)

    # -- media (§7) and resumable uploads (§3.3) -----------------------------------------------

    async def _upload_media(self, call: Call) -> dict[str, Any]:
        self._scope(call, MESSAGING)
        parts = multipart(call.request.content_type, call.request.body)
        if call.params.get("messaging_product") != "whatsapp":
            raise missing("messaging_product")
        if "file" not in parts:
            raise missing("file")
        filename, part_type, data = parts["file"]
        mime = str(call.params.get("type") or part_type or "")
        limit = MEDIA_LIMITS.get(mime)
        if limit is None:
            raise GraphFailure(131053, f"Media type {mime or 'unknown'} is not supported.")
        if len(data) > limit:
            raise GraphFailure(131053, f"The file is {len(data)} bytes; {mime} files may be at most {limit} bytes.")
        media = Media(
            id=self.state.new_id(16),
            phone_number_id=call.obj.id,
            mime_type=mime,
            sha256=hashlib.sha256(data).hexdigest(),
            file_size=len(data),
            data=data,
            filename=filename,
        )
        self.state.add(media)
        return {"id": media.id}

    async def _get_media(self, call: Call) -> dict[str, Any]:
        self._scope(call, MESSAGING)
        media: Media = call.obj
        self._media_of_number(call, media)
        return {
            "messaging_product": "whatsapp",
            "url": f"{call.request.origin}/_sandbox/media/{media.id}",
            "mime_type": media.mime_type,
            "sha256": media.sha256,
            "file_size": media.file_size,
            "id": media.id,
        }

    async def _delete_media(self, call: Call) -> dict[str, Any]:
        self._scope(call, MESSAGING)
        self._media_of_number(call, call.obj)
        del self.state.media[call.obj.id]
        return {"success": True}

    @staticmethod
    def _media_of_number(call: Call, media: Media) -> None:
        wanted = call.params.get("phone_number_id")
        if wanted is not None and str(wanted) != media.phone_number_id:
            raise not_found(media.id, call.request.method)

    async def _start_upload(self, call: Call) -> dict[str, Any]:
        params = call.params
        for name in ("file_name", "file_length", "file_type"):
            if not params.get(name):
                raise missing(name)
        if params["file_type"] not in UPLOAD_TYPES:
            raise bad_param(f"Param file_type must be one of {', '.join(UPLOAD_TYPES)}.")
        try:
            length = int(params["file_length"])
        except ValueError:
            raise bad_param("Param file_length must be an integer.") from None
        session_id = "upload:" + wamid(secrets.token_hex(4))[6:30].replace("=", "")
        upload = UploadSession(
            id=session_id, file_name=str(params["file_name"]), file_length=length, file_type=str(params["file_type"])
        )
        self.state.add(upload)
        return {"id": f"{session_id}?sig=ARZ{secrets.token_hex(12)}"}

    async def _upload_bytes(self, call: Call) -> dict[str, Any]:
        upload: UploadSession = call.obj
        raw_offset = call.request.headers.get("file_offset", "0")
        try:
            offset = int(raw_offset)
        except ValueError:
            raise bad_param("Header file_offset must be an integer.") from None
        if offset != len(upload.data):
            raise bad_param(f"file_offset {offset} does not match the bytes received so far ({len(upload.data)}).")
        upload.data += call.request.body
        if len(upload.data) > upload.file_length:
            raise bad_param(f"More bytes than the announced file_length ({upload.file_length}).")
        if len(upload.data) < upload.file_length:
            return {"id": upload.id, "file_offset": len(upload.data)}
        if upload.handle is None:
            encoded = _b64(upload.file_type.encode())
            upload.handle = f"4::{encoded}:ARb{secrets.token_urlsafe(24)}"
        return {"h": upload.handle}

    async def _get_upload(self, call: Call) -> dict[str, Any]:
        upload: UploadSession = call.obj
        return {"id": upload.id, "file_offset": len(upload.data)}

    # -- the sandbox's own endpoints -----------------------------------------------------------

    async def _internal(self, request: Request, segments: list[str]) -> dict[str, Any] | Raw:
        route = "/".join(segments)
        if route == "sent" and request.method == "GET":
            return {"total": self.sent.total, "by_recipient": dict(self.sent.by_recipient)}
        if route == "sent" and request.method == "DELETE":
            self.sent = Counters()
            return {"success": True}
        if route == "inbound" and request.method == "POST":
            from waba_cli.sandbox.inbound import deliver_inbound

            return await deliver_inbound(self, read_params({}, "application/json", request.body))
        if request.method == "POST" and segments and segments[0] in ("tokens", "phone_numbers", "templates", "flows"):
            from waba_cli.sandbox.controls import control

            return control(self, segments, read_params({}, "application/json", request.body))
        if len(segments) == 2 and segments[0] == "media" and request.method == "GET":
            self._authenticate(request, dict(request.query))
            media = self.state.media.get(segments[1])
            if media is None:
                raise not_found(segments[1], "GET")
            return Raw(media.data, media.mime_type)
        if len(segments) == 3 and segments[0] == "flows" and segments[2] == "flow.json":
            flow = self.state.flows.get(segments[1])
            if flow is None or flow.flow_json is None:
                raise not_found(segments[1], "GET")
            return Raw(flow.flow_json.encode(), "application/json")
        raise GraphFailure(2500, message=f"Unknown path components: /_sandbox/{route}")

    def _link(self, call: Call) -> str:
        return f"{call.request.origin}/{call.version}/{call.path}"


# -- helpers ---------------------------------------------------------------------------------------


def _requested(params: dict[str, Any], default: tuple[str, ...]) -> list[tuple[str, dict[str, str]]]:
    value = params.get("fields")
    if not value:
        return [(name, {}) for name in default]
    return parse_fields(str(value))


def _node_type(obj: Any) -> str:
    return {
        "waba": "WhatsAppBusinessAccount",
        "phone_number": "WhatsAppBusinessPhoneNumber",
        "template": "WhatsAppBusinessHSM",
        "flow": "WhatsAppBusinessFlow",
        "media": "WhatsAppBusinessMedia",
        "app": "Application",
        "upload": "UploadSession",
    }.get(obj.kind, "Node")


def _template_fields(template: Template, requested: list[tuple[str, dict[str, str]]]) -> dict[str, Any]:
    simple = (
        "id",
        "name",
        "language",
        "status",
        "category",
        "sub_category",
        "parameter_format",
        "components",
        "quality_score",
        "rejected_reason",
        "previous_category",
        "message_send_ttl_seconds",
        "cta_url_link_tracking_opted_out",
    )
    answer: dict[str, Any] = {}
    for name, _modifiers in requested:
        if name in simple:
            value = getattr(template, name)
            if value is not None:
                answer[name] = value
        elif name in ("correct_category", "library_template_name"):
            continue
        else:
            raise unknown_field(name, "WhatsAppBusinessHSM")
    answer["id"] = template.id
    return answer


def _template_matches(template: Template, params: dict[str, Any]) -> bool:
    name = params.get("name")
    if name and str(name).lower() not in template.name:
        return False
    for key, value in (
        ("status", template.status),
        ("category", template.category),
        ("language", template.language),
        ("quality_score", str(template.quality_score.get("score", ""))),
    ):
        wanted = params.get(key)
        if wanted and value.upper() not in {w.strip().upper() for w in str(wanted).split(",")}:
            return False
    content = params.get("content") or params.get("name_or_content")
    if content:
        texts = " ".join(str(c.get("text", "")) for c in template.components).lower()
        if str(content).lower() not in texts and (
            "name_or_content" not in params or str(content).lower() not in template.name
        ):
            return False
    return True


def template_event(template: Template, event: str, reason: str) -> dict[str, Any]:
    """A ``message_template_status_update`` value (§8.7); the template id is a JSON number."""
    return {
        "event": event,
        "message_template_id": int(template.id),
        "message_template_name": template.name,
        "message_template_language": template.language,
        "reason": reason,
        "message_template_category": template.category,
    }


def _account_mode_filter(value: Any) -> str | None:
    if not value:
        return None
    import json

    try:
        filters = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        raise bad_param("Param filtering must be a JSON array.") from None
    for item in filters if isinstance(filters, list) else []:
        if isinstance(item, dict) and item.get("field") == "account_mode":
            return str(item.get("value"))
    return None


def _pin(value: Any) -> str:
    pin = str(value)
    if not (len(pin) == 6 and pin.isdigit()):
        raise bad_param("Param pin must be a 6-digit number.")
    return pin


def _major(version: str) -> int:
    try:
        return int(version[1:].split(".", maxsplit=1)[0])
    except ValueError:
        return 23


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


def _json_text(value: Any) -> str:
    import json

    return json.dumps(value)


def _span(modifiers: dict[str, str]) -> tuple[int, int]:
    try:
        start, end = int(modifiers["start"]), int(modifiers["end"])
    except KeyError as exc:
        raise missing(str(exc.args[0])) from None
    except ValueError:
        raise bad_param("Params start and end must be unix timestamps.") from None
    if end <= start:
        raise bad_param("Param end must be after start.")
    return start, end


def _day_or_unix(value: Any, name: str) -> int:
    if value is None or value == "":
        raise missing(name)
    text = str(value)
    if text.isdigit():
        return int(text)
    try:
        return int(datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC).timestamp())
    except ValueError:
        raise bad_param(f"Param {name} must be a unix timestamp or YYYY-MM-DD.") from None


def _bucket_of(at: float, granularity: str) -> int:
    if granularity == "HALF_HOUR":
        return int(at) // 1800 * 1800
    if granularity == "DAY":
        return int(at) // 86400 * 86400
    day = datetime.fromtimestamp(at, UTC)
    return int(datetime(day.year, day.month, 1, tzinfo=UTC).timestamp())


def _bucket_end(start: int, granularity: str) -> int:
    if granularity == "HALF_HOUR":
        return start + 1800
    if granularity == "DAY":
        return start + 86400
    first = datetime.fromtimestamp(start, UTC)
    year, month = (first.year + 1, 1) if first.month == 12 else (first.year, first.month + 1)
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp())


def _buckets(start: int, end: int, granularity: str) -> list[tuple[int, int]]:
    """The periods between start and end (at most 1,000: longer spans list only periods with data)."""
    buckets: list[tuple[int, int]] = []
    current = _bucket_of(start, granularity)
    while current < end and len(buckets) < 1000:
        following = _bucket_end(current, granularity)
        buckets.append((current, following))
        current = following
    return buckets
