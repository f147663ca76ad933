"""A campaign's rows in the database: the campaign, its recipients, and the message row of each attempt.

One run at a time owns a campaign row (claimed, heartbeat, finished); its recipients are imported
from the scan, claimed, recorded with Meta's answer, marked in doubt when a run died, and tied back
to their wamid when a status webhook has come. Each statement is built once; how a batch reaches
the driver is ``db.bulk``'s business, and a message's status moves only forward through
``db.messages``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlmodel import select as select_rows

from waba_cli.db import bulk
from waba_cli.db.messages import apply_statuses, status_change
from waba_cli.db.models.accounts import Account, PhoneNumber
from waba_cli.db.models.base import table_of
from waba_cli.db.models.campaigns import Campaign, CampaignRecipient
from waba_cli.db.models.flows import FlowToken
from waba_cli.db.models.logs import ApiCall
from waba_cli.db.models.messages import Message, MessageStatus
from waba_cli.db.timestamps import aware
from waba_cli.domain.statuses import may_replace
from waba_cli.errors import UsageError
from waba_cli.services.campaigns.plan import Plan, RowProblem

if TYPE_CHECKING:
    from sqlmodel import Session

    from waba_cli.graph.client import CallRecord
    from waba_cli.services.campaigns.content import Content
    from waba_cli.services.campaigns.csv_scan import Scratch

CAMPAIGN = table_of(Campaign)
RECIPIENT = table_of(CampaignRecipient)
MESSAGE = table_of(Message)
MESSAGE_STATUS = table_of(MessageStatus)
API_CALL = table_of(ApiCall)

IMPORT_BATCH = 2000
FETCH_BATCH = 1000
STALE_OWNER = timedelta(minutes=2)  # a run on another host that has not written for this long is dead


# -- reads for the plan ----------------------------------------------------------------------------


def find_campaign(session: Session, name: str | None) -> Campaign | None:
    if name is None:
        return None
    return session.exec(select_rows(Campaign).where(Campaign.name == name)).first()


def number_of(session: Session, account: Account, phone_number_id: str) -> PhoneNumber | None:
    query = select_rows(PhoneNumber).where(
        PhoneNumber.account_id == account.id, PhoneNumber.phone_number_id == phone_number_id
    )
    return session.exec(query).first()


def recipient_states(conn: Connection, campaign: Campaign, phones: Sequence[str]) -> dict[str, str]:
    """The state of each of ``phones`` that is a recipient of ``campaign`` already (one query for a batch)."""
    rows = conn.execute(
        select(RECIPIENT.c.phone, RECIPIENT.c.state).where(
            RECIPIENT.c.campaign_id == campaign.id, RECIPIENT.c.phone.in_(phones)
        )
    )
    return {phone: state for phone, state in rows}  # noqa: C416 - rows are not pairs to dict()


def inside_window(conn: Connection, phone_number_id: str, contacts: Sequence[str], now: datetime) -> set[str]:
    """The contacts whose last message to the number is under 24 h old (one query for a batch)."""
    from waba_cli.services.messaging.rules import WINDOW

    if not contacts:
        return set()
    m = MESSAGE.c
    rows = conn.execute(
        select(m.contact)
        .where(
            m.phone_number_id == phone_number_id,
            m.direction == "in",
            m.contact.in_(contacts),
            m.created_at > now - WINDOW,
        )
        .distinct()
    )
    return {contact for (contact,) in rows}


def account_numbers(conn: Connection, account: Account) -> list[str]:
    numbers = table_of(PhoneNumber).c
    return list(conn.execute(select(numbers.phone_number_id).where(numbers.account_id == account.id)).scalars())


def likely_failures(conn: Connection, numbers: Sequence[str], rows: Sequence[tuple[int, str]]) -> list[RowProblem]:
    """The rows (line, E.164) whose contact's last failure was 131050 or 131026 with nothing delivered
    since (``messaging.rules.suppressed_contacts``, the rule ``waba send`` warns by)."""
    from waba_cli.services.messaging.rules import suppressed_contacts, suppression_note

    found = suppressed_contacts(conn, numbers, [phone for _, phone in rows])
    return [RowProblem(line, phone, suppression_note(*found[phone])) for line, phone in rows if phone in found]


def warn_likely_failures(conn: Connection, plan: Plan, account: Account, campaign_id: int) -> None:
    """Add the recipients still to send whose last failure was 131050 or 131026 to the plan's warnings."""
    r = RECIPIENT.c
    numbers = account_numbers(conn, account)
    after = 0
    while True:
        rows = conn.execute(
            select(r.id, r.line, r.phone)
            .where(r.campaign_id == campaign_id, r.state.in_(("pending", "outside_window")), r.id > after)
            .order_by(r.id)
            .limit(FETCH_BATCH)
        ).all()
        if not rows:
            return
        after = rows[-1].id
        for warning in likely_failures(conn, numbers, [(row.line, row.phone) for row in rows]):
            plan.warn(warning)


