"""Typed wrappers for the Graph endpoints waba uses, one method each (shapes from the reference).

The TypedDicts are ``total=False`` because Meta omits fields freely; IDs are always strings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict, cast

from waba_cli.graph.client import GraphClient

WABA_FIELDS = (
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
    "health_status",
)
PHONE_NUMBER_FIELDS = (
    "id",
    "display_phone_number",
    "verified_name",
    "quality_rating",
    "code_verification_status",
    "name_status",
    "status",
    "platform_type",
    "throughput",
    "is_on_biz_app",
    "whatsapp_business_manager_messaging_limit",
    "account_mode",
    "webhook_configuration",
    "last_onboarded_time",
)
# what `waba number sync` reads: the fields above and those that older Graph versions may not know
# (health_status from v24.0, §5.6) or that Meta is retiring (messaging_limit_tier, §4.1); the
# service drops one of these and asks again when Meta says it does not know it
OPTIONAL_PHONE_NUMBER_FIELDS = ("is_pin_enabled", "messaging_limit_tier", "health_status")
NUMBER_SYNC_FIELDS = PHONE_NUMBER_FIELDS + OPTIONAL_PHONE_NUMBER_FIELDS
BUSINESS_PROFILE_FIELDS = (
    "about",
    "address",
    "description",
    "email",
    "profile_picture_url",
    "websites",
    "vertical",
)
# what the setup wizard shows of each WABA a token reaches (§5.5): its name and whose it is
DISCOVERY_WABA_FIELDS = ("id", "name", "owner_business_info")

TEMPLATE_FIELDS = (
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
    "correct_category",
    "message_send_ttl_seconds",
)

# what `waba health check` reads of a WABA and of its templates in one call each (§5.1, §3.4, §5.6):
# health_status works on both nodes, so the template list edge brings every template's verdict
WABA_HEALTH_FIELDS = ("id", "name", "status", "account_review_status", "health_status")
TEMPLATE_HEALTH_FIELDS = ("id", "name", "language", "status", "category", "quality_score", "health_status")

# what `waba flow sync` and `flow show` read of a flow (§6); the preview is asked for on its own
FLOW_FIELDS = (
    "id",
    "name",
    "status",
    "categories",
    "validation_errors",
    "json_version",
    "data_api_version",
    "endpoint_uri",
    "health_status",
)
FLOW_LIST_FIELDS = FLOW_FIELDS

Fields = str | Sequence[str]


class GranularScope(TypedDict, total=False):
    scope: str
    target_ids: list[str]


class TokenInfo(TypedDict, total=False):
    """The ``data`` object of ``debug_token`` (§5.3)."""

    app_id: str
    type: str
    application: str
    data_access_expires_at: int
    expires_at: int
    is_valid: bool
    issued_at: int
    scopes: list[str]
    granular_scopes: list[GranularScope]
    user_id: str
    error: dict[str, Any]


class Waba(TypedDict, total=False):
    """A WhatsApp Business Account (§5.1)."""

    id: str
    name: str
    currency: str
    timezone_id: str
    message_template_namespace: str
    account_review_status: str
    business_verification_status: str
    country: str
    ownership_type: str
    status: str
    health_status: dict[str, Any]
    owner_business_info: dict[str, Any]


class PhoneNumber(TypedDict, total=False):
    """A business phone number (§4.1)."""

    id: str
    display_phone_number: str
    verified_name: str
    quality_rating: str
    code_verification_status: str
    name_status: str
    status: str
    platform_type: str
    throughput: dict[str, Any]
    is_on_biz_app: bool
    whatsapp_business_manager_messaging_limit: str
    messaging_limit_tier: str
    account_mode: str
    webhook_configuration: dict[str, str]
    last_onboarded_time: str
    is_pin_enabled: bool
    health_status: dict[str, Any]


class Created(TypedDict, total=False):
    """The answer to a creation: the new object's id."""

    id: str


class SubscribedApp(TypedDict, total=False):
    """One entry of ``GET /{waba-id}/subscribed_apps`` (§5.2)."""

    whatsapp_business_api_data: dict[str, str]
    override_callback_uri: str


