"""``template delete``: at Meta, then locally (drafts removed, Meta's templates kept as DELETED)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete
from sqlmodel import col

from waba_cli.db.models.templates import MessageTemplate, TemplateEvent
from waba_cli.db.timestamps import utcnow
from waba_cli.domain.templates.rules import GONE_STATUSES
from waba_cli.errors import UsageError
from waba_cli.services.templates.store import find_templates, new_event

if TYPE_CHECKING:
    from waba_cli.db.engine import Database
    from waba_cli.db.models.accounts import Account
    from waba_cli.graph.api import GraphAPI
    from waba_cli.services.context import CommandContext


@dataclass(frozen=True)
class Deleted:
    name: str
    language: str
    template_id: str | None
    status: str  # before deletion
    at_meta: bool


def delete_templates(ctx: CommandContext, name: str, language: str | None = None) -> list[Deleted]:
    """`waba template delete`: at Meta and locally, one language (``hsm_id``) or every language of ``name``.

    Drafts Meta never saw are only removed locally; Meta's templates are kept as DELETED rows so their
    history stays visible. DISABLED templates cannot be deleted (reference §3.6): exit 2. In a dry
    run the request is shown instead of sent (``DryRunRequest``); with only drafts, nothing changes.
    """
    account = ctx.account
    return ctx.run_graph(account, lambda api: _delete(ctx.db, api, account, name, language))


async def _delete(db: Database, api: GraphAPI, account: Account, name: str, language: str | None) -> list[Deleted]:
    with db.session() as session:
        rows = find_templates(session, account, name, language)
    disabled = [r for r in rows if r.status == "DISABLED"]
    if disabled:
        raise UsageError(
            f"template {name} {disabled[0].language} is DISABLED, and Meta does not delete disabled templates"
        )
    at_meta = [r for r in rows if r.template_id and r.status not in GONE_STATUSES]
    if at_meta:
        if language:
            for row in at_meta:
                await api.delete_template(account.waba_id, name, hsm_id=row.template_id)
        else:
            await api.delete_template(account.waba_id, name)
    now = utcnow()
    result = [Deleted(r.name, r.language, r.template_id, r.status, r in at_meta) for r in rows]
    if api.client.dry_run:  # only drafts, so nothing was shown instead of sent: change nothing either
        return result
    with db.transaction() as session:
        for row in rows:
            fresh = session.get(MessageTemplate, row.id)
            if fresh is None or fresh.status in GONE_STATUSES:
                continue
            if fresh.template_id:
                fresh.status, fresh.status_updated_at, fresh.updated_at = "DELETED", now, now
                session.add(fresh)
                session.add(new_event(fresh, "local", "DELETED", now))
            else:
                session.execute(delete(TemplateEvent).where(col(TemplateEvent.template_row_id) == fresh.id))
                session.delete(fresh)
    return result
