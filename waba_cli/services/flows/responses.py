"""`waba flow responses`: the completions of a flow as a table, one column per answered field.

Each completion is one row (who, when, which token, which campaign) followed by its answers,
flattened by ``domain.flow_responses`` (dotted names for nested answers, lists joined). The
columns are every field any completion answered, in the order first seen, so a CSV of the table
opens in a spreadsheet as the form's answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select

from waba_cli.db.models.flows import FlowResponse
from waba_cli.domain.flow_responses import columns_of, flatten
from waba_cli.services.flows.store import require_flow
from waba_cli.services.messages import since as since_moment

if TYPE_CHECKING:
    from waba_cli.services.context import CommandContext

BASE_COLUMNS = ("wamid", "from", "received_at", "flow_token", "token_known", "campaign")


@dataclass(frozen=True)
class Response:
    """One completion: who answered, when, with which token, and the answers."""

    wamid: str
    contact: str
    received_at: datetime
    flow_token: str | None
    token_known: bool
    campaign: str | None
    data: dict[str, Any]
    answers: dict[str, str]

    def as_json(self) -> dict[str, Any]:
        return {
            "wamid": self.wamid,
            "from": self.contact,
            "received_at": self.received_at,
            "flow_token": self.flow_token,
            "data": self.data,
            "token_known": self.token_known,
            "campaign": self.campaign,
        }

    def cells(self, fields: list[str]) -> list[Any]:
        base = [self.wamid, self.contact, self.received_at, self.flow_token, self.token_known, self.campaign]
        return [*base, *(self.answers.get(name, "") for name in fields)]


@dataclass
class Responses:
    """The completions of one flow, and the answered fields as columns."""

    flow: str
    responses: list[Response] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return [*BASE_COLUMNS, *self.fields]

    def rows(self) -> list[list[Any]]:
        return [r.cells(self.fields) for r in self.responses]


def flow_responses(
    context: CommandContext, ref: str, *, since: str | None = None, limit: int | None = None
) -> Responses:
    """The completions of the flow ``ref`` (name or id), oldest first; ``limit`` keeps the newest."""
    start = since_moment(since) if since else None
    account = context.account
    with context.db.session() as session:
        flow = require_flow(session, account, ref)
        query = select(FlowResponse).where(FlowResponse.account_id == account.id, FlowResponse.flow_row_id == flow.id)
        if start is not None:
            query = query.where(col(FlowResponse.received_at) >= start)
        query = query.order_by(col(FlowResponse.received_at).desc(), col(FlowResponse.id).desc())
        if limit is not None:
            query = query.limit(limit)
        found = list(reversed(session.exec(query).all()))
        name = flow.name
    responses = [
        Response(
            wamid=row.wamid,
            contact=row.contact,
            received_at=row.received_at,
            flow_token=row.flow_token,
            token_known=row.token_known,
            campaign=row.campaign,
            data=row.data or {},
            answers=flatten(row.data or {}),
        )
        for row in found
    ]
    return Responses(name, responses, columns_of(r.answers for r in responses))