class SentContact(TypedDict, total=False):
    input: str
    wa_id: str


class SentMessage(TypedDict, total=False):
    id: str
    message_status: str
    group_id: str


class SendResponse(TypedDict, total=False):
    """The answer to a send (§2.2): accepted, not delivered."""

    messaging_product: str
    contacts: list[SentContact]
    messages: list[SentMessage]


class Template(TypedDict, total=False):
    """A message template (§3.4)."""

    id: str
    name: str
    language: str
    status: str
    category: str
    sub_category: str
    parameter_format: str
    components: list[dict[str, Any]]
    quality_score: dict[str, Any]
    rejected_reason: str
    previous_category: str
    correct_category: str
    message_send_ttl_seconds: int
    health_status: dict[str, Any]


class UploadSession(TypedDict, total=False):
    """A resumable upload session (§3.3): ``id`` is ``upload:<session>``."""

    id: str
    file_offset: int


class UploadedFile(TypedDict, total=False):
    """The answer to an upload (§3.3): ``h`` is the handle for ``example.header_handle``."""

    h: str


class TemplateCreated(TypedDict, total=False):
    """The answer to a template creation (§3.1)."""

    id: str
    status: str
    category: str


class BusinessProfile(TypedDict, total=False):
    """A number's business profile (§4.6)."""

    about: str
    address: str
    description: str
    email: str
    profile_picture_url: str
    websites: list[str]
    vertical: str
    messaging_product: str


class Success(TypedDict, total=False):
    success: bool


class FlowInfo(TypedDict, total=False):
    """A WhatsApp Flow (§6)."""

    id: str
    name: str
    status: str
    categories: list[str]
    validation_errors: list[dict[str, Any]]
    json_version: str
    data_api_version: str
    endpoint_uri: str
    preview: dict[str, Any]
    health_status: dict[str, Any]
    metric: dict[str, Any]


class FlowSaved(TypedDict, total=False):
    """The answer to a flow creation or a Flow JSON upload (§6): Meta's validation errors."""

    id: str
    success: bool
    validation_errors: list[dict[str, Any]]


