"""Message templates: local drafts, submission, sync with Meta, apply, preview, and template webhooks.

The rules a template must follow live in ``template_rules`` (pure, no I/O); this module stores
templates and talks to Meta through ``GraphAPI``. A ``MessageTemplate`` row is one (account, name,
language): a local ``DRAFT`` until it is submitted, then Meta's copy, kept current by
``template sync`` and by the template webhooks (``apply_template_webhook``). Every change of status,
category, quality or components is a ``TemplateEvent``: the history ``template show`` prints.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from waba_cli.db.models.base import utcnow
from waba_cli.db.models.templates import MessageTemplate, TemplateEvent
from waba_cli.services.template_rules import count_variables, normalize_language

# -- template webhooks (reference §8.7) ----------------------------------------------------------

TEMPLATE_WEBHOOK_FIELDS = (
    "message_template_status_update",
    "message_template_quality_update",
    "template_category_update",
    "message_template_components_update",
)
_STATUS_LEN = 32
_QUALITY_LEN = 16
_NAME_LEN = 512
_LANGUAGE_LEN = 16
_ID_LEN = 32


def _enum(value: Any, limit: int = _STATUS_LEN) -> str | None:
    """An enumeration value from Meta, upper-cased; anything else (numbers, objects) is None."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().upper()[:limit]


def _text(value: Any, limit: int | None = None) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        text = str(value).strip()
        return (text[:limit] if limit else text) or None
    return None


def template_id_of(value: Any) -> str | None:
    """A template id as a string; webhooks send them as JSON numbers (reference §0)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and value > 0:
        return str(value)[:_ID_LEN]
    if isinstance(value, str) and value.strip().isdigit():
        return value.strip()[:_ID_LEN]
    return None


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
    name = _text(value.get("message_template_name"), _NAME_LEN)
    language_text = _text(value.get("message_template_language"))
    language = normalize_language(language_text)[:_LANGUAGE_LEN] if language_text else None
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
            category=_enum(value.get("message_template_category") or value.get("new_category")) or "UNKNOWN",
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
            category=_enum(value.get("correct_category")) if event == "CATEGORY_CHANGE_PENDING" else row.category,
            quality_score=row.quality_score[:_QUALITY_LEN] if row.quality_score else None,
            reason=row.rejected_reason if event == "REJECTED" else _text(value.get("reason")),
            data={"field": field, "fingerprint": fingerprint, "value": _jsonable(value)},
        )
    )
    session.flush()
    return f"{field}: {label}: {summary}" + (" (new local row)" if created else "")


def _status_update(row: MessageTemplate, value: dict[str, Any], now: datetime) -> tuple[str, str]:
    before = row.status
    status = _enum(value.get("event"))
    if status:
        row.status = status
        if status != before:
            row.status_updated_at = now
    reason = _enum(value.get("reason"), 64)
    if row.status == "REJECTED":
        row.rejected_reason = reason if reason and reason != "NONE" else row.rejected_reason
    elif status:
        row.rejected_reason = None
    category = _enum(value.get("message_template_category"))
    if category and category != row.category:
        row.previous_category, row.category = row.category, category
    summary = f"{before} -> {row.status}" if before != row.status else f"still {row.status}"
    if row.status == "REJECTED" and row.rejected_reason:
        summary += f" ({row.rejected_reason})"
    return status or "STATUS_UPDATE", summary


def _quality_update(row: MessageTemplate, value: dict[str, Any], now: datetime) -> tuple[str, str]:
    before = row.quality_score
    score = _enum(value.get("new_quality_score"), _QUALITY_LEN)
    if score:
        row.quality_score = score
    return "QUALITY_CHANGE", f"quality {before or '?'} -> {row.quality_score or '?'}"


def _category_update(row: MessageTemplate, value: dict[str, Any], now: datetime) -> tuple[str, str]:
    new = _enum(value.get("new_category"))
    correct = _enum(value.get("correct_category"))
    if correct and "previous_category" not in value:
        # the notice ~24 h ahead: new_category is the current one, correct_category the coming one
        row.correct_category = correct
        if new and new != row.category:
            row.previous_category, row.category = row.category, new
        return "CATEGORY_CHANGE_PENDING", f"category {row.category} will become {correct}"
    before = row.category
    previous = _enum(value.get("previous_category"))
    if new and new != row.category:
        row.previous_category = previous or row.category
        row.category = new
    if new:
        row.correct_category = None
    return "CATEGORY_CHANGE", f"category {before} -> {row.category}"


def _components_update(row: MessageTemplate, value: dict[str, Any], now: datetime) -> tuple[str, str]:
    row.components = merge_components_update(row.components, value)
    return "COMPONENTS_CHANGE", "components updated"


def merge_components_update(components: Any, value: dict[str, Any]) -> list[dict[str, Any]]:
    """``components`` with the texts of a ``message_template_components_update`` put in.

    The webhook carries the body, the header text, the footer and the URL/phone buttons, but no
    examples and no other buttons; what it does not carry is kept. A body whose variables changed
    loses its examples (they no longer fit; the next sync brings Meta's).
    """
    result = [dict(c) for c in components if isinstance(c, dict)] if isinstance(components, list) else []

    def component(kind: str) -> dict[str, Any] | None:
        return next((c for c in result if str(c.get("type", "")).upper() == kind), None)

    body_text = _text(value.get("message_template_element"))
    if body_text is not None:
        body = component("BODY")
        if body is None:
            body = {"type": "BODY"}
            result.append(body)
        if count_variables(body.get("text")) != count_variables(body_text):
            body.pop("example", None)
        body["text"] = body_text
    title = _text(value.get("message_template_title"))
    if title is not None:
        header = component("HEADER")
        if header is None:
            result.insert(0, {"type": "HEADER", "format": "TEXT", "text": title})
        elif str(header.get("format", "TEXT")).upper() == "TEXT":
            if count_variables(header.get("text")) != count_variables(title):
                header.pop("example", None)
            header["text"] = title
    footer_text = _text(value.get("message_template_footer"))
    if footer_text is not None:
        footer = component("FOOTER")
        if footer is None:
            footer = {"type": "FOOTER"}
            result.insert(len([c for c in result if str(c.get("type", "")).upper() in ("HEADER", "BODY")]), footer)
        footer["text"] = footer_text
    buttons = value.get("message_template_buttons")
    if isinstance(buttons, list) and buttons:
        _merge_buttons(result, [b for b in buttons if isinstance(b, dict)])
    return result


def _merge_buttons(components: list[dict[str, Any]], updates: list[dict[str, Any]]) -> None:
    block = next((c for c in components if str(c.get("type", "")).upper() == "BUTTONS"), None)
    if block is None:
        block = {"type": "BUTTONS", "buttons": []}
        components.append(block)
    current = block.get("buttons")
    buttons = [dict(b) for b in current if isinstance(b, dict)] if isinstance(current, list) else []
    used: set[int] = set()
    for update in updates:
        kind = _enum(update.get("message_template_button_type")) or "UNKNOWN"
        match = next(
            (i for i, b in enumerate(buttons) if i not in used and str(b.get("type", "")).upper() == kind), None
        )
        if match is None:
            buttons.append({"type": kind})
            match = len(buttons) - 1
        used.add(match)
        button = buttons[match]
        for key, target in (
            ("message_template_button_text", "text"),
            ("message_template_button_url", "url"),
            ("message_template_button_phone_number", "phone_number"),
        ):
            text = _text(update.get(key))
            if text is not None:
                button[target] = text
    block["buttons"] = buttons
