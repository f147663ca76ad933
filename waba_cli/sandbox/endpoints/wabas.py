"""The WhatsApp Business Account node (§5): its fields (health, analytics and numbers among them)
and its settings (name, time zone, template insights); and the edges that list WABAs (§5.5): a
business's owned and client WABAs, a user's assigned ones."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from waba_cli.sandbox.auth import BUSINESS_MANAGEMENT, MANAGEMENT, require_scope
from waba_cli.sandbox.endpoints.analytics import analytics, pricing_analytics
from waba_cli.sandbox.endpoints.phone_numbers import PHONE_DEFAULT_FIELDS, number_fields, waba_health
from waba_cli.sandbox.errors import bad_param, not_found, unknown_field
from waba_cli.sandbox.params import page, requested_fields

if TYPE_CHECKING:
    from waba_cli.sandbox.runtime import Call, Runtime
    from waba_cli.sandbox.state import Waba

WABA_DEFAULT_FIELDS = ("id", "name", "timezone_id", "message_template_namespace")


async def get_waba(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    waba: Waba = call.obj
    answer: dict[str, Any] = {}
    for name, modifiers in requested_fields(call.params, WABA_DEFAULT_FIELDS):
        answer[name] = _waba_field(sandbox, waba, name, modifiers)
    answer.setdefault("id", waba.id)
    return answer


def _waba_field(sandbox: Runtime, waba: Waba, name: str, modifiers: dict[str, str]) -> Any:  # noqa: PLR0911 - one per field
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
        return waba_health(sandbox, waba)
    if name in ("on_behalf_of_business_info", "owner_business_info"):
        return {"id": waba.business_id, "name": waba.business_name, "status": "APPROVED", "type": "SELF"}
    if name == "analytics":
        return analytics(sandbox, waba, modifiers)
    if name in ("conversation_analytics", "pricing_analytics"):
        return pricing_analytics(sandbox, waba, modifiers, conversation=name == "conversation_analytics")
    if name == "phone_numbers":
        return {"data": [number_fields(sandbox, n, PHONE_DEFAULT_FIELDS) for n in sandbox.state.numbers_of(waba.id)]}
    raise unknown_field(name, "WhatsAppBusinessAccount")


async def update_waba(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
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


async def owned_wabas(sandbox: Runtime, call: Call) -> dict[str, Any]:
    """``GET /{business-id}/owned_whatsapp_business_accounts``."""
    require_scope(call, BUSINESS_MANAGEMENT)
    return _listing(sandbox, call, [w for w in sandbox.state.wabas.values() if w.business_id == call.obj.id])


async def client_wabas(sandbox: Runtime, call: Call) -> dict[str, Any]:
    """``GET /{business-id}/client_whatsapp_business_accounts``."""
    require_scope(call, BUSINESS_MANAGEMENT)
    return _listing(sandbox, call, [w for w in sandbox.state.wabas.values() if call.obj.id in w.client_of])


async def assigned_wabas(sandbox: Runtime, call: Call) -> dict[str, Any]:
    """``GET /{user-id}/assigned_whatsapp_business_accounts``: a token sees only its own user's."""
    token = call.token
    if token is None or token.user_id != call.obj.id:
        raise not_found(f"{call.obj.id}/assigned_whatsapp_business_accounts", "GET")
    wabas = [w for w in sandbox.state.wabas.values() if not token.target_ids or w.id in token.target_ids]
    return _listing(sandbox, call, wabas)


def _listing(sandbox: Runtime, call: Call, wabas: list[Waba]) -> dict[str, Any]:
    requested = requested_fields(call.params, ("id", "name"))
    chosen, paging = page(wabas, call.request.query, call.link(), default=25, most=100)
    data = [{name: _waba_field(sandbox, w, name, modifiers) for name, modifiers in requested} for w in chosen]
    return {"data": data, "paging": paging}
