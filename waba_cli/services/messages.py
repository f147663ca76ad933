"""Reading messages back (`waba message list`, `waba message show`): queries only, nothing is written.

A message is shown as waba recorded it (sent with `waba send` or a campaign, or received by
serve-webhook) with every status Meta reported for it; a wamid waba never sent but saw statuses
of is shown from those statuses, with the same keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from waba_cli.db.models.accounts import PhoneNumber
from waba_cli.db.models.messages import Message, MessageStatus
from waba_cli.db.timestamps import aware
from waba_cli.domain import durations, statuses
from waba_cli.domain.statuses import MESSAGE_STATUSES
from waba_cli.errors import NotFoundError, ValidationError
from waba_cli.services.messaging.rules import recipient

if TYPE_CHECKING:
    from waba_cli.services.context import CommandContext


DEFAULT_LIMIT = 50
MAX_ID = 2**63 - 1  # a short id beyond any row id (and any database integer) is simply not found


def since(value: str, now: datetime | None = None, option: str = "--since") -> datetime:
    """``7d``, ``12h``, ``30m``, ``2w`` ago, or an ISO date/time (UTC unless it says otherwise); a
    duration or a date more than a century away is a ``ValidationError`` saying so."""
    now = now or datetime.now(UTC)
    try:
        age = durations.parse(value)
    except ValueError as exc:
        raise ValidationError(option, str(exc)) from None
    if age is not None:
        return now - age
    try:
        moment = aware(datetime.fromisoformat(value.strip()))
    except ValueError:
        raise ValidationError(option, f"{value!r} is neither a duration (7d, 12h, 30m, 2w) nor a date") from None
    if abs(moment - now) > durations.LONGEST:
        raise ValidationError(option, f"{value!r} is out of range: dates within 100 years of today")
    return moment


@dataclass(frozen=True)
class MessageQuery:
    """What ``message list`` asks for, as given: ``to`` in any notation, ``since`` a duration or a date."""

    to: str | None = None
    status: str | None = None
    direction: str | None = None
    campaign: str | None = None
    since: str | None = None
    limit: int | None = DEFAULT_LIMIT  # None: every message


@dataclass
class MessageList:
    """``message list``: the messages shown, newest first, and how many match in all."""

    messages: list[MessageView]
    total: int


@dataclass
class MessageView:
    """A message as ``message list`` and ``message show`` present it."""

    message: Message | None
    business_number: str | None
    history: list[MessageStatus] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        m = self.message
        if m is None:
            return {}
        business = self.business_number or m.phone_number_id
        inbound = m.direction == "in"
        return {
            "wamid": m.wamid,
            "direction": m.direction,
            "status": m.status,
            "to": business if inbound else m.contact,
            "from": m.contact if inbound else business,
            "type": m.type,
            "text": m.text,
            "created_at": m.created_at,
            "error_code": m.error_code,
            "id": m.id,
            "phone_number_id": m.phone_number_id,
            "campaign": m.campaign,
            "template_name": m.template_name,
        }

    def detail_json(self, wamid: str) -> dict[str, Any]:
        m = self.message
        data = self.as_json() or self._from_statuses(wamid)
        if m is not None:
            data |= {
                "contact_name": m.contact_name,
                "status_at": m.status_at,
                "error_title": m.error_title,
                "error_details": m.error_details,
                "context_wamid": m.context_wamid,
                "biz_opaque_callback_data": m.biz_opaque_callback_data,
                "pricing": m.pricing,
                "payload": m.payload,
                "updated_at": m.updated_at,
            }
        data["history"] = [
            {
                "status": h.status,
                "at": h.status_at,
                "received_at": h.received_at,
                "pricing": h.pricing,
                "conversation": h.conversation,
                "error_code": h.error_code,
                "error_title": h.error_title,
                "error_details": h.error_details,
                "biz_opaque_callback_data": h.biz_opaque_callback_data,
            }
            for h in self.history
        ]
        return data

    def _from_statuses(self, wamid: str) -> dict[str, Any]:
        """What the statuses say of a message waba did not send (no ``message`` row): the same keys."""
        furthest = max(self.history, key=lambda h: statuses.rank(h.status), default=None)
        failed = next((h for h in self.history if h.status == "failed"), None)
        recipient = next((h.recipient_id for h in self.history if h.recipient_id), None)
        pnid = next((h.phone_number_id for h in self.history if h.phone_number_id), None)
        return {
            "wamid": wamid,
            "direction": "out",
            "status": furthest.status if furthest else None,
            "to": f"+{recipient}" if recipient and recipient.isdigit() else recipient,
            "from": self.business_number or pnid,
            "type": None,
            "text": None,
            "created_at": None,
            "error_code": failed.error_code if failed else None,
            "id": None,
            "phone_number_id": pnid,
            "campaign": None,
            "template_name": None,
            "status_at": furthest.status_at if furthest else None,
            "error_title": failed.error_title if failed else None,
            "error_details": failed.error_details if failed else None,
            "biz_opaque_callback_data": next(
                (h.biz_opaque_callback_data for h in self.history if h.biz_opaque_callback_data), None
            ),
            "pricing": next((h.pricing for h in reversed(self.history) if h.pricing), None),
        }


def _business_numbers(session: Session) -> dict[str, str]:
    return {n.phone_number_id: n.phone_number for n in session.exec(select(PhoneNumber)).all()}


def list_messages(ctx: CommandContext, query: MessageQuery) -> MessageList:
    """Messages matching ``query`` (only the account's when one is named), newest first, and their number.

    The matching messages are counted only when the limit cut the list.
    """
    contact = recipient(query.to, ctx.settings.region) if query.to else None
    newer_than = since(query.since) if query.since else None
    status = query.status.lower() if query.status else None
    direction = query.direction.lower() if query.direction else None
    account = ctx.named_account
    if direction not in (None, "in", "out"):
        raise ValidationError("--direction", f"{direction!r} is not in or out")
    if status is not None and status not in MESSAGE_STATUSES:
        raise ValidationError("--status", f"{status!r} is not one of {', '.join(sorted(MESSAGE_STATUSES))}")
    if query.limit is not None and query.limit < 1:
        raise ValidationError("--limit", "must be at least 1")
    conditions: list[Any] = []
    for column, value in (
        (Message.contact, contact),
        (Message.status, status),
        (Message.direction, direction),
        (Message.campaign, query.campaign),
        (Message.account_id, account.id if account else None),
    ):
        if value is not None:
            conditions.append(column == value)
    if newer_than is not None:
        conditions.append(col(Message.created_at) >= newer_than)
    statement = select(Message).where(*conditions)
    statement = statement.order_by(col(Message.created_at).desc(), col(Message.id).desc())
    if query.limit is not None:
        statement = statement.limit(query.limit)
    with ctx.db.session() as session:
        numbers = _business_numbers(session)
        views = [MessageView(m, numbers.get(m.phone_number_id or "")) for m in session.exec(statement).all()]
        total = len(views)
        if query.limit is not None and total == query.limit:
            total = session.exec(select(func.count()).select_from(Message).where(*conditions)).one()
    return MessageList(views, total)


def show_message(ctx: CommandContext, ref: str) -> MessageView:
    """A message and every status Meta reported for it (also for a wamid waba only saw statuses of).

    ``ref`` is the wamid, or the short id ``message list`` shows on a terminal (waba's own number
    for the message: a wamid is never only digits).
    """
    with ctx.db.session() as session:
        short = ref.strip().removeprefix("#")
        if short.isdigit():
            message = session.get(Message, int(short)) if int(short) <= MAX_ID else None
            if message is None:
                raise NotFoundError(f"no message {ref!r}", "see `waba message list`")
            wamid = message.wamid or ""
        else:
            wamid = ref
            message = session.exec(select(Message).where(Message.wamid == wamid)).first()
        history = session.exec(
            select(MessageStatus)
            .where(MessageStatus.wamid == wamid)
            .order_by(col(MessageStatus.status_at), col(MessageStatus.received_at), col(MessageStatus.id))
        ).all()
        numbers = _business_numbers(session)
    if message is None and not history:
        raise NotFoundError(f"no message {wamid!r}", "see `waba message list`")
    pnid = message.phone_number_id if message else next((h.phone_number_id for h in history if h.phone_number_id), None)
    return MessageView(message, numbers.get(pnid or ""), list(history))
