"""Webhook subscriptions (§5.2): a WABA's ``subscribed_apps`` (with its callback override) and the
app's ``subscriptions`` (its callback URL and fields, set with the app token). Every callback URL is
verified first, as Meta does (``webhooks.verify_callback``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from waba_cli.sandbox.auth import MANAGEMENT, require_scope
from waba_cli.sandbox.errors import GraphFailure, bad_param, missing
from waba_cli.sandbox.webhooks import verify_callback

if TYPE_CHECKING:
    from waba_cli.sandbox.runtime import Call, Runtime
    from waba_cli.sandbox.state import Waba


async def list_subscribed_apps(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    waba: Waba = call.obj
    if not waba.subscribed:
        return {"data": []}
    app = sandbox.state.app
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


async def subscribe_app(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    waba: Waba = call.obj
    uri = call.params.get("override_callback_uri")
    if uri:
        if len(str(uri)) > 200:
            raise bad_param("Param override_callback_uri must be at most 200 characters.")
        await verify_callback(str(uri), call.params.get("verify_token"))
    waba.subscribed = True
    waba.override_callback_uri = str(uri) if uri else None
    return {"success": True}


async def unsubscribe_app(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    call.obj.subscribed = False
    call.obj.override_callback_uri = None
    return {"success": True}


async def list_subscriptions(sandbox: Runtime, call: Call) -> dict[str, Any]:
    app = sandbox.state.app
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


async def subscribe_callback(sandbox: Runtime, call: Call) -> dict[str, Any]:
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
    await verify_callback(str(url), params.get("verify_token"))
    fields = params.get("fields")
    app = sandbox.state.app
    app.callback_url, app.verify_token = str(url), str(params.get("verify_token") or "")
    if fields:
        app.fields = fields if isinstance(fields, list) else [f.strip() for f in str(fields).split(",") if f.strip()]
    return {"success": True}
