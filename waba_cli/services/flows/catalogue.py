"""`waba flow sync | list | show`: Meta's flows of the account, kept locally.

``sync`` reads every page of ``GET /{waba-id}/flows`` with status, validation errors, JSON version,
endpoint and health, and writes them into the ``flow`` rows (a flow Meta no longer lists is marked
DELETED: its responses stay). ``list`` and ``show`` read the rows; ``show --preview`` asks Meta for
a fresh preview URL.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select

from waba_cli.db.models.flows import Flow
from waba_cli.db.timestamps import utcnow
from waba_cli.services.flows.lifecycle import with_api
from waba_cli.services.flows.store import apply_meta, find_flow, require_flow

if TYPE_CHECKING:
    from waba_cli.graph.api import GraphAPI
    from waba_cli.services.context import CommandContext


@dataclass
class SyncResult:
    """What ``flow sync`` found and changed."""

    account: str
    fetched: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    gone: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)  # the fields, in their order: the JSON keys


def sync_flows(context: CommandContext) -> SyncResult:
    """`waba flow sync`: every flow Meta has for the account, written into the local rows."""
    account = context.account
    account_id = account.id
    assert account_id is not None

    async def fetch(api: GraphAPI) -> list[Any]:
        return list(await api.list_flows(account.waba_id))

    remote = with_api(context, fetch)
    result = SyncResult(account.name, fetched=len(remote))
    now = utcnow()
    with context.db.transaction() as session:
        rows = list(session.exec(select(Flow).where(Flow.account_id == account_id)).all())
        by_id = {r.flow_id: r for r in rows if r.flow_id}
        by_name = {r.name: r for r in rows}
        seen: set[int] = set()
        for meta in remote:
            flow_id = str(meta.get("id") or "")
            if not flow_id:
                continue
            row = by_id.get(flow_id) or by_name.get(str(meta.get("name") or ""))
            if row is None:
                row = Flow(account_id=account_id, flow_id=flow_id, name=str(meta.get("name") or flow_id))
                apply_meta(row, meta)
                result.added += 1
            elif apply_meta(row, meta):
                result.updated += 1
            else:
                result.unchanged += 1
            row.synced_at = now
            session.add(row)
            session.flush()
            assert row.id is not None
            seen.add(row.id)
        for row in rows:
            if row.id not in seen and row.flow_id and row.status != "DELETED":
                row.status, row.updated_at = "DELETED", now
                session.add(row)
                result.gone += 1
    return result


def list_flows(context: CommandContext, *, status: str | None = None, limit: int = 50) -> list[Flow]:
    """`waba flow list`: the account's flows, newest first."""
    account = context.account
    with context.db.session() as session:
        query = select(Flow).where(Flow.account_id == account.id)
        if status:
            query = query.where(Flow.status == status.upper())
        rows = list(session.exec(query.order_by(col(Flow.created_at).desc(), col(Flow.id).desc()).limit(limit)).all())
        for row in rows:
            session.expunge(row)
        return rows


def show_flow(context: CommandContext, ref: str, *, preview: bool = False) -> Flow:
    """`waba flow show`: the local row; ``preview`` asks Meta for a fresh preview URL first."""
    account = context.account
    with context.db.session() as session:
        flow = require_flow(session, account, ref)
        flow_id = str(flow.flow_id)
        if not preview:
            session.expunge(flow)
            return flow

    async def fresh(api: GraphAPI) -> None:
        meta = await api.get_flow(flow_id, ("id", "status", "preview.invalidate(true)", "health_status"))
        with context.db.transaction() as session:
            row = find_flow(session, account, flow_id)
            if row is not None and apply_meta(row, meta):
                session.add(row)

    with_api(context, fresh)
    with context.db.session() as session:
        flow = require_flow(session, account, flow_id)
        session.expunge(flow)
        return flow
