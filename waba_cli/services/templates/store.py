"""The local copies of templates: a ``MessageTemplate`` row is one (account, name, language), a
local ``DRAFT`` until it is submitted, then Meta's copy. Every change of status, category,
quality or components is a ``TemplateEvent``: the history ``template show`` prints.

Finding and listing rows, drafts, recording what Meta accepted, the reads of ``template list``,
``show``, ``validate`` and ``preview``, and the Graph session the other template services open.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlmodel import Session, col, select

from waba_cli.db.models.templates import MessageTemplate, TemplateEvent
from waba_cli.db.timestamps import utcnow
from waba_cli.domain.templates import forms, render, rules
from waba_cli.domain.templates.forms import TemplateInput, enum_of, normalize_language, template_id_of
from waba_cli.domain.templates.render import Rendered
from waba_cli.domain.templates.rules import GONE_STATUSES
from waba_cli.errors import NotFoundError, UsageError, ValidationError

if TYPE_CHECKING:
    from waba_cli.db.models.accounts import Account
    from waba_cli.services.context import CommandContext

T = TypeVar("T")


# the lengths of the row's columns: longer values from Meta are cut to fit
NAME_LEN = 512
LANGUAGE_LEN = 16
QUALITY_LEN = 16


def request_of(row: MessageTemplate) -> dict[str, Any]:
    """The stored template as Meta's create request."""
    request: dict[str, Any] = {
        "name": row.name,
        "language": row.language,
        "category": row.category,
        "parameter_format": row.parameter_format.lower(),
        "components": forms.plain_copy(forms.as_create_shape(row.category, row.components)),
    }
    if row.message_send_ttl_seconds is not None:
        request["message_send_ttl_seconds"] = row.message_send_ttl_seconds
    return request


def _row(session: Session, account: Account, name: str, language: str) -> MessageTemplate | None:
    return session.exec(
        select(MessageTemplate).where(
            MessageTemplate.account_id == account.id,
            MessageTemplate.name == name,
            MessageTemplate.language == language,
        )
    ).first()


def find_templates(session: Session, account: Account, name: str, language: str | None = None) -> list[MessageTemplate]:
    """The account's templates called ``name`` (in ``language`` only, if given); none is exit 2."""
    query = select(MessageTemplate).where(MessageTemplate.account_id == account.id, MessageTemplate.name == name)
    if language:
        query = query.where(MessageTemplate.language == normalize_language(language))
    rows = list(session.exec(query.order_by(col(MessageTemplate.language))).all())
    if not rows:
        where = f" in {normalize_language(language)}" if language else ""
        raise NotFoundError(
            f"no template {name!r}{where} in account {account.name}",
            "see `waba template list`; run `waba template sync` to fetch Meta's templates",
        )
    return rows


def find_template(session: Session, account: Account, name: str, language: str | None = None) -> MessageTemplate:
    """The one template called ``name``; several languages without ``language`` is exit 2."""
    rows = find_templates(session, account, name, language)
    if len(rows) > 1:
        raise UsageError(
            f"template {name!r} exists in {len(rows)} languages ({', '.join(r.language for r in rows)})",
            "pass --language L",
        )
    return rows[0]


