"""Every ``flow_token`` sent, and each completion tied back to it.

When a flow is sent, its token is recorded with the flow, the contact, the message and the campaign
(``record_sent``). When a completion (``nfm_reply``) arrives, the webhook hands it here
(``record_completions``, in the webhook's own transaction): the token names the flow; a completion
whose token waba never sent is still kept, attributed through the flow message it replies to
(``context.id``) when that message is known, and flagged ``token_known = false``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, select
from sqlmodel import Session

from waba_cli.db import bulk
from waba_cli.db.models.accounts import Account
from waba_cli.db.models.base import table_of
from waba_cli.db.models.flows import Flow, FlowResponse, FlowToken
from waba_cli.db.models.messages import Message
from waba_cli.domain.flow_responses import completion_of
from waba_cli.services.flows.store import find_flow

TOKEN_LEN = 255
FLOW = table_of(Flow)
FLOW_TOKEN = table_of(FlowToken)
FLOW_RESPONSE = table_of(FlowResponse)
MESSAGE = table_of(Message)


def new_token() -> str:
    """A token no other send used: what `send flow` sends when no --token is given."""
    return f"waba-{secrets.token_urlsafe(12)}"


def record_sent(
    session: Session,
    account: Account,
    flow_ref: str,
    token: str,
    contact: str,
    message_id: int | None,
    campaign: str | None = None,
) -> None:
    """Remember that ``token`` went to ``contact`` with the flow ``flow_ref`` in message ``message_id``."""
    assert account.id is not None
    flow = find_flow(session, account, flow_ref)
    session.add(
        FlowToken(
            account_id=account.id,
            token=token[:TOKEN_LEN],
            flow_row_id=flow.id if flow is not None else None,
            flow_ref=flow_ref[:200],
            contact=contact,
            message_id=message_id,
            campaign=campaign,
        )
    )


def record_completions(conn: Connection, inbound: Sequence[Mapping[str, Any]]) -> int:
    """Keep the completions among these inbound ``message`` rows as responses (once per wamid)."""
    rows = []
    for message in inbound:
        payload = message.get("payload")
        completion = completion_of(payload) if isinstance(payload, Mapping) else None
        if completion is None:
            continue
        flow_row_id, campaign, known = _attribute(conn, message, completion.flow_token)
        rows.append(
            {
                "account_id": message.get("account_id"),
                "wamid": message["wamid"],
                "flow_row_id": flow_row_id,
                "flow_token": completion.flow_token,
                "token_known": known,
                "contact": message.get("contact") or "unknown",
                "context_wamid": message.get("context_wamid"),
                "campaign": campaign,
                "data": completion.data,
                "received_at": message.get("created_at"),
            }
        )
    if rows:
        conn.execute(bulk.insert_ignore(conn, FLOW_RESPONSE, ["wamid"]), rows)
    return len(rows)


def _attribute(conn: Connection, message: Mapping[str, Any], token: str | None) -> tuple[int | None, str | None, bool]:
    """(flow row, campaign, token known) of a completion: by its token, else by the message it answers."""
    account_id = message.get("account_id")
    if token is not None and account_id is not None:
        sent = conn.execute(
            select(FLOW_TOKEN.c.flow_row_id, FLOW_TOKEN.c.campaign)
            .where(FLOW_TOKEN.c.account_id == account_id, FLOW_TOKEN.c.token == token)
            .order_by(FLOW_TOKEN.c.id.desc())
            .limit(1)
        ).first()
        if sent is not None:
            return sent[0], sent[1], True
    context = message.get("context_wamid")
    if not context:
        return None, None, False
    answered = conn.execute(
        select(MESSAGE.c.id, MESSAGE.c.campaign, MESSAGE.c.payload, MESSAGE.c.account_id).where(
            MESSAGE.c.wamid == context
        )
    ).first()
    if answered is None:
        return None, None, False
    sent = conn.execute(
        select(FLOW_TOKEN.c.flow_row_id, FLOW_TOKEN.c.campaign).where(FLOW_TOKEN.c.message_id == answered[0]).limit(1)
    ).first()
    if sent is not None:
        return sent[0], sent[1] or answered[1], False
    return _flow_named_in(conn, answered[3], answered[2]), answered[1], False


def _flow_named_in(conn: Connection, account_id: int | None, payload: Any) -> int | None:
    """The flow an outbound flow message named (``flow_id`` or ``flow_name``), if it is known."""
    interactive = payload.get("interactive") if isinstance(payload, Mapping) else None
    action = interactive.get("action") if isinstance(interactive, Mapping) else None
    parameters = action.get("parameters") if isinstance(action, Mapping) else None
    if not isinstance(parameters, Mapping) or account_id is None:
        return None
    if parameters.get("flow_id"):
        where = FLOW.c.flow_id == str(parameters["flow_id"])
    elif parameters.get("flow_name"):
        where = FLOW.c.name == str(parameters["flow_name"])
    else:
        return None
    found = conn.execute(select(FLOW.c.id).where(FLOW.c.account_id == account_id, where)).first()
    return int(found[0]) if found is not None else None
