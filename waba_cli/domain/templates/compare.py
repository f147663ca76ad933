"""Comparing two copies of a template: the file's and Meta's (``template apply``, ``template sync``).

Meta answers in its own spelling (CDN URLs for media examples, whole URLs for URL button examples,
its own texts for authentication templates); ``comparable`` puts both copies in one spelling, so
only a real change counts. ``plan_changes`` compares a whole file with Meta's list and decides,
by Meta's edit rules and quotas, what ``template apply`` creates, edits, leaves or refuses.
Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from waba_cli.domain.templates.forms import (
    TemplateInput,
    as_create_shape,
    enum_of,
    normalize_components,
    normalize_language,
    template_id_of,
    text_of,
    url_example_suffix,
)
from waba_cli.domain.templates.rules import (
    APPROVED_EDITS_PER_30_DAYS,
    APPROVED_EDITS_PER_DAY,
    CREATIONS_PER_HOUR,
    EDITABLE_STATUSES,
    GONE_STATUSES,
    MEDIA_FORMATS,
    TEMPLATES_MAX,
    TEMPLATES_UNVERIFIED_MAX,
    upper_text,
)


def comparable(category: Any, parameter_format: Any, components: Any, ttl: Any = None) -> dict[str, Any]:
    """What decides whether two copies of a template differ, in one spelling.

    Media header examples are left out: Meta answers with CDN URLs, never the uploaded handle. URL
    button examples are compared as suffixes, authentication templates in the create shape (Meta
    writes their texts).
    """
    upper_category = upper_text(category)
    result: list[Any] = []
    components = as_create_shape(category, components)
    for component in normalize_components(components) if isinstance(components, list) else []:
        if not isinstance(component, dict):
            result.append(component)
            continue
        kind = component.get("type")
        item = {k: v for k, v in component.items() if v is not None}
        if kind == "HEADER" and item.get("format") in MEDIA_FORMATS:
            item.pop("example", None)
        if kind == "BODY" and isinstance(item.get("example"), dict):
            params = item["example"].get("body_text_named_params")
            if isinstance(params, list):
                item["example"] = {
                    "body_text_named_params": sorted(
                        (p for p in params if isinstance(p, dict)), key=lambda p: str(p.get("param_name"))
                    )
                }
        if kind == "BUTTONS" and isinstance(item.get("buttons"), list):
            item["buttons"] = [_comparable_button(b) for b in item["buttons"]]
        if isinstance(item.get("text"), str):
            item["text"] = item["text"].strip()
        result.append(item)
    return {
        "category": upper_category,
        "parameter_format": upper_text(parameter_format) or "POSITIONAL",
        "components": result,
        "message_send_ttl_seconds": ttl,
    }


def _comparable_button(button: Any) -> Any:
    if not isinstance(button, dict) or button.get("type") != "URL" or not isinstance(button.get("example"), list):
        return button
    return {**button, "example": [url_example_suffix(button.get("url"), e) for e in button["example"]]}


# -- the plan of template apply ------------------------------------------------------------------


@dataclass
class PlanItem:
    """One line of the plan ``template apply`` prints, and what became of it."""

    action: str  # create | edit | unchanged | only_on_meta | refused
    name: str
    language: str
    reason: str = ""
    status: str | None = None  # Meta's status before the change
    template_id: str | None = None
    changes: list[str] = field(default_factory=list)
    request: dict[str, Any] | None = None
    outcome: str | None = None  # None until applied: "done" or "failed: ..."

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "name": self.name,
            "language": self.language,
            "status": self.status,
            "id": self.template_id,
            "changes": self.changes,
            "reason": self.reason,
            "outcome": self.outcome,
        }


def plan_changes(
    templates: Sequence[TemplateInput],
    remote: Sequence[Mapping[str, Any]],
    *,
    edits: Mapping[str, Sequence[datetime]],
    recent_creations: int,
    now: datetime,
) -> list[PlanItem]:
    """Compare the file with Meta: what to create, edit, leave, and what only Meta has.

    ``edits`` are the times (timezone-aware) waba edited each template (by id), ``recent_creations``
    the templates it created in the last hour: Meta's edit rules and quotas (reference §3.1, §3.6)
    decide what is refused.
    """
    by_key: dict[tuple[str, str], Mapping[str, Any]] = {}
    for copy_at_meta in remote:
        name, language = text_of(copy_at_meta.get("name")), text_of(copy_at_meta.get("language"))
        if name and language:
            by_key[(name, normalize_language(language))] = copy_at_meta
    creations_left = CREATIONS_PER_HOUR - recent_creations
    room = TEMPLATES_MAX - sum(1 for t in by_key.values() if enum_of(t.get("status")) not in GONE_STATUSES)
    items: list[PlanItem] = []
    wanted: set[tuple[str, str]] = set()
    for template in templates:
        key = (template.name, template.language)
        wanted.add(key)
        current = by_key.get(key)
        status = enum_of(current.get("status")) if current else None
        template_id = template_id_of(current.get("id")) if current else None
        item = PlanItem("create", template.name, template.language, status=status, template_id=template_id)
        if current is None or status in GONE_STATUSES:
            item.request = template.request
            refusal = _creation_refusal(status, room, creations_left)
            if refusal:
                item.action, item.reason = "refused", refusal
            else:
                creations_left, room = creations_left - 1, room - 1
                item.reason = "not at Meta yet"
                if TEMPLATES_MAX - room > TEMPLATES_UNVERIFIED_MAX:
                    item.reason += (
                        f" (template {TEMPLATES_MAX - room}: over {TEMPLATES_UNVERIFIED_MAX} needs a verified business)"
                    )
            items.append(item)
            continue
        item.changes = _differences(template.request, current)
        if not item.changes:
            item.action = "unchanged"
            items.append(item)
            continue
        item.action = "edit"
        item.request = _edit_body(template.request, item.changes)
        refusal = _edit_refusal(status, item.changes, edits.get(template_id or "", []), now)
        if refusal:
            item.action, item.reason, item.request = "refused", refusal, None
        items.append(item)
    for key, current in sorted(by_key.items()):
        status = enum_of(current.get("status"))
        if key not in wanted and status not in GONE_STATUSES:
            items.append(
                PlanItem(
                    "only_on_meta",
                    key[0],
                    key[1],
                    reason="not in the file; left as it is",
                    status=status,
                    template_id=template_id_of(current.get("id")),
                )
            )
    return items


def _creation_refusal(status: str | None, room: int, creations_left: int) -> str | None:
    if status in GONE_STATUSES:
        return f"Meta is deleting this template ({status}); its name may be blocked for 30 days"
    if room <= 0:
        return f"the WABA holds Meta's maximum of {TEMPLATES_MAX} templates; delete some first"
    if creations_left <= 0:
        return f"Meta allows {CREATIONS_PER_HOUR} new templates per WABA per hour; apply again later"
    return None


def _differences(request: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    wanted_ttl = request.get("message_send_ttl_seconds")
    desired = comparable(
        request.get("category"), request.get("parameter_format"), request.get("components"), wanted_ttl
    )
    actual = comparable(
        current.get("category"),
        current.get("parameter_format"),
        current.get("components"),
        current.get("message_send_ttl_seconds") if wanted_ttl is not None else None,
    )
    return [
        key
        for key in ("category", "parameter_format", "components", "message_send_ttl_seconds")
        if desired[key] != actual[key]
    ]


def _edit_body(request: Mapping[str, Any], changes: Sequence[str]) -> dict[str, Any]:
    """Components are replaced wholesale (reference §3.6), so they are always sent."""
    body: dict[str, Any] = {"components": request.get("components")}
    for key in ("category", "parameter_format", "message_send_ttl_seconds"):
        if key in changes:
            body[key] = request.get(key)
    return body


def _edit_refusal(
    status: str | None, changes: Sequence[str], edited_at: Sequence[datetime], now: datetime
) -> str | None:
    if status not in EDITABLE_STATUSES:
        return f"Meta edits only {', '.join(EDITABLE_STATUSES)} templates; this one is {status}"
    if status != "APPROVED":
        return None
    if "category" in changes:
        return "the category of an APPROVED template cannot change; create it under a new name"
    last_day = [t for t in edited_at if now - t < timedelta(days=1)]
    if len(last_day) >= APPROVED_EDITS_PER_DAY:
        return f"edited in the last 24 hours; Meta allows {APPROVED_EDITS_PER_DAY} edit of an approved template per day"
    last_month = [t for t in edited_at if now - t < timedelta(days=30)]
    if len(last_month) >= APPROVED_EDITS_PER_30_DAYS:
        return f"edited {len(last_month)} times in 30 days; Meta allows {APPROVED_EDITS_PER_30_DAYS}"
    return None
