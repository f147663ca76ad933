"""Sending one message: the rules before sending, and a record that is never lost.

The path of a send (one function per `waba send` command, ``send_text`` ... ``send_media``;
auto-replies call ``deliver`` alone):

1. The message is composed and checked against Meta's limits (``drafts``, which builds the
   body with ``domain.payloads``): a bad option is refused before anything else.
2. Who sends to whom: the account, its sending number and the recipient in E.164 (``rules``).
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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import update
from sqlmodel import select

from waba_cli.db.messages import apply_statuses, lock_wamids, status_change
from waba_cli.db.models.base import table_of
from waba_cli.db.models.messages import Message, MessageStatus
from waba_cli.domain import statuses
from waba_cli.domain.statuses import STATUS_RANK
from waba_cli.errors import DryRunRequest, ValidationError, WabaError
from waba_cli.services.context import run
from waba_cli.services.flows.tokens import new_token, record_sent
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
    flow_token: str | None = None  # the token a flow message carried

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
            **({"flow_token": self.flow_token} if self.flow_token is not None else {}),
        }


@dataclass(frozen=True)
class Target:
    """Where a message goes and how: the options every ``send`` command shares."""

    to: str
    from_number: str | None = None
    reply_to: str | None = None
    force: bool = False
    callback_data: str | None = None
    campaign: str | None = None


Say = Callable[[str], None]  # ``warn``: a contact likely to miss the message; ``note``: retries, uploads


def _ignore(_: str) -> None:
    return None


# -- one function per command -----------------------------------------------------------------


def send_text(
    context: CommandContext,
    target: Target,
    body: str,
    *,
    preview_url: bool = False,
    warn: Say = _ignore,
    note: Say = _ignore,
) -> Sent:
    """`waba send text`."""
    return _send(context, target, drafts.text_message(body, preview_url=preview_url), warn, note)


def send_template(
    context: CommandContext,
    target: Target,
    name: str,
    params: Sequence[str] = (),
    *,
    language: str | None = None,
    header_media: tuple[str, str] | None = None,
    url_suffixes: Sequence[str] = (),
    coupon_code: str | None = None,
    button_payloads: Sequence[str] = (),
    flow_token: str | None = None,
    warn: Say = _ignore,
    note: Say = _ignore,
) -> Sent:
    """`waba send template`; ``header_media`` is (kind, PATH|URL); ``flow_token`` for a FLOW button."""
    composer = drafts.template_message(
        name,
        params,
        language=language,
        header_media=header_media,
        url_suffixes=url_suffixes,
        coupon_code=coupon_code,
        button_payloads=button_payloads,
        flow_token=flow_token,
    )
    return _send(context, target, composer, warn, note)


def send_interactive(
    context: CommandContext,
    target: Target,
    *,
    body: str | None,
    buttons: Sequence[str] = (),
    list_file: Path | None = None,
    cta_url: str | None = None,
    cta_text: str | None = None,
    header: str | None = None,
    footer: str | None = None,
    warn: Say = _ignore,
    note: Say = _ignore,
) -> Sent:
    """`waba send interactive`: reply buttons, a list or a call-to-action URL button."""
    composer = drafts.interactive_message(
        body=body,
        buttons=buttons,
        list_file=list_file,
        cta_url=cta_url,
        cta_text=cta_text,
        header=header,
        footer=footer,
    )
    return _send(context, target, composer, warn, note)


def send_flow(
    context: CommandContext,
    target: Target,
    flow: str,
    *,
    token: str | None,
    cta: str,
    body: str,
    screen: str | None = None,
    data: dict[str, Any] | None = None,
    header: str | None = None,
    footer: str | None = None,
    draft: bool = False,
    action: str = "navigate",
    warn: Say = _ignore,
    note: Say = _ignore,
) -> Sent:
    """`waba send flow`: without ``token`` a new one is made (``check_and_deliver`` records it)."""
    token = new_token() if token is None else token  # known before the send: recorded with it
    composer = drafts.flow_message(
        flow,
        token=token,
        cta=cta,
        body=body,
        screen=screen,
        data=data,
        header=header,
        footer=footer,
        draft=draft,
        action=action,
    )
    return _send(context, target, composer, warn, note)


def send_media(
    context: CommandContext,
    target: Target,
    kind: str,
    source: str,
    *,
    caption: str | None = None,
    filename: str | None = None,
    warn: Say = _ignore,
    note: Say = _ignore,
) -> Sent:
    """`waba send media`: an image, document, video, audio or sticker from a URL or a local file."""
    composer = drafts.media_message(kind, source, caption=caption, filename=filename)
    return _send(context, target, composer, warn, note)


def _send(context: CommandContext, target: Target, composer: drafts.Composer, warn: Say, note: Say) -> Sent:
    """Send a message whose options were checked: the rules, then ``deliver``."""
    return run(lambda: check_and_deliver(context, target, composer, warn, note))


async def check_and_deliver(
    context: CommandContext, target: Target, composer: drafts.Composer, warn: Say = _ignore, note: Say = _ignore
) -> Sent:
    """Check the rules, then deliver one message (``DryRunRequest`` with ``--dry-run``); for callers
    already in an event loop (the health canary), where the ``send_*`` functions would start one."""
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
        sent = await deliver(context.db, api, outgoing)
    if draft.flow_token is not None:
        # every token sent is kept, so the completion (nfm_reply) is tied back to this send
        flow, token = draft.flow_token
        sent.flow_token = token
        if sent.status != "failed":
            with context.db.transaction() as session:
                record_sent(session, account, flow, token, to, sent.message_id, target.campaign)
    return sent


# -- the record around the Graph call ---------------------------------------------------------


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