class GraphAPI:
    """The Graph endpoints waba calls, on top of one ``GraphClient``."""

    def __init__(self, client: GraphClient) -> None:
        self.client = client

    async def debug_token(
        self, input_token: str, *, app_id: str | None = None, app_secret: str | None = None
    ) -> TokenInfo:
        """Inspect ``input_token`` with the app token ``app_id|app_secret`` (§5.3); without them, with
        the client's own token (Graph lets a token inspect itself: the wizard does so before it knows the app).

        https://developers.facebook.com/docs/graph-api/reference/debug_token
        """
        auth = f"{app_id}|{app_secret}" if app_id and app_secret else None
        answer = await self.client.get("debug_token", params={"input_token": input_token}, auth=auth)
        return cast("TokenInfo", answer.get("data") or {})

    async def get_waba(self, waba_id: str, fields: Fields | None = WABA_FIELDS) -> Waba:
        """``GET /{waba-id}`` (§5.1).

        https://developers.facebook.com/docs/graph-api/reference/whats-app-business-account
        """
        return cast("Waba", await self.client.get(waba_id, params=_fields(fields)))

    async def messaging_analytics(self, waba_id: str, start: int, end: int, granularity: str = "DAY") -> dict[str, Any]:
        """The WABA's ``analytics`` field: messages sent and delivered per period (§5.4).

        https://developers.facebook.com/docs/whatsapp/business-management-api/analytics
        """
        field = f"analytics.start({start}).end({end}).granularity({granularity})"
        answer = await self.client.get(waba_id, params={"fields": field})
        return cast("dict[str, Any]", answer.get("analytics") or {})

    async def pricing_analytics(self, waba_id: str, start: int, end: int, granularity: str = "DAILY") -> list[Any]:
        """The WABA's ``pricing_analytics`` field: volume and cost per period, country, pricing
        category, type and tier (§5.4); the data points of every data item.

        https://developers.facebook.com/docs/whatsapp/business-management-api/analytics#pricing-analytics
        """
        field = (
            f"pricing_analytics.start({start}).end({end}).granularity({granularity})"
            ".dimensions(COUNTRY,PRICING_CATEGORY,PRICING_TYPE,TIER)"
        )
        answer = await self.client.get(waba_id, params={"fields": field})
        items = (answer.get("pricing_analytics") or {}).get("data") or []
        return [point for item in items for point in item.get("data_points") or []]

    async def template_analytics(
        self, waba_id: str, template_ids: Sequence[str], start: int, end: int, metrics: Sequence[str]
    ) -> list[Any]:
        """``GET /{waba-id}/template_analytics`` for at most 10 templates, every page (§5.4).

        https://developers.facebook.com/docs/whatsapp/business-management-api/analytics#template-analytics
        """
        params = {
            "start": start,
            "end": end,
            "granularity": "DAILY",
            "template_ids": "[" + ",".join(template_ids) + "]",
            "metric_types": ",".join(metrics),
        }
        pages = self.client.paginate(f"{waba_id}/template_analytics", params)
        return [point async for item in pages for point in item.get("data_points") or []]

    async def list_phone_numbers(
        self, waba_id: str, fields: Fields | None = PHONE_NUMBER_FIELDS, *, page_size: int | None = None
    ) -> list[PhoneNumber]:
        """Every number of the WABA, all pages (§4.1); ``page_size`` numbers per page (Meta: 1-100).

        https://developers.facebook.com/docs/graph-api/reference/whats-app-business-account/phone_numbers
        """
        params = _fields(fields) or {}
        if page_size is not None:
            params["limit"] = page_size
        pages = self.client.paginate(f"{waba_id}/phone_numbers", params)
        return [cast("PhoneNumber", item) async for item in pages]

    async def add_phone_number(self, waba_id: str, *, cc: str, phone_number: str, verified_name: str) -> Created:
        """Add a number to the WABA (§4.2): ``{"cc", "phone_number", "verified_name"}`` -> ``{"id"}``.

        Numbers cannot be deleted through the API.
        https://developers.facebook.com/docs/graph-api/reference/whats-app-business-account/phone_numbers
        """
        body = {"cc": cc, "phone_number": phone_number, "verified_name": verified_name}
        return cast("Created", await self.client.post(f"{waba_id}/phone_numbers", json=body))

    async def request_code(self, phone_number_id: str, *, method: str, language: str) -> Success:
        """Send the number an ownership code by ``SMS`` or ``VOICE`` (§4.3).

        https://developers.facebook.com/docs/whatsapp/cloud-api/reference/phone-numbers
        """
        body = {"code_method": method, "language": language}
        return cast("Success", await self.client.post(f"{phone_number_id}/request_code", json=body))

    async def verify_code(self, phone_number_id: str, code: str) -> Success:
        """Prove ownership with the code received (§4.3); ``code_verification_status`` then reads VERIFIED.

        https://developers.facebook.com/docs/whatsapp/cloud-api/reference/phone-numbers
        """
        return cast("Success", await self.client.post(f"{phone_number_id}/verify_code", json={"code": code}))

    async def register(self, phone_number_id: str, *, pin: str, data_localization_region: str | None = None) -> Success:
        """Register the number with the Cloud API (§4.4); ``pin`` becomes (or must be) its two-step PIN.

        Meta allows 10 register or deregister calls per number in 72 hours (133016).
        https://developers.facebook.com/docs/whatsapp/cloud-api/reference/registration
        """
        body: dict[str, Any] = {"messaging_product": "whatsapp", "pin": pin}
        if data_localization_region is not None:
            body["data_localization_region"] = data_localization_region
        return cast("Success", await self.client.post(f"{phone_number_id}/register", json=body))

    async def deregister(self, phone_number_id: str) -> Success:
        """Deregister the number from the Cloud API (§4.4); it stops sending and receiving.

        https://developers.facebook.com/docs/whatsapp/cloud-api/reference/registration
        """
        return cast("Success", await self.client.post(f"{phone_number_id}/deregister"))

    async def set_pin(self, phone_number_id: str, pin: str) -> Success:
        """Set or change the number's 6-digit two-step verification PIN (§4.5).

        https://developers.facebook.com/docs/whatsapp/cloud-api/reference/two-step-verification
        """
        return cast("Success", await self.client.post(phone_number_id, json={"pin": pin}))

    async def get_phone_number(self, phone_number_id: str, fields: Fields | None = PHONE_NUMBER_FIELDS) -> PhoneNumber:
        """``GET /{phone-number-id}`` (§4.1).

        https://developers.facebook.com/docs/graph-api/reference/whats-app-business-account-to-number-current-status
        """
        return cast("PhoneNumber", await self.client.get(phone_number_id, params=_fields(fields)))

    async def list_subscribed_apps(self, waba_id: str) -> list[SubscribedApp]:
        """Apps receiving this WABA's webhooks (§5.2).

        https://developers.facebook.com/docs/graph-api/reference/whats-app-business-account/subscribed_apps
        """
        pages = self.client.paginate(f"{waba_id}/subscribed_apps")
        return [cast("SubscribedApp", item) async for item in pages]

    async def subscribe_app(
        self, waba_id: str, *, override_callback_uri: str | None = None, verify_token: str | None = None
    ) -> Success:
        """Subscribe the token's app to the WABA's webhooks (§5.2).

        Without ``override_callback_uri`` the body is empty, which also removes an existing override.
        https://developers.facebook.com/docs/graph-api/reference/whats-app-business-account/subscribed_apps
        """
        override = {"override_callback_uri": override_callback_uri, "verify_token": verify_token}
        body = {key: value for key, value in override.items() if value is not None} or None
        return cast("Success", await self.client.post(f"{waba_id}/subscribed_apps", json=body))

    async def list_owned_wabas(self, business_id: str, fields: Fields | None = DISCOVERY_WABA_FIELDS) -> list[Waba]:
        """The WABAs a business portfolio owns (§5.5); needs ``business_management``.

        https://developers.facebook.com/docs/graph-api/reference/business/owned_whatsapp_business_accounts
        """
        pages = self.client.paginate(f"{business_id}/owned_whatsapp_business_accounts", _fields(fields))
        return [cast("Waba", item) async for item in pages]

    async def list_client_wabas(self, business_id: str, fields: Fields | None = DISCOVERY_WABA_FIELDS) -> list[Waba]:
        """The WABAs clients shared with a business portfolio (§5.5); needs ``business_management``.

        https://developers.facebook.com/docs/graph-api/reference/business/client_whatsapp_business_accounts
        """
        pages = self.client.paginate(f"{business_id}/client_whatsapp_business_accounts", _fields(fields))
        return [cast("Waba", item) async for item in pages]

    async def list_assigned_wabas(self, user_id: str, fields: Fields | None = DISCOVERY_WABA_FIELDS) -> list[Waba]:
        """The WABAs assigned to a (system) user, ``user_id`` from ``debug_token`` (§5.5).

        https://developers.facebook.com/docs/graph-api/reference/user/assigned_whatsapp_business_accounts
        """
        pages = self.client.paginate(f"{user_id}/assigned_whatsapp_business_accounts", _fields(fields))
        return [cast("Waba", item) async for item in pages]

    async def send_message(
        self, phone_number_id: str, payload: Mapping[str, Any], *, retry: bool = True
    ) -> SendResponse:
        """Send one message (§2.1); ``retry=False`` leaves the scheduling of retries to the caller.

        https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
        """
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", **payload}
        answer = await self.client.post(f"{phone_number_id}/messages", json=body, retry=retry)
        return cast("SendResponse", answer)

    async def list_templates(
        self,
        waba_id: str,
        *,
        fields: Fields | None = None,
        limit: int | None = None,
        name: str | None = None,
        status: str | None = None,
    ) -> list[Template]:
        """The WABA's templates, all pages or the first ``limit`` (§3.4); filters by name/status.

        https://developers.facebook.com/docs/graph-api/reference/whats-app-business-account/message_templates
        """
        params = _fields(fields) or {}
        params.update({key: value for key, value in (("name", name), ("status", status)) if value})
        pages = self.client.paginate(f"{waba_id}/message_templates", params, limit=limit)
        return [cast("Template", item) async for item in pages]

    async def create_template(self, waba_id: str, body: Mapping[str, Any]) -> TemplateCreated:
        """Submit a template for review (§3.2); Meta allows 100 creations per WABA per hour.

        https://developers.facebook.com/docs/graph-api/reference/whats-app-business-account/message_templates
        """
        answer = await self.client.post(f"{waba_id}/message_templates", json=dict(body))
        return cast("TemplateCreated", answer)

    async def delete_template(self, waba_id: str, name: str, hsm_id: str | None = None) -> Success:
        """Delete every language of ``name``, or only the template ``hsm_id`` (§3.1).

        https://developers.facebook.com/docs/graph-api/reference/whats-app-business-account/message_templates
        """
        params = {"name": name}
        if hsm_id is not None:
            params["hsm_id"] = hsm_id
        return cast("Success", await self.client.delete(f"{waba_id}/message_templates", params=params))

    async def get_template(self, template_id: str, fields: Fields | None = TEMPLATE_FIELDS) -> Template:
        """``GET /{template-id}`` (§3.1).

        https://developers.facebook.com/docs/graph-api/reference/whats-app-business-hsm
        """
        return cast("Template", await self.client.get(template_id, params=_fields(fields)))

    async def edit_template(self, template_id: str, body: Mapping[str, Any]) -> Success:
        """Edit a template: ``category``, ``components`` (replaced wholesale), ``message_send_ttl_seconds`` (§3.6).

        Only APPROVED, REJECTED and PAUSED templates can be edited; an approved one 10 times in 30
        days and once in 24 hours. https://developers.facebook.com/docs/graph-api/reference/whats-app-business-hsm
        """
        return cast("Success", await self.client.post(template_id, json=dict(body)))

    async def create_upload_session(
        self, app_id: str, *, file_name: str, file_length: int, file_type: str
    ) -> UploadSession:
        """Start a resumable upload (§3.3): ``POST /{app-id}/uploads`` -> ``{"id": "upload:..."}``.

        https://developers.facebook.com/docs/graph-api/guides/upload
        """
        params = {"file_name": file_name, "file_length": file_length, "file_type": file_type}
        return cast("UploadSession", await self.client.post(f"{app_id}/uploads", params=params))

    async def upload_file(self, session_id: str, content: bytes, *, file_offset: int = 0) -> UploadedFile:
        """Send the bytes of an upload session from ``file_offset`` (§3.3) -> ``{"h": "<handle>"}``.

        https://developers.facebook.com/docs/graph-api/guides/upload
        """
        answer = await self.client.post(session_id, content=content, headers={"file_offset": str(file_offset)})
        return cast("UploadedFile", answer)

    async def get_upload_session(self, session_id: str) -> UploadSession:
        """How far an upload session got (§3.3): ``{"id", "file_offset"}``, to resume from there."""
        return cast("UploadSession", await self.client.get(session_id))

    async def get_business_profile(
        self, phone_number_id: str, fields: Fields | None = BUSINESS_PROFILE_FIELDS
    ) -> BusinessProfile:
        """The number's business profile (§4.6); Meta wraps it in ``data[0]``.

        https://developers.facebook.com/docs/whatsapp/cloud-api/reference/business-profiles
        """
        answer = await self.client.get(f"{phone_number_id}/whatsapp_business_profile", params=_fields(fields))
        profiles = answer.get("data")
        return cast("BusinessProfile", profiles[0] if isinstance(profiles, list) and profiles else {})

    async def update_business_profile(self, phone_number_id: str, fields: Mapping[str, Any]) -> Success:
        """Change the given profile fields, leaving the others as they are (§4.6).

        https://developers.facebook.com/docs/whatsapp/cloud-api/reference/business-profiles
        """
        body = {"messaging_product": "whatsapp", **fields}
        answer = await self.client.post(f"{phone_number_id}/whatsapp_business_profile", json=body)
        return cast("Success", answer)

    async def upload_media(self, phone_number_id: str, content: bytes, *, filename: str, mime: str) -> str:
        """Upload a file for sending (§7): multipart ``POST /{phone-number-id}/media`` -> the media id.

        The id lives 30 days. https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media
        """
        answer = await self.client.post(
            f"{phone_number_id}/media",
            data={"messaging_product": "whatsapp", "type": mime},
            files={"file": (filename, content, mime)},
        )
        return str(answer["id"])

    async def create_flow(
        self,
        waba_id: str,
        *,
        name: str,
        categories: Sequence[str],
        clone_flow_id: str | None = None,
        endpoint_uri: str | None = None,
    ) -> FlowSaved:
        """Create a DRAFT flow (§6), a copy of ``clone_flow_id`` when given; the JSON follows as an asset.

        https://developers.facebook.com/docs/whatsapp/flows/reference/flowsapi
        """
        body: dict[str, Any] = {"name": name, "categories": list(categories)}
        if clone_flow_id:
            body["clone_flow_id"] = clone_flow_id
        if endpoint_uri:
            body["endpoint_uri"] = endpoint_uri
        return cast("FlowSaved", await self.client.post(f"{waba_id}/flows", json=body, retry=False))

    async def list_flows(self, waba_id: str, *, fields: Fields | None = FLOW_LIST_FIELDS) -> list[FlowInfo]:
        """Every flow of the WABA, all pages (§6).

        https://developers.facebook.com/docs/whatsapp/flows/reference/flowsapi
        """
        pages = self.client.paginate(f"{waba_id}/flows", _fields(fields))
        return [cast("FlowInfo", item) async for item in pages]

    async def get_flow(self, flow_id: str, fields: Fields | None = FLOW_FIELDS) -> FlowInfo:
        """``GET /{flow-id}`` (§6); ``preview.invalidate(true)`` asks for a fresh preview URL,
        ``metric.name(...)...`` for endpoint metrics.

        https://developers.facebook.com/docs/whatsapp/flows/reference/flowsapi
        """
        return cast("FlowInfo", await self.client.get(flow_id, params=_fields(fields)))

    async def upload_flow_json(self, flow_id: str, flow_json: str) -> FlowSaved:
        """Replace a draft's Flow JSON (§6): multipart ``POST /{flow-id}/assets`` as ``FLOW_JSON``.

        https://developers.facebook.com/docs/whatsapp/flows/reference/flowsapi
        """
        answer = await self.client.post(
            f"{flow_id}/assets",
            data={"name": "flow.json", "asset_type": "FLOW_JSON"},
            files={"file": ("flow.json", flow_json.encode(), "application/json")},
        )
        return cast("FlowSaved", answer)

    async def publish_flow(self, flow_id: str) -> Success:
        """Publish a draft (§6): it becomes immutable and sendable."""
        return cast("Success", await self.client.post(f"{flow_id}/publish"))

    async def deprecate_flow(self, flow_id: str) -> Success:
        """Retire a published flow (§6): it can no longer be sent or opened."""
        return cast("Success", await self.client.post(f"{flow_id}/deprecate"))

    async def delete_flow(self, flow_id: str) -> Success:
        """Delete a draft (§6); published flows cannot be deleted."""
        return cast("Success", await self.client.delete(flow_id))

    async def flow_metric(
        self, flow_id: str, name: str, *, granularity: str, since: str | None = None, until: str | None = None
    ) -> dict[str, Any]:
        """One endpoint metric of a flow (§6): ``{"name", "granularity", "data_points": [...]}``.

        https://developers.facebook.com/docs/whatsapp/flows/reference/metrics_api
        """
        field = f"metric.name({name}).granularity({granularity})"
        field += f".since({since})" if since else ""
        field += f".until({until})" if until else ""
        answer = await self.client.get(flow_id, params={"fields": field})
        metric = answer.get("metric")
        return metric if isinstance(metric, dict) else {}


def _fields(fields: Fields | None) -> dict[str, Any] | None:
    if fields is None:
        return None
    return {"fields": fields if isinstance(fields, str) else ",".join(fields)}