def callback_data(campaign_id: int, recipient_id: int, attempt: int) -> str:
    """``biz_opaque_callback_data`` of one attempt to send to a recipient: status webhooks echo it (§2.1).

    It keys the attempt's ``message`` row until Meta's wamid is known.
    """
    return f"waba-campaign:{campaign_id}:{recipient_id}:{attempt}"


# -- starting a run: the campaign, its recipients, reconciliation ---------------------------------


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_alive(owner: str | None, heartbeat_at: datetime | None, now: datetime) -> bool:
    """Whether the run recorded as ``owner`` may still be going."""
    if not owner:
        return False
    host, _, pid = owner.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    beat = aware(heartbeat_at) if heartbeat_at else None
    return beat is not None and now - beat < STALE_OWNER


def take_write_lock(conn: Connection, name: str) -> None:
    """A write that changes nothing, first in a transaction: SQLite takes its write lock now (a
    deferred transaction that read first could not upgrade if a webhook committed meanwhile)."""
    conn.execute(update(CAMPAIGN).where(CAMPAIGN.c.name == name).values(updated_at=CAMPAIGN.c.updated_at))


def claim_campaign(
    conn: Connection, plan: Plan, account: Account, content: Content, csv_path: Path | None, now: datetime
) -> tuple[int, bool]:
    """Create or take over the campaign row; returns (id, whether a dead run's ``sending`` rows are in doubt)."""
    c = CAMPAIGN.c
    me = _owner()
    row = conn.execute(select(CAMPAIGN).where(c.name == plan.campaign)).first()
    if row is None:
        template = content.template
        values = {
            "name": plan.campaign,
            "account_id": account.id,
            "phone_number_id": plan.phone_number_id,
            "kind": plan.kind,
            "template_name": template.name if template else None,
            "language": template.language if template else None,
            "body": content.body,
            "csv_path": str(csv_path.resolve()) if csv_path else None,
            "rate": plan.rate,
            "rate_reason": (plan.rate_reason or "")[:255] or None,
            "status": "running",
            "owner": me,
            "heartbeat_at": now,
            "created_at": now,
            "updated_at": now,
        }
        inserted = conn.execute(bulk.insert_ignore(conn, CAMPAIGN, ["name"]).values(**values).returning(c.id)).first()
        if inserted is not None:
            return int(inserted[0]), False
        row = conn.execute(select(CAMPAIGN).where(c.name == plan.campaign)).one()
    if row.status == "running" and owner_alive(row.owner, row.heartbeat_at, now):
        raise UsageError(
            f"campaign {plan.campaign!r} is being sent right now ({row.owner})",
            "wait for that run to end; if it died on another host, retry in a few minutes",
        )
    # compare-and-set: of two runs taking over at once, one wins
    taken = conn.execute(
        update(CAMPAIGN)
        .where(c.id == row.id, c.owner.is_(None) if row.owner is None else c.owner == row.owner, c.status == row.status)
        .values(
            status="running",
            owner=me,
            heartbeat_at=now,
            updated_at=now,
            stop_reason=None,
            rate=plan.rate,
            rate_reason=(plan.rate_reason or "")[:255] or None,
        )
    )
    if taken.rowcount != 1:
        raise UsageError(f"campaign {plan.campaign!r} was just started by another run", "wait for it to end")
    return int(row.id), True


