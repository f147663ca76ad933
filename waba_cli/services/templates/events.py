"""Template webhooks (reference §8.7): status, quality, category and components changes applied to
their ``MessageTemplate`` rows, each recorded as a ``TemplateEvent``.

The webhook writer calls ``apply_template_webhook`` inside its own transaction; a delivery
identical to the latest one of its field changes nothing (redeliveries and replays).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from waba_cli.db.models.templates import MessageTemplate, TemplateEvent
from waba_cli.db.timestamps import utcnow
from waba_cli.domain.templates.forms import (
    enum_of,
    merge_components_update,
    normalize_language,
    template_id_of,
    text_of,
)
from waba_cli.services.templates.store import LANGUAGE_LEN, NAME_LEN, QUALITY_LEN

TEMPLATE_WEBHOOK_FIELDS = (
    "message_template_status_update",
    "message_template_quality_update",
    "template_category_update",
    "message_template_components_update",
)


def _jsonable(value: Any) -> Any:
    """``value`` as plain JSON (a webhook value normally is; anything else becomes text)."""
    try:
        return json.loads(json.dumps(value, default=str, allow_nan=False))
    except (TypeError, ValueError):
        return repr(value)


def _fingerprint(field: str, value: Any) -> str:
    try:
        text = json.dumps(value, sort_keys=True, default=str, allow_nan=False)
    except (TypeError, ValueError):
        text = repr(value)
    return hashlib.sha256(f"{field}\n{text}".encode()).hexdigest()


def _find_row(
    session: Session, account_id: int | None, template_id: str | None, name: str | None, language: str | None
) -> MessageTemplate | None:
    if template_id:
        query = select(MessageTemplate).where(MessageTemplate.template_id == template_id)
        if account_id is not None:
            query = query.where(MessageTemplate.account_id == account_id)
        row = session.exec(query.order_by(col(MessageTemplate.id))).first()
        if row is not None:
            return row
    if account_id is not None and name and language:
        return session.exec(
            select(MessageTemplate).where(
                MessageTemplate.account_id == account_id,
                MessageTemplate.name == name,
                MessageTemplate.language == language,
            )
        ).first()
    return None


def _last_webhook_fingerprint(session: Session, row_id: int, field: str) -> str | None:
    """The fingerprint of the latest webhook of ``field`` recorded for the template."""
    events = session.exec(
        select(TemplateEvent)
        .where(TemplateEvent.template_row_id == row_id, TemplateEvent.source == "webhook")
        .order_by(col(TemplateEvent.at).desc(), col(TemplateEvent.id).desc())
    ).all()
    for event in events:
        data = event.data if isinstance(event.data, dict) else {}
        if data.get("field") == field:
            fingerprint = data.get("fingerprint")
            return fingerprint if isinstance(fingerprint, str) else None
    return None


def apply_template_webhook(session: Session, account_id: int | None, field: str, value: dict[str, Any]) -> str:
    """Apply one template webhook change (reference §8.7) to its ``MessageTemplate`` row.

    ``field`` is the change's field, ``value`` its value; ``account_id`` the local account the
    delivery was routed to (None when unknown: the template is then found by its id alone). Writes
    the row and a ``TemplateEvent`` into ``session``; the caller commits. Returns one line for the log.

    - The template is found by ``message_template_id`` (a JSON number or a string), else by name
      and language within the account; a local draft found that way gets Meta's id.
    - An unknown template with a known account, name and language gets a row built from what the
      event says (status, category; components from a components update), so templates made in
      WhatsApp Manager show up at once; `template sync` fills in the rest. Without an account, name
      or language the event is recorded nowhere and skipped (the summary says so).
    - Idempotent: a delivery identical to the latest one of the same field for that template
      changes nothing and adds no event (redeliveries and replays of the latest event).
    - Never raises on unknown fields, unknown enum values or malformed values: unknown fields are
      skipped, unknown statuses and categories are stored as Meta sent them.
    """
    if not isinstance(value, dict):
        return f"{field}: value is not an object, skipped"
    if field not in TEMPLATE_WEBHOOK_FIELDS:
        # Meta's doc example sends quality updates under the status field (reference §8.7)
        return f"{field}: not a template field, skipped"
    if field == "message_template_status_update" and "new_quality_score" in value and "event" not in value:
        field = "message_template_quality_update"
    template_id = template_id_of(value.get("message_template_id"))
    name = text_of(value.get("message_template_name"), NAME_LEN)
    language_text = text_of(value.get("message_template_language"))
    language = normalize_language(language_text)[:LANGUAGE_LEN] if language_text else None
    label = f"template {name or '?'} {language or '?'}" + (f" ({template_id})" if template_id else "")
    row = _find_row(session, account_id, template_id, name, language)
    created = False
    if row is None:
        if account_id is None or not name or not language:
            return f"{field}: {label} is not known locally and the event does not say enough to add it; skipped"
        row = MessageTemplate(
            account_id=account_id,
            name=name,
            language=language,
            category=enum_of(value.get("message_template_category") or value.get("new_category")) or "UNKNOWN",
            status="UNKNOWN",
            template_id=template_id,
        )
        session.add(row)
        session.flush()
        created = True
    assert row.id is not None
    fingerprint = _fingerprint(field, value)
    if not created and _last_webhook_fingerprint(session, row.id, field) == fingerprint:
        return f"{field}: {label}: repeated delivery, nothing changed"
    if template_id and row.template_id != template_id:
        row.template_id = template_id
    now = utcnow()
    appliers = {
        "message_template_status_update": _status_update,
        "message_template_quality_update": _quality_update,
        "template_category_update": _category_update,
        "message_template_components_update": _components_update,
    }
    event, summary = appliers[field](row, value, now)
    row.updated_at = now
    session.add(row)
    session.add(
        TemplateEvent(
            template_row_id=row.id,
            at=now,
            source="webhook",
            event=event[:64],
            status=row.status,
            category=enum_of(value.get("correct_category")) if event == "CATEGORY_CHANGE_PENDING" else row.category,
            quality_score=row.quality_score[:QUALITY_LEN] if row.quality_score else None,
            reason=row.rejected_reason if event == "REJECTED" else text_of(value.get("reason")),
            data={"field": field, "fingerprint": fingerprint, "value": _jsonable(value)},
        )
    )
    session.flush()
    return f"{field}: {label}: {summary}" + (" (new local row)" if created else "")


def _status_update(row: MessageTemplate, value: dict[str, Any], now: datetime) -> tuple[str, str]:
    before = row.status
    status = enum_of(value.get("event"))
    if status:
        row.status = status
        if status != before:
            row.status_updated_at = now
    reason = enum_of(value.get("reason"), 64)
    if row.status == "REJECTED":
        row.rejected_reason = reason if reason and reason != "NONE" else row.rejected_reason
    elif status:
        row.rejected_reason = None
    category = enum_of(value.get("message_template_category"))
    if category and category != row.category:
        row.previous_category, row.category = row.category, category
    summary = f"{before} -> {row.status}" if before != row.status else f"still {row.status}"
    if row.status == "REJECTED" and row.rejected_reason:
        summary += f" ({row.rejected_reason})"
    return status or "STATUS_UPDATE", summary


def _quality_update(row: MessageTemplate, value: dict[str, Any], now: datetime) -> tuple[str, str]:
    before = row.quality_score
    score = enum_of(value.get("new_quality_score"), QUALITY_LEN)
    if score:
        row.quality_score = score
    return "QUALITY_CHANGE", f"quality {before or '?'} -> {row.quality_score or '?'}"


def _category_update(row: MessageTemplate, value: dict[str, Any], now: datetime) -> tuple[str, str]:
    new = enum_of(value.get("new_category"))
    correct = enum_of(value.get("correct_category"))
    if correct and "previous_category" not in value:
        # the notice ~24 h ahead: new_category is the current one, correct_category the coming one
        row.correct_category = correct
        if new and new != row.category:
            row.previous_category, row.category = row.category, new
        return "CATEGORY_CHANGE_PENDING", f"category {row.category} will become {correct}"
    before = row.category
    previous = enum_of(value.get("previous_category"))
    if new and new != row.category:
        row.previous_category = previous or row.category
        row.category = new
    if new:
        row.correct_category = None
    return "CATEGORY_CHANGE", f"category {before} -> {row.category}"


def _components_update(row: MessageTemplate, value: dict[str, Any], now: datetime) -> tuple[str, str]:
    row.components = merge_components_update(row.components, value)
    return "COMPONENTS_CHANGE", "components updated"
