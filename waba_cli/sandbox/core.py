"""The sandbox's Graph API: every endpoint waba calls, with Meta's shapes, checks and error envelopes.

``Sandbox.handle`` takes a parsed request and returns a status and a JSON document (or bytes); the
ASGI wrapper in ``server.py`` does the HTTP. A request is authenticated (``auth``), its object
found in the state, and its handler looked up in ``ROUTES`` by (object kind, edge, method): one
dict look-up, whatever the number of endpoints. The handlers live in ``endpoints/``, one module per
Graph resource; what happens later (status webhooks, template reviews) is scheduled on the running
event loop and delivered by ``webhooks.Emitter``. Paths under ``/_sandbox/`` are the sandbox's own
(send counters, ``controls``, ``inbound``, media and Flow JSON downloads).

Behaviour that is the sandbox's own choice (the reference leaves it open) is described where it
lives: throughput in ``rules/throughput.py``, the 24-hour window in ``endpoints/messages.py``,
verification codes in ``endpoints/phone_numbers.py``, template review in ``rules/templates.py``.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from waba_cli.sandbox.auth import authenticate, may_see
from waba_cli.sandbox.controls import control
from waba_cli.sandbox.endpoints import (
    analytics,
    debug_token,
    flows,
    media,
    messages,
    phone_numbers,
    subscriptions,
    templates,
    uploads,
    wabas,
)
from waba_cli.sandbox.errors import GraphFailure, not_found, unknown_field
from waba_cli.sandbox.inbound import deliver_inbound
from waba_cli.sandbox.params import read_params
from waba_cli.sandbox.runtime import Answer, Call, Counters, Handler, Raw, Request, Route, Runtime
from waba_cli.sandbox.state import App

VERSION = re.compile(r"^v[0-9]+\.[0-9]+$")
CONTROLS = ("tokens", "phone_numbers", "templates", "flows", "wabas")

ROUTES: dict[Route, Handler] = {
    ("waba", None, "GET"): wabas.get_waba,
    ("waba", None, "POST"): wabas.update_waba,
    ("waba", "phone_numbers", "GET"): phone_numbers.list_numbers,
    ("waba", "phone_numbers", "POST"): phone_numbers.add_number,
    ("waba", "message_templates", "GET"): templates.list_templates,
    ("waba", "message_templates", "POST"): templates.create_template,
    ("waba", "message_templates", "DELETE"): templates.delete_templates,
    ("waba", "subscribed_apps", "GET"): subscriptions.list_subscribed_apps,
    ("waba", "subscribed_apps", "POST"): subscriptions.subscribe_app,
    ("waba", "subscribed_apps", "DELETE"): subscriptions.unsubscribe_app,
    ("waba", "flows", "GET"): flows.list_flows,
    ("waba", "flows", "POST"): flows.create_flow,
    ("waba", "template_analytics", "GET"): analytics.template_analytics,
    ("phone_number", None, "GET"): phone_numbers.get_number,
    ("phone_number", None, "POST"): phone_numbers.update_number,
    ("phone_number", "messages", "POST"): messages.send_message,
    ("phone_number", "register", "POST"): phone_numbers.register,
    ("phone_number", "deregister", "POST"): phone_numbers.deregister,
    ("phone_number", "request_code", "POST"): phone_numbers.request_code,
    ("phone_number", "verify_code", "POST"): phone_numbers.verify_code,
    ("phone_number", "whatsapp_business_profile", "GET"): phone_numbers.get_profile,
    ("phone_number", "whatsapp_business_profile", "POST"): phone_numbers.update_profile,
    ("phone_number", "whatsapp_business_encryption", "GET"): phone_numbers.get_encryption,
    ("phone_number", "whatsapp_business_encryption", "POST"): phone_numbers.set_encryption,
    ("phone_number", "media", "POST"): media.upload_media,
    ("template", None, "GET"): templates.get_template,
    ("template", None, "POST"): templates.edit_template,
    ("template", "unpause", "POST"): templates.unpause_template,
    ("flow", None, "GET"): flows.get_flow,
    ("flow", None, "POST"): flows.update_flow,
    ("flow", None, "DELETE"): flows.delete_flow,
    ("flow", "assets", "GET"): flows.list_flow_assets,
    ("flow", "assets", "POST"): flows.upload_flow_json,
    ("flow", "publish", "POST"): flows.publish_flow,
    ("flow", "deprecate", "POST"): flows.deprecate_flow,
    ("media", None, "GET"): media.get_media,
    ("media", None, "DELETE"): media.delete_media,
    ("upload", None, "GET"): uploads.get_upload,
    ("upload", None, "POST"): uploads.upload_bytes,
    ("app", "uploads", "POST"): uploads.start_upload,
    ("app", "subscriptions", "GET"): subscriptions.list_subscriptions,
    ("app", "subscriptions", "POST"): subscriptions.subscribe_callback,
    ("business", "owned_whatsapp_business_accounts", "GET"): wabas.owned_wabas,
    ("business", "client_whatsapp_business_accounts", "GET"): wabas.client_wabas,
    ("user", "assigned_whatsapp_business_accounts", "GET"): wabas.assigned_wabas,
}


class Sandbox(Runtime):
    """The Graph API over one ``State``."""

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start webhook delivery and resume template reviews a saved state left pending."""
        self.emitter.start()
        for template in self.state.templates.values():
            if template.status == "PENDING":
                templates.schedule_review(self, template)

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
            return debug_token.debug_token(self, request, params)
        if len(segments) > 2:
            raise GraphFailure(2500, message=f"Unknown path components: /{'/'.join(segments[2:])}")
        object_id, edge = segments[0], (segments[1] if len(segments) == 2 else None)
        obj = self.state.uploads.get(object_id) if object_id.startswith("upload:") else self.state.find(object_id)
        token = authenticate(self.state, request, params, app_endpoint=isinstance(obj, App))
        if obj is None or not may_see(self.state, token, obj):
            raise not_found(object_id, request.method)
        handler = ROUTES.get((obj.kind, edge, request.method))
        if handler is None:
            if edge is not None and request.method == "GET":
                raise unknown_field(edge, _node_type(obj))
            raise not_found(object_id if edge is None else f"{object_id}/{edge}", request.method)
        call = Call(request, version, obj, params, token, "/".join(segments))
        answer = await handler(self, call)
        if request.method != "GET":
            self.state.dirty = True
        return answer

    def _injected_error(self) -> GraphFailure:
        if self.random.random() < 0.5:
            return GraphFailure(131000, "Injected by --error-rate.", http_status=500, is_transient=True)
        return GraphFailure(2, "Injected by --error-rate.", http_status=503, is_transient=True)

    # -- the sandbox's own endpoints -----------------------------------------------------------

    async def _internal(self, request: Request, segments: list[str]) -> dict[str, Any] | Raw:
        route = "/".join(segments)
        if route == "sent" and request.method == "GET":
            return {"total": self.sent.total, "by_recipient": dict(self.sent.by_recipient)}
        if route == "sent" and request.method == "DELETE":
            self.sent = Counters()
            return {"success": True}
        if route == "inbound" and request.method == "POST":
            return await deliver_inbound(self, read_params({}, "application/json", request.body))
        if request.method == "POST" and segments and segments[0] in CONTROLS:
            return control(self, segments, read_params({}, "application/json", request.body))
        if len(segments) == 2 and segments[0] == "media" and request.method == "GET":
            authenticate(self.state, request, dict(request.query))
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


def _node_type(obj: Any) -> str:
    return {
        "waba": "WhatsAppBusinessAccount",
        "phone_number": "WhatsAppBusinessPhoneNumber",
        "template": "WhatsAppBusinessHSM",
        "flow": "WhatsAppBusinessFlow",
        "media": "WhatsAppBusinessMedia",
        "app": "Application",
        "upload": "UploadSession",
        "business": "Business",
        "user": "User",
    }.get(obj.kind, "Node")