def import_recipients(conn: Connection, campaign_id: int, scratch: Scratch, now: datetime) -> None:
    """The scan's rows as the campaign's recipients; rows already there keep their state."""
    statement = bulk.insert_ignore(conn, RECIPIENT, ["campaign_id", "phone"])
    for batch in scratch.batches(IMPORT_BATCH):
        conn.execute(
            statement,
            [
                {
                    "campaign_id": campaign_id,
                    "line": line,
                    "phone": phone,
                    "params": params,
                    "state": "pending",
                    "attempts": 0,
                    "updated_at": now,
                }
                for line, phone, params in batch
            ],
        )


def _best_statuses(conn: Connection, wamids: Sequence[str]) -> dict[str, Any]:
    """The furthest status reported for each wamid (statuses that arrived before the sender wrote)."""
    best: dict[str, Any] = {}
    s = MESSAGE_STATUS.c
    for chunk in _chunks(list(wamids), 500):
        for row in conn.execute(select(MESSAGE_STATUS).where(s.wamid.in_(chunk))):
            current = best.get(row.wamid)
            if may_replace(current.status if current else None, row.status):
                best[row.wamid] = row
    return best


def reconcile(conn: Connection, campaign_id: int, now: datetime) -> int:
    """Tie in-doubt recipients to the wamid a status webhook reported for their callback data."""
    r, s = RECIPIENT.c, MESSAGE_STATUS.c
    doubtful = conn.execute(select(r.id, r.attempts).where(r.campaign_id == campaign_id, r.state == "in_doubt")).all()
    found = 0
    for chunk in _chunks(list(doubtful), 500):
        by_callback = {callback_data(campaign_id, rid, attempts): rid for rid, attempts in chunk}
        wamids: dict[str, str] = {}  # callback data -> wamid
        for biz, wamid in conn.execute(
            select(s.biz_opaque_callback_data, s.wamid).where(s.biz_opaque_callback_data.in_(list(by_callback)))
        ):
            wamids[biz] = wamid
        if not wamids:
            continue
        best = _best_statuses(conn, list(wamids.values()))
        moves = []
        for biz, wamid in wamids.items():
            status = best.get(wamid)
            if status is None:
                moves.append(move(biz, "accepted", now, now, wamid=wamid))
            else:
                at = status.status_at or status.received_at
                moves.append(move(biz, status.status, at, now, wamid=wamid, error=status))
        apply_statuses(conn, "callback", moves)
        conn.execute(
            _RECIPIENT_UPDATE,
            [recipient_row(by_callback[biz], "accepted", now, wamid=wamid) for biz, wamid in wamids.items()],
        )
        found += len(wamids)
    return found


def mark_in_doubt(conn: Connection, campaign_id: int, now: datetime) -> None:
    """Recipients a dead run left ``sending`` become ``in_doubt``; their ``queued`` message rows say so."""
    r = RECIPIENT.c
    left = conn.execute(select(r.id, r.attempts).where(r.campaign_id == campaign_id, r.state == "sending")).all()
    if not left:
        return
    conn.execute(
        update(RECIPIENT)
        .where(r.campaign_id == campaign_id, r.state == "sending")
        .values(state="in_doubt", updated_at=now)
    )
    note = "in doubt: the run sending it ended before Meta's answer was recorded"
    conn.execute(
        _NOTE_MESSAGE, [note_row(callback_data(campaign_id, rid, attempts), note, now) for rid, attempts in left]
    )


def resend_in_doubt(conn: Connection, campaign_id: int, now: datetime) -> None:
    """``--resend-in-doubt``: the recipients in doubt are pending again."""
    r = RECIPIENT.c
    conn.execute(
        update(RECIPIENT)
        .where(r.campaign_id == campaign_id, r.state == "in_doubt")
        .values(state="pending", updated_at=now)
    )


def recheck_outside_window(conn: Connection, campaign_id: int) -> None:
    """Recipients skipped as outside the window are pending again: a run checks them as it claims them."""
    conn.execute(
        update(RECIPIENT)
        .where(RECIPIENT.c.campaign_id == campaign_id, RECIPIENT.c.state == "outside_window")
        .values(state="pending")
    )


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def state_counts(conn: Connection, campaign_id: int) -> dict[str, int]:
    r = RECIPIENT.c
    rows = conn.execute(select(r.state, func.count()).where(r.campaign_id == campaign_id).group_by(r.state))
    return {state: int(count) for state, count in rows}