def list_templates(
    ctx: CommandContext, *, status: str | None = None, category: str | None = None, limit: int = 50
) -> list[MessageTemplate]:
    """`waba template list`: the account's templates, most recently changed first.

    A status must be one Meta documents (or DRAFT), or one a sync stored (Meta adds statuses); a
    category must be one of Meta's three. Anything else is a usage error naming the valid ones.
    """
    account = ctx.account
    query = select(MessageTemplate).where(MessageTemplate.account_id == account.id)
    if status:
        wanted = status.strip().upper()
        if wanted not in rules.STATUSES:
            with ctx.db.session() as session:
                stored = set(session.exec(select(MessageTemplate.status).distinct()).all())
            if wanted not in stored:
                known = [*rules.STATUSES, *sorted(s for s in stored if s and s not in rules.STATUSES)]
                raise ValidationError("--status", f"{status!r} is not a template status", f"one of {', '.join(known)}")
        query = query.where(MessageTemplate.status == wanted)
    if category:
        kind = category.strip().upper()
        if kind not in rules.CATEGORIES:
            choices = ", ".join(rules.CATEGORIES)
            raise ValidationError("--category", f"{category!r} is not a category", f"one of {choices}")
        query = query.where(MessageTemplate.category == kind)
    query = query.order_by(col(MessageTemplate.updated_at).desc(), col(MessageTemplate.id).desc()).limit(limit)
    with ctx.db.session() as session:
        return list(session.exec(query).all())


@dataclass(frozen=True)
class ShownTemplate:
    """What ``template show`` prints: the row, its history, its preview and Meta's rejection detail."""

    row: MessageTemplate
    events: list[TemplateEvent]
    preview: Rendered
    rejection_detail: str | None


def show_template(ctx: CommandContext, name: str, language: str | None = None) -> ShownTemplate:
    """`waba template show`: one template with its history and its preview with the examples."""
    account = ctx.account
    with ctx.db.session() as session:
        row = find_template(session, account, name, language)
        events = history(session, row)
    return ShownTemplate(row, events, preview(row, []), rejection_detail(events))


def rejection_detail(events: Sequence[TemplateEvent]) -> str | None:
    """Meta's explanation of an INVALID_FORMAT rejection, from the latest webhook that carried one."""
    for event in reversed(events):
        value = (event.data or {}).get("value") if isinstance(event.data, dict) else None
        info = value.get("rejection_info") if isinstance(value, dict) else None
        if isinstance(info, dict) and (info.get("reason") or info.get("recommendation")):
            return " — ".join(str(info[k]) for k in ("reason", "recommendation") if info.get(k))
    return None


def named_templates(ctx: CommandContext, name: str, language: str | None = None) -> list[MessageTemplate]:
    """The account's templates called ``name`` (in ``language`` only, if given); none is exit 2."""
    with ctx.db.session() as session:
        return find_templates(session, ctx.account, name, language)


def stored_requests(ctx: CommandContext, name: str, language: str | None = None) -> list[TemplateInput]:
    """`waba template validate NAME`: the stored templates called ``name`` as create requests."""
    return [TemplateInput(request_of(r)) for r in named_templates(ctx, name, language)]


def preview_template(
    ctx: CommandContext, name: str, params: Sequence[str], language: str | None = None
) -> tuple[MessageTemplate, Rendered]:
    """`waba template preview`: the template and the message it makes with ``params``."""
    with ctx.db.session() as session:
        row = find_template(session, ctx.account, name, language)
    return row, preview(row, params)


def history(session: Session, row: MessageTemplate) -> list[TemplateEvent]:
    """The template's events, oldest first."""
    return list(
        session.exec(
            select(TemplateEvent)
            .where(TemplateEvent.template_row_id == row.id)
            .order_by(col(TemplateEvent.at), col(TemplateEvent.id))
        ).all()
    )


def new_event(row: MessageTemplate, source: str, event: str, now: datetime, **extra: Any) -> TemplateEvent:
    assert row.id is not None
    return TemplateEvent(
        template_row_id=row.id,
        at=now,
        source=source,
        event=event[:64],
        status=row.status,
        category=row.category,
        quality_score=row.quality_score,
        **extra,
    )


