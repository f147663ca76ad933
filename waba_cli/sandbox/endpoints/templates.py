"""Message templates (§3): listing, creating, editing, deleting and unpausing them, and their review.

A submitted template is decided ``review_delay`` seconds later by ``rules.templates.review``, and
each decision is a ``message_template_status_update`` webhook.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from waba_cli.sandbox.auth import MANAGEMENT, require_scope
from waba_cli.sandbox.endpoints.phone_numbers import aggregate, waba_health
from waba_cli.sandbox.errors import GraphFailure, bad_param, missing, unknown_field
from waba_cli.sandbox.params import page, requested_fields
from waba_cli.sandbox.rules import templates as template_rules

if TYPE_CHECKING:
    from waba_cli.sandbox.runtime import Call, Runtime
    from waba_cli.sandbox.state import Template, Waba

TEMPLATE_LIMIT = 250  # §3.7: an unverified portfolio
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


async def list_templates(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    templates = sorted(sandbox.state.templates_of(call.obj.id), key=lambda t: t.created_at, reverse=True)
    templates = [t for t in templates if _template_matches(t, call.params)]
    requested = requested_fields(call.params, TEMPLATE_DEFAULT_FIELDS)
    chosen, paging = page(templates, call.request.query, call.link(), default=25, most=1000)
    answer: dict[str, Any] = {"data": [_template_fields(sandbox, t, requested) for t in chosen], "paging": paging}
    summary = call.params.get("summary")
    if summary:
        answer["summary"] = _template_summary(sandbox, call.obj, str(summary), len(templates))
    return answer


def _template_summary(sandbox: Runtime, waba: Waba, names: str, total: int) -> dict[str, Any]:
    values = {
        "total_count": total,
        "message_template_count": len(sandbox.state.templates_of(waba.id)),
        "message_template_limit": TEMPLATE_LIMIT,
        "are_translations_complete": True,
    }
    return {name: values[name] for name in names.split(",") if name in values}


async def create_template(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    template = template_rules.check_new_template(call.params, sandbox.state, call.obj.id, TEMPLATE_LIMIT)
    sandbox.state.add(template)
    schedule_review(sandbox, template)
    sandbox.log(f"    template {template.name} ({template.language}) submitted: PENDING")
    return {"id": template.id, "status": template.status, "category": template.category}


def schedule_review(sandbox: Runtime, template: Template) -> None:
    due = template.review_due or time.time() + sandbox.options.review_delay
    template.review_due = due
    sandbox.later(max(0.0, due - time.time()), _review, sandbox, template.id)


def _review(sandbox: Runtime, template_id: str) -> None:
    template = sandbox.state.templates.get(template_id)
    if template is None or template.status != "PENDING":
        return
    decision = template_rules.review(template)
    template.status, template.rejected_reason, template.review_due = decision.status, decision.reason, None
    if decision.status == "APPROVED":
        template.quality_score = {"score": "UNKNOWN", "date": int(time.time())}
    sandbox.state.dirty = True
    sandbox.log(f"    template {template.name} ({template.language}): {decision.status} ({decision.reason})")
    value = template_event(template, decision.status, decision.reason)
    if decision.rejection_info:
        value["rejection_info"] = dict(decision.rejection_info)
    sandbox.emit_management(template.waba_id, "message_template_status_update", value)
    if decision.pause_later:
        sandbox.later(sandbox.options.review_delay, _pause, sandbox, template_id)


def _pause(sandbox: Runtime, template_id: str) -> None:
    template = sandbox.state.templates.get(template_id)
    if template is None or template.status != "APPROVED":
        return
    template.status = "PAUSED"
    template.quality_score = {"score": "RED", "date": int(time.time())}
    sandbox.state.dirty = True
    value = template_event(template, "PAUSED", "NONE")
    value["other_info"] = {
        "title": "FIRST_PAUSE",
        "description": "Your template was paused for 3 hours: low quality.",
    }
    sandbox.emit_management(template.waba_id, "message_template_status_update", value)


async def delete_templates(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    name = call.params.get("name")
    if not name:
        raise missing("name")
    hsm_id = call.params.get("hsm_id")
    doomed = [t for t in sandbox.state.templates_of(call.obj.id) if t.name == name]
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
        del sandbox.state.templates[template.id]
        sandbox.emit_management(
            template.waba_id, "message_template_status_update", template_event(template, "DELETED", "NONE")
        )
    return {"success": True}


async def get_template(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    return _template_fields(sandbox, call.obj, requested_fields(call.params, TEMPLATE_DEFAULT_FIELDS))


async def edit_template(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
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
        _count_edit(template)
    if "components" in params:
        template.components = template_rules.check_components(params["components"], category, template.parameter_format)
    if "message_send_ttl_seconds" in params:
        template.message_send_ttl_seconds = int(params["message_send_ttl_seconds"])
    if category != template.category:
        template.previous_category, template.category = template.category, category
    template.status, template.review_due = "PENDING", None
    schedule_review(sandbox, template)
    return {"success": True}


def _count_edit(template: Template) -> None:
    now = time.time()
    template.edits = [at for at in template.edits if now - at < 30 * 86400]
    if any(now - at < 86400 for at in template.edits) or len(template.edits) >= 10:
        raise template_rules.template_error(
            "An APPROVED template can be edited once in 24 hours and 10 times in 30 days.",
            title="Edit limit reached",
        )
    template.edits.append(now)


async def unpause_template(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    template: Template = call.obj
    if template.status != "PAUSED":
        return {"success": False, "reason": f"The template is {template.status}, not PAUSED."}
    template.status = "APPROVED"
    value = template_event(template, "APPROVED", "NONE")
    value["other_info"] = {"title": "UNPAUSE", "description": "Your template was unpaused."}
    sandbox.emit_management(template.waba_id, "message_template_status_update", value)
    return {"success": True, "reason": None}


def _template_fields(
    sandbox: Runtime, template: Template, requested: list[tuple[str, dict[str, str]]]
) -> dict[str, Any]:
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
        elif name == "health_status":
            answer[name] = template_health(sandbox, template)
        else:
            raise unknown_field(name, "WhatsAppBusinessHSM")
    answer["id"] = template.id
    return answer


SENDABLE = ("APPROVED", "FLAGGED", "REINSTATED")
PAUSED_INFO = "The message template is paused because of low quality: sends are refused (132015) until it is unpaused."
NOT_APPROVED = {
    "error_code": 141002,
    "error_description": "The message template has not been approved.",
    "possible_solution": "Edit the template and submit it again, or appeal the review.",
}


def template_health(sandbox: Runtime, template: Template) -> dict[str, Any]:
    """A template's ``health_status`` (§5.6): the MESSAGE_TEMPLATE entity, then the WABA's.

    The sandbox's own choice for the template entity: a sendable template is AVAILABLE, a paused
    one LIMITED (it comes back), any other status BLOCKED with Meta's 141002.
    """
    entity: dict[str, Any] = {"entity_type": "MESSAGE_TEMPLATE", "id": template.id, "can_send_message": "AVAILABLE"}
    if template.status == "PAUSED":
        entity["can_send_message"] = "LIMITED"
        entity["additional_info"] = [PAUSED_INFO]
    elif template.status not in SENDABLE:
        entity["can_send_message"] = "BLOCKED"
        entity["errors"] = [dict(NOT_APPROVED)]
    entities = [entity, *waba_health(sandbox, sandbox.state.wabas[template.waba_id])["entities"]]
    return {"can_send_message": aggregate(entities), "entities": entities}


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