# -- while sending ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """Why an attempt failed, as its recipient and its message row record it."""

    error_code: int | None
    error_title: str | None
    error_details: str | None


def heartbeat(conn: Connection, campaign_id: int, now: datetime) -> None:
    """This run is alive (and, first in a transaction, holds SQLite's write lock)."""
    conn.execute(update(CAMPAIGN).where(CAMPAIGN.c.id == campaign_id).values(heartbeat_at=now))


def status_watermark(conn: Connection) -> int:
    """The highest ``message_status`` id: statuses above it were committed after this was read."""
    return conn.execute(select(func.max(MESSAGE_STATUS.c.id))).scalar() or 0


def pending_recipients(conn: Connection, campaign_id: int, after: int) -> Sequence[Any]:
    """The next ``FETCH_BATCH`` pending recipients by id, from ``after`` on."""
    r = RECIPIENT.c
    return conn.execute(
        select(r.id, r.line, r.phone, r.params, r.attempts, r.not_before)
        .where(r.campaign_id == campaign_id, r.state == "pending", r.id > after)
        .order_by(r.id)
        .limit(FETCH_BATCH)
    ).all()


def move(
    key: str, status: str, at: datetime, now: datetime, *, wamid: str | None = None, error: Any = None
) -> dict[str, Any]:
    """A status change of the message found by ``key``; ``error`` carries error_code, _title, _details."""
    return status_change(
        key,
        status,
        at,
        now,
        wamid=wamid,
        error_code=getattr(error, "error_code", None),
        error_title=getattr(error, "error_title", None),
        error_details=getattr(error, "error_details", None),
    )


def recipient_row(
    recipient_id: int,
    state: str,
    now: datetime,
    *,
    wamid: str | None = None,
    failure: Failure | None = None,
    not_before: datetime | None = None,
) -> dict[str, Any]:
    """A recipient's new state, for ``update_recipients``."""
    return {
        "b_id": recipient_id,
        "b_state": state,
        "b_wamid": wamid,
        "b_code": failure.error_code if failure else None,
        "b_title": failure.error_title if failure else None,
        "b_not_before": not_before,
        "b_now": now,
    }