def save_draft(session: Session, account: Account, template: TemplateInput) -> MessageTemplate:
    """Store ``template`` as a local draft (a new one, or replacing a draft of the same name and language).

    A template Meta already has is not replaced: it changes through ``template apply``.
    """
    request = template.request
    row = _row(session, account, template.name, template.language)
    if row is not None and row.status not in ("DRAFT", *GONE_STATUSES):
        raise UsageError(
            f"template {template.label} already exists at Meta ({row.status})",
            "change it with `waba template apply FILE`, or delete it first",
        )
    event = "DRAFT_SAVED" if row is None else "DRAFT_REPLACED"
    now = utcnow()
    if row is None:
        assert account.id is not None
        row = MessageTemplate(account_id=account.id, name=template.name, language=template.language, category="")
    row.category = str(request["category"])
    row.status = "DRAFT"
    row.template_id = None
    row.parameter_format = str(request.get("parameter_format") or "positional").upper()
    row.components = request["components"]
    row.message_send_ttl_seconds = request.get("message_send_ttl_seconds")
    row.quality_score = row.rejected_reason = row.previous_category = row.correct_category = None
    row.status_updated_at = row.updated_at = now
    session.add(row)
    session.flush()
    session.add(new_event(row, "local", event, now))
    session.flush()
    return row


def record_submitted(
    session: Session, account: Account, body: Mapping[str, Any], answer: Mapping[str, Any], source: str
) -> MessageTemplate:
    """Store what Meta answered to a creation: id, status and category (Meta may re-categorise)."""
    name, language = str(body["name"]), normalize_language(str(body["language"]))
    row = _row(session, account, name, language)
    now = utcnow()
    if row is None:
        assert account.id is not None
        row = MessageTemplate(account_id=account.id, name=name, language=language, category="")
    asked = str(body.get("category") or "").upper()
    category = enum_of(answer.get("category")) or asked
    row.previous_category = asked if category != asked else None
    row.category = category
    row.template_id = template_id_of(answer.get("id"))
    row.status = enum_of(answer.get("status")) or "PENDING"
    row.parameter_format = str(body.get("parameter_format") or "positional").upper()
    row.components = json.loads(json.dumps(body.get("components") or []))
    row.message_send_ttl_seconds = body.get("message_send_ttl_seconds")
    row.rejected_reason = row.quality_score = row.correct_category = None
    row.status_updated_at = row.updated_at = now
    session.add(row)
    session.flush()
    session.add(new_event(row, source, "SUBMITTED", now, data={"template_id": row.template_id}))
    session.flush()
    return row


def record_edited(
    session: Session, account: Account, template_id: str, body: Mapping[str, Any], changes: Sequence[str]
) -> MessageTemplate | None:
    """Store an edit Meta accepted; the template goes back through review (reference §3.6)."""
    row = session.exec(
        select(MessageTemplate).where(
            MessageTemplate.account_id == account.id, MessageTemplate.template_id == template_id
        )
    ).first()
    if row is None:
        return None
    now = utcnow()
    row.components = json.loads(json.dumps(body.get("components") or []))
    if "category" in changes:
        row.previous_category, row.category = row.category, str(body.get("category") or row.category).upper()
    if "parameter_format" in changes:
        row.parameter_format = str(body.get("parameter_format") or "positional").upper()
    if "message_send_ttl_seconds" in changes:
        row.message_send_ttl_seconds = body.get("message_send_ttl_seconds")
    before = row.status
    row.status, row.rejected_reason = "PENDING", None
    row.status_updated_at = row.updated_at = now
    session.add(row)
    session.flush()
    session.add(new_event(row, "apply", "EDITED", now, data={"changes": list(changes), "status_before": before}))
    session.flush()
    return row


def preview(row: MessageTemplate, params: Sequence[str]) -> Rendered:
    """The message as the customer would see it with ``params`` (the template's examples if none)."""
    slots = render.variable_slots(row.components, row.category)
    if not params:
        return render.render(row.components, row.category, render.example_values(row.components, row.category))
    try:
        values = render.bind(slots, params, named=row.parameter_format == "NAMED")
    except ValueError as exc:
        raise UsageError(f"template {row.name} {row.language}: {exc}") from None
    return render.render(row.components, row.category, values)
