"""Sending one message: the rules before sending, and a record that is never lost.

The path of a send (``waba send ...``, auto-replies, the demo; campaigns reuse ``deliver``):

1. Who sends to whom: the account, its sending number and the recipient in E.164 (``rules``).
2. The message is composed and checked against Meta's limits (``drafts``, which builds the
   body with ``domain.payloads``; a template against its local definition).
3. The rules (``rules.check_send``): the 24-hour window for everything but templates, the
   account's limits, a warning for contacts that stopped messages. A refusal is a ``UsageError``
   (exit 2): nothing was sent, nothing recorded.
4. ``deliver``: the message is recorded ``queued`` and committed *before* the request, then
   ``accepted`` with its wamid or ``failed`` with Meta's code, title and details, or ``failed``
   without a code when the request never left (no connection). A request written without an
   answer, or a process that dies in between, leaves a ``queued`` row: the attempt is known, its
   outcome in doubt (Meta's send API is not idempotent, so nothing resends it blindly). The
   sender's writes follow the same forward-only rule as webhooks (``domain.statuses``): a ``sent`` or
   ``delivered`` webhook that arrived before ``accepted`` was recorded (it waits in
   ``message_status``, keyed by wamid) wins.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import update
from sqlmodel import Session, col, select

from waba_cli.db.messages import apply_statuses, lock_wamids, status_change
from waba_cli.db.models.accounts import PhoneNumber
from waba_cli.db.models.base import table_of
from waba_cli.db.models.messages import Message, MessageStatus
from waba_cli.db.timestamps import aware
from waba_cli.domain import statuses
from waba_cli.domain.statuses import MESSAGE_STATUSES, STATUS_RANK
from waba_cli.errors import DryRunRequest, NotFoundError, ValidationError, WabaError
from waba_cli.services.messaging import drafts, rules

if TYPE_CHECKING:
    from waba_cli.db.engine import Database
    from waba_cli.graph.api import GraphAPI
    from waba_cli.services.context import CommandContext

_MESSAGE = table_of(Message)


@dataclass(frozen=True)
class Outgoing:
    """A message ready to go: the complete request body and what to record about it."""

    account_id: int
    account_name: str
    phone_number_id: str
    to: str  # E.164 with "+"
    body: dict[str, Any]  # the complete request body (domain.payloads)
    type: str
    text: str | None = None
    template_name: str | None = None
    campaign: str | None = None
    callback_data: str | None = None  # sent as biz_opaque_callback_data


@dataclass
class Sent:
    """What became of a send."""

    message_id: int
    wamid: str | None
    to: str
    status: str  # "accepted" | "failed"
    account: str
    phone_number_id: str
    error_code: int | None = None
    error_title: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "wamid": self.wamid,
            "to": self.to,
            "status": self.status,
            "account": self.account,
            "phone_number_id": self.phone_number_id,
            "message_id": self.message_id,
            "error_code": self.error_code,
            "error_title": self.error_title,
        }


# -- sending -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where a message goes and how: the options every ``send`` command shares."""

    to: str
    from_number: str | None = None
    reply_to: str | None = None
    force: bool = False
    callback_data: str | None = None
    campaign: str | None = None


def _ignore(_: str) -> None:
    return None