def message_row(
    plan: Plan,
    account: Account,
    content: Content,
    phone: str,
    params: Sequence[str],
    body: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """The ``queued`` message row of an attempt, written with its claim: what ``messaging.send.deliver`` writes."""
    return {
        "account_id": account.id,
        "phone_number_id": plan.phone_number_id,
        "direction": "out",
        "contact": phone,
        "type": content.kind,
        "text": content.text(params),
        "payload": body,
        "status": "queued",
        "status_at": now,
        "campaign": plan.campaign,
        "template_name": plan.template,
        "biz_opaque_callback_data": body.get("biz_opaque_callback_data"),
        "created_at": now,
        "updated_at": now,
    }


def flow_token_row(
    plan: Plan, account: Account, content: Content, phone: str, body: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """The ``flow_token`` row of an attempt whose template has a FLOW button: its callback data is the token."""
    assert content.flow is not None
    flow_ref, flow_row_id = content.flow
    return {
        "account_id": account.id,
        "token": body.get("biz_opaque_callback_data"),
        "flow_row_id": flow_row_id,
        "flow_ref": flow_ref,
        "contact": phone,
        "message_id": None,
        "campaign": plan.campaign,
        "created_at": now,
    }


def note_row(callback: str, details: str | None, now: datetime) -> dict[str, Any]:
    """A note on the ``queued`` message row of an attempt that may have reached Meta without an answer."""
    return {"b_biz": callback, "b_details": details, "b_now": now}


def update_recipients(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Write recipients' new states (rows from ``recipient_row``)."""
    bulk.executemany(conn, _RECIPIENT_UPDATE, rows)


def claim_recipients(
    conn: Connection,
    messages: Sequence[dict[str, Any]],
    ids: Sequence[int],
    now: datetime,
    flow_tokens: Sequence[dict[str, Any]] = (),
) -> None:
    """Recipients ``sending``, one attempt more, with the ``queued`` message row of that attempt (and
    the flow token it carries, for a template with a FLOW button)."""
    bulk.executemany(conn, _INSERT_MESSAGE, messages)
    if flow_tokens:
        bulk.executemany(conn, _INSERT_FLOW_TOKEN, flow_tokens)
    bulk.executemany(conn, _CLAIM_UPDATE, [{"b_id": recipient_id, "b_now": now} for recipient_id in ids])


def record_answers(
    conn: Connection,
    recipients: Sequence[dict[str, Any]],
    moves: Sequence[dict[str, Any]],
    notes: Sequence[dict[str, Any]],
) -> None:
    """Meta's answers: the recipients' new states, their attempts' message rows moved forward (by
    callback data), and a note on the rows of requests that may have reached Meta without an answer."""
    bulk.executemany(conn, _RECIPIENT_UPDATE, recipients)
    apply_statuses(conn, "callback", moves)
    bulk.executemany(conn, _NOTE_MESSAGE, notes)


def catch_up(conn: Connection, wamids: list[str], now: datetime) -> None:
    """Apply the statuses whose webhook came before the send was recorded (they wait in message_status)."""
    moves = []
    for wamid, status in _best_statuses(conn, wamids).items():
        if may_replace("accepted", status.status):
            at = status.status_at or status.received_at
            moves.append(move(wamid, status.status, at, now, error=status))
    if moves:
        apply_statuses(conn, "wamid", moves)


def record_calls(conn: Connection, account: Account, calls: Sequence[CallRecord]) -> None:
    """The run's HTTP attempts in the API call log."""
    bulk.executemany(
        conn,
        _INSERT_CALL,
        [
            {
                "account_id": account.id,
                "at": c.at,
                "method": c.method,
                "endpoint": c.endpoint,
                "status_code": c.status_code,
                "latency_ms": c.latency_ms,
                "error_code": c.error_code,
                "attempt": c.attempt,
            }
            for c in calls
        ],
    )


def finish_campaign(conn: Connection, campaign_id: int, *, stopped: bool, reason: str | None, now: datetime) -> None:
    """The run ends: the campaign is ``stopped`` or ``finished``, and no longer owned (if this run still owns it)."""
    conn.execute(
        update(CAMPAIGN)
        .where(CAMPAIGN.c.id == campaign_id, CAMPAIGN.c.owner == _owner())
        .values(
            status="stopped" if stopped else "finished",
            stop_reason=reason,
            owner=None,
            heartbeat_at=now,
            updated_at=now,
            finished_at=None if stopped else now,
        )
    )


# -- statements, built once (see db.bulk on reusing them) --------------------------------------------

# a request that may have reached Meta without an answer: the row stays queued, with a note
_NOTE_MESSAGE = (
    update(MESSAGE)
    .where(MESSAGE.c.biz_opaque_callback_data == bindparam("b_biz"))
    .values(
        error_details=bindparam("b_details", type_=MESSAGE.c.error_details.type),
        updated_at=bindparam("b_now", type_=MESSAGE.c.updated_at.type),
    )
)


def _recipient_update() -> Any:
    r = RECIPIENT.c
    return (
        update(RECIPIENT)
        .where(r.id == bindparam("b_id"))
        .values(
            state=bindparam("b_state", type_=r.state.type),
            wamid=bindparam("b_wamid", type_=r.wamid.type),
            error_code=bindparam("b_code", type_=r.error_code.type),
            error_title=bindparam("b_title", type_=r.error_title.type),
            not_before=bindparam("b_not_before", type_=r.not_before.type),
            updated_at=bindparam("b_now", type_=r.updated_at.type),
        )
    )


def _claim_update() -> Any:
    r = RECIPIENT.c
    return (
        update(RECIPIENT)
        .where(r.id == bindparam("b_id"))
        .values(state="sending", attempts=r.attempts + 1, updated_at=bindparam("b_now", type_=r.updated_at.type))
    )


_RECIPIENT_UPDATE = _recipient_update()
_CLAIM_UPDATE = _claim_update()
_INSERT_MESSAGE = insert(MESSAGE)
_INSERT_FLOW_TOKEN = insert(table_of(FlowToken))
_INSERT_CALL = insert(API_CALL)
