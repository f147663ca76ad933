"""Finding a flow by the name or id an operator typed, and writing Meta's view of one into its row."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, select

from waba_cli.db.models.accounts import Account
from waba_cli.db.models.flows import Flow
from waba_cli.db.timestamps import utcnow
from waba_cli.errors import NotFoundError

NAME_LEN = 200


def find_flow(session: Session, account: Account, ref: str) -> Flow | None:
    """The account's flow with this id (numeric) or name, if it is known locally."""
    column = Flow.flow_id if ref.isdigit() else Flow.name
    return session.exec(select(Flow).where(Flow.account_id == account.id, column == ref)).first()


def require_flow(session: Session, account: Account, ref: str) -> Flow:
    """The account's flow named ``ref`` (name or id), which must be known locally and at Meta."""
    flow = find_flow(session, account, ref)
    if flow is None or flow.flow_id is None:
        raise NotFoundError(
            f"no flow {ref!r} in account {account.name}", "see `waba flow list`, or `waba flow sync` to fetch Meta's"
        )
    return flow


def health_of(health_status: Any) -> str | None:
    """Meta's ``health_status.can_send_message`` (AVAILABLE, LIMITED, BLOCKED)."""
    if isinstance(health_status, Mapping):
        verdict = health_status.get("can_send_message")
        return str(verdict)[:32] if verdict else None
    return None


def apply_meta(flow: Flow, meta: Mapping[str, Any]) -> bool:
    """Write Meta's fields of a flow into its row; True when something changed."""
    values: dict[str, Any] = {}
    if meta.get("id"):
        values["flow_id"] = str(meta["id"])
    if meta.get("name"):
        values["name"] = str(meta["name"])[:NAME_LEN]
    if meta.get("status"):
        values["status"] = str(meta["status"]).upper()
    if isinstance(meta.get("categories"), list):
        values["categories"] = [str(c) for c in meta["categories"]]
    if "validation_errors" in meta:
        errors = meta.get("validation_errors")
        values["validation_errors"] = [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
    for key in ("json_version", "data_api_version", "endpoint_uri"):
        if key in meta:
            values[key] = str(meta[key]) if meta[key] not in (None, "") else None
    if "health_status" in meta:
        values["health"] = health_of(meta["health_status"])
    preview = meta.get("preview")
    if isinstance(preview, Mapping) and preview.get("preview_url"):
        values["preview_url"] = str(preview["preview_url"])
    changed = {k: v for k, v in values.items() if getattr(flow, k) != v}
    for key, value in changed.items():
        setattr(flow, key, value)
    if changed:
        flow.updated_at = utcnow()
    return bool(changed)