async def send(
    context: CommandContext,
    target: Target,
    composer: drafts.Composer,
    *,
    warn: Callable[[str], None] = _ignore,
    note: Callable[[str], None] = _ignore,
) -> Sent:
    """Check the rules, then deliver one message (``DryRunRequest`` with ``--dry-run``)."""
    if target.reply_to is not None and not target.reply_to.strip():
        raise ValidationError("--reply-to", "is empty; give the wamid of the message to reply to")
    account = context.account
    with context.db.session() as session:
        number = rules.sender(session, account, target.from_number, context.settings.region)
        to = rules.recipient(target.to, context.settings.region)
        ctx = drafts.Context(session, account, number, to, target.reply_to, target.callback_data)
        draft = composer(ctx)
        placeholder = f"<media id of {draft.local_media.path.name}>" if draft.local_media else None
        body = draft.compose(placeholder)
        warning = rules.check_send(session, account, number, to, free_form=draft.free_form, force=target.force)
        credentials = context.credentials(account)
    if warning:
        warn(warning)

    def retrying(failure: Exception, attempt: int, delay: float) -> None:
        reason = failure.message if isinstance(failure, WabaError) else str(failure)
        attempts = context.settings.graph_max_retries + 1
        note(f"{reason}; trying again in {delay:.1f} s (attempt {attempt} of {attempts}, Ctrl-C stops)")

    async with context.graph(credentials, account.id, on_retry=retrying) as api:
        if draft.local_media is not None:
            local = draft.local_media
            if api.client.dry_run:
                note(
                    f"{local.path.name} ({local.mime}, {local.size:,} bytes) would first be uploaded "
                    f"with POST /{number.phone_number_id}/media"
                )
            else:
                media_id = await api.upload_media(
                    number.phone_number_id, local.path.read_bytes(), filename=local.path.name, mime=local.mime
                )
                body = draft.compose(media_id)
        outgoing = Outgoing(
            account_id=cast("int", account.id),
            account_name=account.name,
            phone_number_id=number.phone_number_id,
            to=to,
            body=body,
            type=draft.type,
            text=draft.text,
            template_name=draft.template_name,
            campaign=target.campaign,
            callback_data=target.callback_data,
        )
        return await deliver(context.db, api, outgoing)


def _queue(db: Database, outgoing: Outgoing, now: datetime) -> int:
    context = outgoing.body.get("context")
    row = Message(
        account_id=outgoing.account_id,
        phone_number_id=outgoing.phone_number_id,
        direction="out",
        contact=outgoing.to,
        type=outgoing.type,
        text=outgoing.text,
        payload=outgoing.body,
        status="queued",
        status_at=now,
        campaign=outgoing.campaign,
        template_name=outgoing.template_name,
        context_wamid=context.get("message_id") if isinstance(context, dict) else None,
        biz_opaque_callback_data=outgoing.callback_data,
        created_at=now,
        updated_at=now,
    )
    with db.transaction() as session:
        session.add(row)
        session.flush()
        return cast("int", row.id)


def _record_accepted(db: Database, message_id: int, wamid: str, now: datetime) -> str:
    """Store the wamid and the furthest status known for it: ``accepted``, or a webhook's that came first.

    The write comes before the read of ``message_status``: on SQLite it takes the write lock, so
    the read sees every status serve-webhook committed until then (a read first could miss one
    committed between the two, whose UPDATE found no row with this wamid yet). On PostgreSQL the
    wamid lock does the same (``db.messages.lock_wamids``).
    """
    with db.transaction() as session:
        conn = session.connection()
        lock_wamids(conn, [wamid])
        apply_statuses(conn, "id", [status_change(message_id, "accepted", now, now, wamid=wamid)])
        history = session.exec(select(MessageStatus).where(MessageStatus.wamid == wamid)).all()
        known = [h for h in history if h.status in STATUS_RANK]
        best = statuses.furthest(known, lambda h: h.status)
        # nothing else can have priced this row: webhooks find it by wamid, set only now
        pricing = next((h.pricing for h in known if h.pricing), None)
        if best is None or not statuses.may_replace("accepted", best.status):
            if pricing:
                apply_statuses(conn, "id", [status_change(message_id, "accepted", now, now, pricing=pricing)])
            return "accepted"
        change = status_change(
            message_id,
            best.status,
            best.status_at or best.received_at,
            now,
            error_code=best.error_code,
            error_title=best.error_title,
            error_details=best.error_details,
            pricing=pricing,
        )
        apply_statuses(conn, "id", [change])
        return best.status


