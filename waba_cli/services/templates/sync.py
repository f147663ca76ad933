"""``template sync``: Meta's list of the account's templates written into the local rows.

Fetches every page, then reconciles in one transaction; every change becomes a ``TemplateEvent``.
Speed matters here (a WABA holds up to 6,000 templates): ``tests/benchmarks/template_sync.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from waba_cli.db.models.templates import MessageTemplate
from waba_cli.db.timestamps import utcnow
from waba_cli.domain.templates import compare, forms
from waba_cli.domain.templates.forms import enum_of, normalize_language, template_id_of, text_of
from waba_cli.domain.templates.rules import GONE_STATUSES
from waba_cli.services.templates.store import LANGUAGE_LEN, NAME_LEN, QUALITY_LEN, new_event

if TYPE_CHECKING:
    from waba_cli.db.models.accounts import Account
    from waba_cli.graph.api import GraphAPI, Template
    from waba_cli.services.context import CommandContext


@dataclass
class SyncResult:
    """What ``template sync`` found and changed."""

    account: str
    fetched: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    status_changes: int = 0
    drafts_matched: int = 0
    gone: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)  # the fields, in their order: the JSON keys


async def fetch_templates(api: GraphAPI, account: Account) -> list[Template]:
    """Every template Meta has for the account, all pages, with quality and rejection reason."""
    from waba_cli.graph.api import TEMPLATE_FIELDS

    return await api.list_templates(account.waba_id, fields=TEMPLATE_FIELDS)


def sync_templates(ctx: CommandContext) -> SyncResult:
    """`waba template sync`: bring the account's local templates in line with Meta's (one transaction)."""
    account = ctx.account
    remote = ctx.run_graph(account, lambda api: fetch_templates(api, account))
    with ctx.db.transaction() as session:
        return reconcile(session, account, remote)


def reconcile(session: Session, account: Account, remote: Iterable[Mapping[str, Any]]) -> SyncResult:
    """Write Meta's templates into the local rows; every change becomes a ``TemplateEvent``.

    A local draft with the name and language of one of Meta's templates becomes Meta's copy; a
    template Meta no longer lists is marked DELETED (its history stays); other drafts stay drafts.
    """
    result = SyncResult(account.name)
    rows = list(session.exec(select(MessageTemplate).where(MessageTemplate.account_id == account.id)).all())
    by_id = {r.template_id: r for r in rows if r.template_id}
    by_key = {(r.name, r.language): r for r in rows}
    seen: set[int] = set()
    now = utcnow()
    # events are written after one flush has given the new rows their ids (a flush per row is slow)
    changed: list[tuple[MessageTemplate, str, str | None]] = []
    for template in remote:
        result.fetched += 1
        name = text_of(template.get("name"), NAME_LEN)
        language_text = text_of(template.get("language"))
        if not name or not language_text:
            continue
        language = normalize_language(language_text)[:LANGUAGE_LEN]
        template_id = template_id_of(template.get("id"))
        row = (by_id.get(template_id) if template_id else None) or by_key.get((name, language))
        if row is None:
            assert account.id is not None
            row = MessageTemplate(account_id=account.id, name=name, language=language, category="", status="")
            by_key[(name, language)] = row
            _take_meta_copy(row, template, now)
            changed.append((row, row.status or "SYNCED", row.rejected_reason))
            result.added += 1
        else:
            if row.id is not None:  # else listed twice by Meta, and new in this sync
                seen.add(row.id)
            if row.status == "DRAFT":
                result.drafts_matched += 1
            events = _take_meta_copy(row, template, now)
            changed += [(row, event, reason) for event, reason in events]
            result.status_changes += sum(1 for event, _ in events if event not in _CHANGE_EVENTS)
            if events:
                result.updated += 1
            else:
                result.unchanged += 1
        session.add(row)
    for row in rows:
        if row.template_id and row.id not in seen and row.status not in GONE_STATUSES:
            row.status, row.status_updated_at, row.updated_at = "DELETED", now, now
            session.add(row)
            changed.append((row, "DELETED", "no longer listed by Meta"))
            result.gone += 1
    session.flush()
    session.add_all(new_event(row, "sync", event, now, reason=reason) for row, event, reason in changed)
    session.flush()
    return result


_CHANGE_EVENTS = ("CATEGORY_CHANGE", "QUALITY_CHANGE", "COMPONENTS_CHANGE")


def _take_meta_copy(row: MessageTemplate, template: Mapping[str, Any], now: datetime) -> list[tuple[str, str | None]]:
    """Copy Meta's fields into ``row``; the changes worth a history event (event, reason)."""
    events: list[tuple[str, str | None]] = []
    was_draft = row.status == "DRAFT"
    row.template_id = template_id_of(template.get("id")) or row.template_id
    reason = enum_of(template.get("rejected_reason"), 64)
    row.rejected_reason = reason if reason and reason != "NONE" else None
    status = enum_of(template.get("status")) or "UNKNOWN"
    if status != row.status:
        if row.status:
            events.append((status, row.rejected_reason if status == "REJECTED" else None))
        row.status, row.status_updated_at = status, now
    category = enum_of(template.get("category"))
    if category and category != row.category:
        if row.category and not was_draft:
            events.append(("CATEGORY_CHANGE", f"{row.category} -> {category}"))
        row.category = category
    quality = template.get("quality_score")
    score = enum_of(quality.get("score"), QUALITY_LEN) if isinstance(quality, Mapping) else None
    if score and score != row.quality_score:
        if row.quality_score:
            events.append(("QUALITY_CHANGE", f"{row.quality_score} -> {score}"))
        row.quality_score = score
    components = template.get("components")
    if isinstance(components, list):
        fresh = forms.normalize_components(components)
        if fresh != row.components:
            before = compare.comparable(row.category, row.parameter_format, row.components)["components"]
            after = compare.comparable(row.category, template.get("parameter_format"), fresh)["components"]
            if row.components and before != after and not was_draft:
                events.append(("COMPONENTS_CHANGE", None))
            row.components = fresh
    row.parameter_format = enum_of(template.get("parameter_format"), 16) or row.parameter_format
    row.sub_category = enum_of(template.get("sub_category")) or row.sub_category
    row.previous_category = enum_of(template.get("previous_category")) or row.previous_category
    row.correct_category = enum_of(template.get("correct_category"))
    ttl = template.get("message_send_ttl_seconds")
    row.message_send_ttl_seconds = ttl if isinstance(ttl, int) and not isinstance(ttl, bool) else None
    row.synced_at = now
    if events:
        row.updated_at = now
    return events
