"""Flows (§6): creating, cloning, editing, publishing and deprecating them, and their Flow JSON
(checked by ``rules.flows``). Each status change is a ``flows`` webhook."""

from __future__ import annotations

import calendar
import json
import secrets
import time
from typing import TYPE_CHECKING, Any

from waba_cli.sandbox.auth import MANAGEMENT, require_scope
from waba_cli.sandbox.errors import GraphFailure, bad_param, missing, unknown_field
from waba_cli.sandbox.params import multipart, page, requested_fields
from waba_cli.sandbox.rules import flows as flow_rules
from waba_cli.sandbox.state import Flow, iso

if TYPE_CHECKING:
    from waba_cli.sandbox.runtime import Call, Runtime

FLOW_DEFAULT_FIELDS = ("id", "name", "status", "categories", "validation_errors")


async def list_flows(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    flows = sorted((f for f in sandbox.state.flows.values() if f.waba_id == call.obj.id), key=lambda f: -f.created_at)
    requested = requested_fields(call.params, FLOW_DEFAULT_FIELDS)
    chosen, paging = page(flows, call.request.query, call.link(), default=25, most=100)
    return {"data": [_flow_fields(sandbox, f, requested) for f in chosen], "paging": paging}


def _flow_fields(sandbox: Runtime, flow: Flow, requested: list[tuple[str, dict[str, str]]]) -> dict[str, Any]:
    answer: dict[str, Any] = {}
    waba = sandbox.state.wabas[flow.waba_id]
    for name, modifiers in requested:
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
            expires = iso(time.time() + 30 * 86400)
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
            app = sandbox.state.app
            answer[name] = {
                "id": app.id,
                "name": app.name,
                "link": f"https://www.facebook.com/games/?app_id={app.id}",
            }
        elif name == "metric":
            answer[name] = _metric(flow, modifiers)
        elif name == "health_status":
            can_send = {"THROTTLED": "LIMITED", "BLOCKED": "BLOCKED"}.get(flow.status, "AVAILABLE")
            entity = {"entity_type": "FLOW", "id": flow.id, "can_send_message": can_send}
            answer[name] = {"can_send_message": can_send, "entities": [entity]}
        else:
            raise unknown_field(name, "WhatsAppBusinessFlow")
    answer["id"] = flow.id
    return answer


def _metric(flow: Flow, modifiers: dict[str, str]) -> dict[str, Any]:
    """``metric.name(N).granularity(G).since(D).until(D)`` (§6): endpoint flows only."""
    name, granularity = modifiers.get("name", ""), modifiers.get("granularity", "")
    if name not in flow_rules.FLOW_METRICS:
        raise bad_param(f"Param name must be one of {{{', '.join(flow_rules.FLOW_METRICS)}}}.")
    if granularity not in flow_rules.METRIC_GRANULARITIES:
        raise bad_param("Param granularity must be one of {DAY, HOUR, LIFETIME}.")
    if not flow.endpoint_uri:
        raise GraphFailure(100, message="(#100) Metrics are available only for Flows with an endpoint.")
    step = flow_rules.METRIC_GRANULARITIES[granularity]
    now = time.time()
    until = _day(modifiers.get("until")) or now
    lookback = flow_rules.METRIC_LOOKBACK_DAYS.get(granularity)
    since = _day(modifiers.get("since")) or (until - 7 * 86400 if step else flow.created_at)
    if lookback is not None and since < now - lookback * 86400 - 86400:
        raise bad_param(f"Param since is beyond the {lookback}-day lookback of {granularity} metrics.")
    starts = [since] if not step else _range(since - since % step, until, step)[-200:]
    points = flow_rules.metric_points(flow.id, name, granularity, starts)
    return {"name": name, "granularity": granularity, "data_points": points}


def _day(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(calendar.timegm(time.strptime(value, "%Y-%m-%d")))
    except ValueError:
        raise bad_param(f"Param {value} is not a date (YYYY-MM-DD).") from None


def _range(start: float, stop: float, step: int) -> list[float]:
    values = []
    while start < stop:
        values.append(start)
        start += step
    return values


async def create_flow(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
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
    if any(f.name == name and f.waba_id == call.obj.id for f in sandbox.state.flows.values()):
        raise GraphFailure(
            100, message="(#100) A Flow with this name already exists in this WhatsApp Business Account."
        )
    flow = Flow(id=sandbox.state.new_id(), waba_id=call.obj.id, name=str(name), categories=[str(c) for c in categories])
    clone = params.get("clone_flow_id")
    if clone:
        source = sandbox.state.flows.get(str(clone))
        if source is None:
            raise bad_param(f"Param clone_flow_id: flow {clone} does not exist.")
        flow.flow_json, flow.validation_errors = source.flow_json, list(source.validation_errors)
        flow.json_version, flow.data_api_version = source.json_version, source.data_api_version
    if params.get("endpoint_uri"):
        flow.endpoint_uri = str(params["endpoint_uri"])
    answer: dict[str, Any] = {"id": flow.id}
    if params.get("flow_json"):
        text = params["flow_json"] if isinstance(params["flow_json"], str) else json.dumps(params["flow_json"])
        _set_flow_json(flow, text)
        answer["success"] = True
        answer["validation_errors"] = flow.validation_errors
    sandbox.state.add(flow)
    if str(params.get("publish", "")).lower() == "true":
        _publish(sandbox, flow)
    return answer


async def get_flow(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    return _flow_fields(sandbox, call.obj, requested_fields(call.params, FLOW_DEFAULT_FIELDS))


async def update_flow(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
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


async def delete_flow(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    flow: Flow = call.obj
    if flow.status != "DRAFT":
        raise GraphFailure(139004, f"Only DRAFT Flows can be deleted; this one is {flow.status}.")
    del sandbox.state.flows[flow.id]
    return {"success": True}


async def upload_flow_json(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    flow: Flow = call.obj
    if flow.status != "DRAFT":
        raise GraphFailure(139001, f"The Flow JSON of a {flow.status} Flow cannot be changed.")
    parts = multipart(call.request.content_type, call.request.body)
    if "file" not in parts:
        raise missing("file")
    if str(call.params.get("asset_type", "")) != "FLOW_JSON":
        raise bad_param("Param asset_type must be FLOW_JSON.")
    _set_flow_json(flow, parts["file"][2].decode("utf-8", "replace"))
    return {"success": True, "validation_errors": flow.validation_errors}


def _set_flow_json(flow: Flow, text: str) -> None:
    check = flow_rules.check_flow_json(text)
    flow.flow_json, flow.validation_errors = text, check.errors
    flow.json_version, flow.data_api_version = check.json_version, check.data_api_version


async def list_flow_assets(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    flow: Flow = call.obj
    if flow.flow_json is None:
        return {"data": [], "paging": {"cursors": {}}}
    url = f"{call.request.origin}/_sandbox/flows/{flow.id}/flow.json"
    asset = {"name": "flow.json", "asset_type": "FLOW_JSON", "download_url": url}
    return {"data": [asset], "paging": {"cursors": {"before": "QVFIUm", "after": "QVFIUm"}}}


async def publish_flow(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    _publish(sandbox, call.obj)
    return {"success": True}


def _publish(sandbox: Runtime, flow: Flow) -> None:
    if flow.status != "DRAFT":
        raise GraphFailure(139002, f"Only DRAFT Flows can be published; this one is {flow.status}.")
    if flow.flow_json is None:
        raise GraphFailure(139002, "The Flow has no Flow JSON: upload one first.")
    if flow.validation_errors:
        raise GraphFailure(139002, f"The Flow JSON has {len(flow.validation_errors)} validation error(s).")
    if flow.data_api_version and not flow.endpoint_uri:
        raise GraphFailure(139002, "The Flow uses an endpoint (data_api_version) but has no endpoint_uri.")
    flow_status(sandbox, flow, "PUBLISHED")


async def deprecate_flow(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    flow: Flow = call.obj
    if flow.status not in ("PUBLISHED", "THROTTLED", "BLOCKED"):
        raise GraphFailure(139003, f"Only published Flows can be deprecated; this one is {flow.status}.")
    flow_status(sandbox, flow, "DEPRECATED")
    return {"success": True}


def flow_status(sandbox: Runtime, flow: Flow, status: str) -> None:
    old, flow.status = flow.status, status
    value = {
        "event": "FLOW_STATUS_CHANGE",
        "message": f"Flow {flow.name} changed status from {old} to {status}",
        "flow_id": flow.id,
        "old_status": old,
        "new_status": status,
    }
    sandbox.emit_management(flow.waba_id, "flows", value)
