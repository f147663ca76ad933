"""`waba events ...`: the webhook deliveries serve-webhook stored, read back, applied again, pruned.

The write side (storing and applying deliveries as they arrive) is ``services.webhooks``; this is
what an operator does with the event log afterwards. Each command makes one call here, which
opens and ends its own connection and transaction.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select

from waba_cli.db.models.base import table_of
from waba_cli.db.models.webhooks import WebhookEvent, WebhookItem
from waba_cli.db.timestamps import utcnow
from waba_cli.errors import NotFoundError
from waba_cli.services.webhooks.apply import Directory, Outcome
from waba_cli.services.webhooks.parse import (
    Delivery,
    contacts_of,
    first_error,
    inbound_row,
    parse_body,
    str_of,
)
from waba_cli.services.webhooks.store import apply_stored, open_store, stored_delivery, unapplied_events

if TYPE_CHECKING:
    from sqlalchemy import Connection, Row

    from waba_cli.services.context import CommandContext

WEBHOOK_EVENT = table_of(WebhookEvent)
WEBHOOK_ITEM = table_of(WebhookItem)
# webhook_item keys outlive their events by Meta's retry horizon: a delivery retried for up to
# 7 days must still find its key after `events prune`
RETRY_HORIZON = timedelta(days=8)
# how often `events tail --follow` looks for new deliveries
FOLLOW_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class EventQuery:
    """Which stored events to read: by field, failed only, since when, after which id, how many."""

    field: str | None = None
    failed: bool = False
    since: datetime | None = None
    limit: int = 50
    after_id: int | None = None
    oldest_first: bool = False


@dataclass(frozen=True)
class StoredEvent:
    """One stored delivery without its body: when it came, what it carried, how applying it went."""

    id: int
    received_at: datetime
    field: str | None
    status: str
    summary: str | None
    error: str | None
    account_id: int | None
    # who wrote and what, or which status reached whom (`events tail` on a terminal); raw outside text
    gist: tuple[str, ...] = dataclass_field(default=(), kw_only=True)


@dataclass(frozen=True, kw_only=True)
class EventDetail(StoredEvent):
    """One stored delivery with its headers and body (the JSON document, or its text when it is not JSON)."""

    headers: dict[str, str]
    body: Any


def list_events(ctx: CommandContext, query: EventQuery) -> list[StoredEvent]:
    """`waba events list`: stored events (without their bodies), newest first unless ``oldest_first``."""
    with ctx.db.engine.connect() as conn:
        return _select(conn, query)


def show_event(ctx: CommandContext, event_id: int) -> EventDetail:
    """`waba events show`: one stored event with its headers and body (NotFoundError when there is none)."""
    with ctx.db.engine.connect() as conn:
        row = _get_event(conn, event_id)
    try:
        body: Any = parse_body(row.body)
    except ValueError:
        body = row.body.decode("utf-8", "replace")
    return EventDetail(**_summary_of(row), headers=row.headers, body=body)


def tail_events(ctx: CommandContext, lines: int, *, follow: bool = False, gist: bool = False) -> Iterator[StoredEvent]:
    """`waba events tail`: the latest ``lines`` events, oldest first; with ``follow``, then every new
    one as it is stored, looking each FOLLOW_POLL_SECONDS until the caller stops (Ctrl-C). With
    ``gist``, each carries who wrote what and which statuses reached whom (``gist_of``)."""
    with ctx.db.engine.connect() as conn:
        recent = _select(conn, EventQuery(limit=lines), gist=gist) if lines else []
        latest = _select(conn, EventQuery(limit=1))
    last_id = latest[0].id if latest else 0
    yield from reversed(recent)
    while follow:
        time.sleep(FOLLOW_POLL_SECONDS)
        with ctx.db.engine.connect() as conn:
            rows = _select(conn, EventQuery(after_id=last_id, limit=1000, oldest_first=True), gist=gist)
        for row in rows:
            yield row
            last_id = row.id


SNIPPET_CHARACTERS = 60


def gist_of(payload: Any) -> tuple[str, ...]:
    """One line per message and status a delivery carries: ``Ana Souza +16505550123: "Hi! Has my…"``
    (the contact's name and number, the start of the text or the message type) and ``read
    +16505550123`` (the status and its recipient; a failure with its code and title). Raw text:
    the caller escapes it for the terminal."""
    now = utcnow()
    lines: list[str] = []
    for entry in payload.get("entry") or [] if isinstance(payload, dict) else []:
        for change in entry.get("changes") or [] if isinstance(entry, dict) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                continue
            contacts = contacts_of(value.get("contacts"))
            for message in value.get("messages") or [] if isinstance(value.get("messages"), list) else []:
                row = inbound_row(now, None, None, message, contacts)
                if row is not None:
                    lines.append(_message_gist(row))
            for status in value.get("statuses") or [] if isinstance(value.get("statuses"), list) else []:
                if isinstance(status, dict):
                    lines.append(_status_gist(status))
    return tuple(lines)


def _message_gist(row: dict[str, Any]) -> str:
    who = " ".join(str(p) for p in (row["contact_name"], row["contact"]) if p)
    text = row["text"]
    if not text:
        return f"{who}: ({row['type']})"
    snippet = " ".join(str(text).split())
    if len(snippet) > SNIPPET_CHARACTERS:
        snippet = snippet[: SNIPPET_CHARACTERS - 1].rstrip() + "…"
    return f'{who}: "{snippet}"'


def _status_gist(status: dict[str, Any]) -> str:
    recipient = str_of(status.get("recipient_id"), 64) or "?"
    line = f"{str_of(status.get('status'), 32) or '?'} {'+' + recipient if recipient.isdigit() else recipient}"
    code, title, _details = first_error(status.get("errors"))
    if code is not None or title:
        line += ": " + " ".join(str(p) for p in (code, title) if p)
    return line


def replay_events(ctx: CommandContext, event_id: int | None) -> list[tuple[int | None, Outcome]]:
    """`waba events replay`: apply the event ``event_id`` (None: every failed or unapplied one) again,
    each in its own transaction as the writer would; returns each event's id and outcome."""
    store = open_store(ctx.settings)
    try:
        with store.engine.connect() as conn:
            with conn.begin():
                directory = Directory.load(conn)
                deliveries = _events_to_replay(conn, event_id)
            return [(delivery.event_id, apply_stored(conn, delivery, directory)) for delivery in deliveries]
    finally:
        store.dispose()


def prune_events(ctx: CommandContext, before: datetime) -> tuple[int, int]:
    """`waba events prune`: delete applied events received before ``before``; returns (events deleted,
    failed/unapplied kept).

    Messages, statuses and health logs (what analytics and ``message list`` read) are separate rows
    and stay; events not applied yet are kept whatever their age, so nothing is lost unapplied.
    """
    e = WEBHOOK_EVENT.c
    with ctx.db.engine.connect() as conn, conn.begin():
        deleted = conn.execute(delete(WEBHOOK_EVENT).where(e.received_at < before, e.status == "applied")).rowcount
        kept = conn.execute(
            select(func.count()).select_from(WEBHOOK_EVENT).where(e.received_at < before, e.status != "applied")
        ).scalar_one()
        keys_before = min(before, utcnow() - RETRY_HORIZON)
        conn.execute(delete(WEBHOOK_ITEM).where(WEBHOOK_ITEM.c.applied_at < keys_before))
    return deleted, kept


# -- the queries -------------------------------------------------------------------------------


def _select(conn: Connection, query: EventQuery, *, gist: bool = False) -> list[StoredEvent]:
    e = WEBHOOK_EVENT.c
    columns = [e.id, e.received_at, e.field, e.status, e.summary, e.error, e.account_id]
    statement = select(*columns, e.body) if gist else select(*columns)
    if query.field:
        # `field` holds the delivery's distinct fields, comma-separated
        statement = statement.where(
            (e.field == query.field)
            | e.field.like(f"{query.field},%")
            | e.field.like(f"%,{query.field}")
            | e.field.like(f"%,{query.field},%")
        )
    if query.failed:
        statement = statement.where(e.status == "failed")
    if query.since is not None:
        statement = statement.where(e.received_at >= query.since)
    if query.after_id is not None:
        statement = statement.where(e.id > query.after_id)
    order = e.id.asc() if query.oldest_first else e.id.desc()
    rows = conn.execute(statement.order_by(order).limit(query.limit))
    if not gist:
        return [StoredEvent(**_summary_of(row)) for row in rows]
    return [StoredEvent(**_summary_of(row), gist=_body_gist(row.body)) for row in rows]


def _body_gist(body: bytes) -> tuple[str, ...]:
    try:
        return gist_of(parse_body(body))
    except ValueError:
        return ()


_SUMMARY = ("id", "received_at", "field", "status", "summary", "error", "account_id")


def _summary_of(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _SUMMARY}


def _get_event(conn: Connection, event_id: int) -> Row[Any]:
    """One stored event with its raw body and headers (NotFoundError when there is none)."""
    row = conn.execute(select(WEBHOOK_EVENT).where(WEBHOOK_EVENT.c.id == event_id)).first()
    if row is None:
        raise NotFoundError(f"no event {event_id}", "see `waba events list`")
    return row


def _events_to_replay(conn: Connection, event_id: int | None) -> list[Delivery]:
    """The event ``event_id``, or (None) every failed or not yet applied event, oldest first."""
    if event_id is None:
        return unapplied_events(conn, include_failed=True)
    row = _get_event(conn, event_id)
    return [stored_delivery(row.id, row.body, row.received_at)]