async def deliver(db: Database, api: GraphAPI, outgoing: Outgoing, *, raise_errors: bool = True) -> Sent:
    """Record ``queued``, send, record ``accepted`` (with the wamid) or ``failed``; see the module docstring.

    A Graph error is re-raised once recorded (``raise_errors=False`` returns a failed ``Sent``
    instead). A network failure is always re-raised: before the request was written (no connection)
    the row is ``failed``, as nothing was sent; after it, without an answer, the row stays
    ``queued`` with an "in doubt" note: the message may or may not have gone out. With ``--dry-run``
    nothing is recorded: the client raises ``DryRunRequest`` instead of sending.
    """
    from waba_cli.graph.errors import GraphError, GraphNetworkError

    if api.client.dry_run:
        await api.send_message(outgoing.phone_number_id, outgoing.body)
        raise DryRunRequest({"method": "POST", "url": f"{outgoing.phone_number_id}/messages", "json": outgoing.body})
    message_id = _queue(db, outgoing, datetime.now(UTC))
    sent = Sent(message_id, None, outgoing.to, "failed", outgoing.account_name, outgoing.phone_number_id)
    try:
        answer = await api.send_message(outgoing.phone_number_id, outgoing.body)
    except GraphError as exc:
        sent.error_code, sent.error_title = exc.code, exc.graph_message
        now = datetime.now(UTC)
        failure = status_change(
            message_id,
            "failed",
            now,
            now,
            error_code=exc.code,
            error_title=exc.graph_message,
            error_details=exc.details,
        )
        with db.transaction() as session:
            apply_statuses(session.connection(), "id", [failure])
        if raise_errors:
            raise
        return sent
    except GraphNetworkError as exc:
        now = datetime.now(UTC)
        with db.transaction() as session:
            if exc.request_sent:
                note = {"error_details": f"in doubt: {exc.message}"[:1000], "updated_at": now}
                session.execute(update(_MESSAGE).where(_MESSAGE.c.id == message_id).values(note))
            else:
                title = "not sent: the request never reached the Graph API"
                failure = status_change(
                    message_id, "failed", now, now, error_title=title, error_details=exc.message[:1000]
                )
                apply_statuses(session.connection(), "id", [failure])
        if not exc.request_sent:
            raise GraphNetworkError(
                f"the message was not sent (recorded as failed, id {message_id}): {exc.message}",
                retryable=False,
                request_sent=False,
            ) from exc
        raise
    messages = answer.get("messages") or [{}]
    wamid = messages[0].get("id")
    if not wamid:
        from waba_cli.errors import OperationError

        raise OperationError(
            "Meta accepted the message but sent no wamid back", f"the message is recorded as queued (id {message_id})"
        )
    sent.wamid = wamid
    _record_accepted(db, message_id, wamid, datetime.now(UTC))
    sent.status = "accepted"
    return sent


# -- reading messages back ---------------------------------------------------------------------

_DURATION_RE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def since(value: str, now: datetime | None = None) -> datetime:
    """``7d``, ``12h``, ``30m``, ``2w`` ago, or an ISO date/time (UTC unless it says otherwise)."""
    now = now or datetime.now(UTC)
    match = _DURATION_RE.match(value)
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError("--since", f"{value!r} is neither a duration (7d, 12h, 30m, 2w) nor a date") from None
    return aware(moment)


@dataclass(frozen=True)
class MessageQuery:
    contact: str | None = None
    status: str | None = None
    direction: str | None = None
    campaign: str | None = None
    since: datetime | None = None
    limit: int = 50


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


def list_messages(ctx: CommandContext, query: MessageQuery) -> list[MessageView]:
    """Messages matching ``query`` (only the account's when one is named), newest first."""
    account = ctx.named_account
    if query.direction not in (None, "in", "out"):
        raise ValidationError("--direction", f"{query.direction!r} is not in or out")
    if query.status is not None and query.status not in MESSAGE_STATUSES:
        raise ValidationError("--status", f"{query.status!r} is not one of {', '.join(sorted(MESSAGE_STATUSES))}")
    if query.limit < 1:
        raise ValidationError("--limit", "must be at least 1")
    statement = select(Message)
    for column, value in (
        (Message.contact, query.contact),
        (Message.status, query.status),
        (Message.direction, query.direction),
        (Message.campaign, query.campaign),
        (Message.account_id, account.id if account else None),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if query.since is not None:
        statement = statement.where(col(Message.created_at) >= query.since)
    statement = statement.order_by(col(Message.created_at).desc(), col(Message.id).desc()).limit(query.limit)
    with ctx.db.session() as session:
        numbers = _business_numbers(session)
        return [MessageView(m, numbers.get(m.phone_number_id or "")) for m in session.exec(statement).all()]


def show_message(ctx: CommandContext, wamid: str) -> MessageView:
    """A message and every status Meta reported for it (also for a wamid waba only saw statuses of)."""
    with ctx.db.session() as session:
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
