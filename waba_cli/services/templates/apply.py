"""``template apply FILE``: make Meta's templates match a file.

Plan first (``waba_cli.domain.templates.compare.plan_changes``, from Meta's list and the edits and
creations waba recorded), then create and edit; a failed change does not stop the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from waba_cli.db.models.templates import MessageTemplate, TemplateEvent
from waba_cli.db.timestamps import aware, utcnow
from waba_cli.domain.templates.compare import PlanItem, plan_changes
from waba_cli.domain.templates.forms import TemplateInput
from waba_cli.services.templates.files import require_valid
from waba_cli.services.templates.store import record_edited, record_submitted
from waba_cli.services.templates.submit import create_at_meta, with_uploaded_media
from waba_cli.services.templates.sync import fetch_templates, reconcile

if TYPE_CHECKING:
    from waba_cli.db.engine import Database
    from waba_cli.db.models.accounts import Account
    from waba_cli.graph.api import GraphAPI
    from waba_cli.services.context import CommandContext


@dataclass
class ApplyResult:
    account: str
    items: list[PlanItem]
    dry_run: bool

    def counts(self) -> dict[str, int]:
        actions = ("create", "edit", "unchanged", "only_on_meta", "refused")
        return {action: sum(1 for i in self.items if i.action == action) for action in actions}

    @property
    def failed(self) -> list[PlanItem]:
        return [i for i in self.items if i.outcome and i.outcome != "done"]


def _quota_history(session: Session, account: Account, now: datetime) -> tuple[dict[str, list[datetime]], int]:
    """When waba edited each of the account's templates (by id), and how many it created in the last hour."""
    rows = session.exec(
        select(MessageTemplate.template_id, TemplateEvent.event, TemplateEvent.at)
        .join(TemplateEvent, col(TemplateEvent.template_row_id) == col(MessageTemplate.id))
        .where(MessageTemplate.account_id == account.id, col(TemplateEvent.event).in_(("EDITED", "SUBMITTED")))
    ).all()
    edits: dict[str, list[datetime]] = {}
    creations = 0
    for template_id, event, at in rows:
        if event == "EDITED" and template_id:
            edits.setdefault(template_id, []).append(aware(at))
        elif event == "SUBMITTED" and now - aware(at) < timedelta(hours=1):
            creations += 1
    return edits, creations


def apply_templates(ctx: CommandContext, templates: Sequence[TemplateInput]) -> ApplyResult:
    """`waba template apply`: make Meta's templates match ``templates``: plan, then (unless a dry run) create and edit.

    Nothing is sent if a template breaks a rule. A failed change does not stop the others; each
    outcome is in the result. Templates only Meta has are reported, never deleted.
    """
    account = ctx.account
    return ctx.run_graph(account, lambda api: _apply(ctx.db, api, account, templates, dry_run=ctx.dry_run))


async def _apply(
    db: Database, api: GraphAPI, account: Account, templates: Sequence[TemplateInput], *, dry_run: bool
) -> ApplyResult:
    from waba_cli.graph.errors import GraphError, GraphNetworkError

    require_valid(templates)
    remote = await fetch_templates(api, account)
    now = utcnow()
    with db.session() as session:
        edits, creations = _quota_history(session, account, now)
    items = plan_changes(templates, remote, edits=edits, recent_creations=creations, now=now)
    result = ApplyResult(account.name, items, dry_run)
    if dry_run:
        return result
    with db.transaction() as session:
        reconcile(session, account, remote)
    for item in items:
        if item.action not in ("create", "edit") or item.request is None:
            continue
        try:
            if item.action == "create":
                body, answer = await create_at_meta(api, account, item.request)
                with db.transaction() as session:
                    row = record_submitted(session, account, body, answer, "apply")
                item.template_id = row.template_id
            else:
                assert item.template_id is not None
                body = await with_uploaded_media(api, account, item.request)
                await api.edit_template(item.template_id, body)
                with db.transaction() as session:
                    record_edited(session, account, item.template_id, body, item.changes)
        except (GraphError, GraphNetworkError) as exc:
            item.outcome = f"failed: {exc}"
            continue
        item.outcome = "done"
    return result
