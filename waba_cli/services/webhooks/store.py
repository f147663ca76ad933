"""The webhook event log: every delivery's raw body and headers (``webhook_event``) and how applying it went.

``commit_batch`` is the writer's group commit: a batch stored and applied (``apply``) in one
transaction or, when applying it fails, stored alone (still before the 200) and applied one by
one with ``apply_stored``. Events stored but not applied (a failure, a crash in between) are found
again by ``unapplied_events``. New rows go in through ``db.bulk``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, select, update

from waba_cli.db import bulk
from waba_cli.db.models.accounts import Account
from waba_cli.db.models.base import table_of
from waba_cli.db.models.bot import AutoReply
from waba_cli.db.models.webhooks import WebhookEvent, WebhookItem
from waba_cli.db.timestamps import utcnow
from waba_cli.secrets import DROPPED
from waba_cli.services.webhooks.apply import ERROR_LEN, Directory, Outcome, execute, plan
from waba_cli.services.webhooks.parse import Delivery, Keys, fields_of, one_line, parse_body

if TYPE_CHECKING:
    from waba_cli.db.engine import Database
    from waba_cli.secrets import Cipher
    from waba_cli.settings import Settings

WEBHOOK_EVENT = table_of(WebhookEvent)
WEBHOOK_ITEM = table_of(WebhookItem)
AUTO_REPLY = table_of(AutoReply)
ACCOUNT = table_of(Account)


# -- what the writer reads: keys, pending replies, its database ------------------------------


def load_keys(db: Database, cipher: Cipher) -> Keys:
    """Decrypt every account's app secret and verify token (the key must be available)."""
    secrets: dict[str, set[int]] = {}
    tokens: list[str] = []
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(ACCOUNT.c.id, ACCOUNT.c.name, ACCOUNT.c.app_secret_enc, ACCOUNT.c.webhook_verify_token_enc)
        ).all()
    for account_id, name, secret_enc, token_enc in rows:
        if secret_enc == DROPPED:  # `waba secrets reset` dropped it: that account's deliveries are refused
            continue
        secret = cipher.decrypt(secret_enc, f"the app secret of {name}")
        secrets.setdefault(secret, set()).add(account_id)
        if token_enc:
            tokens.append(cipher.decrypt(token_enc, f"the webhook verify token of {name}"))
    return Keys(secrets, tokens)


def replies_pending(conn: Connection) -> bool:
    """True when an auto-reply waits to be sent (planned by this instance or another, or left by a crash)."""
    found = conn.execute(select(AUTO_REPLY.c.id).where(AUTO_REPLY.c.status == "pending").limit(1)).first()
    return found is not None


def open_store(settings: Settings) -> Database:
    """The database as the webhook store uses it: BEGIN IMMEDIATE and the configured SQLite sync mode."""
    from waba_cli.db.engine import open_database

    return open_database(
        settings.database_url,
        sqlite_synchronous=settings.webhook_sqlite_synchronous,
        sqlite_immediate=True,
        create=False,
    )


# -- the event log, and the batch as the writer commits it -------------------------------------


def _event_row(delivery: Delivery, outcome: Outcome | None, now: datetime) -> dict[str, Any]:
    applied = outcome is not None and outcome.error is None
    return {
        "account_id": outcome.account_id if outcome else None,
        "received_at": delivery.received_at,
        "field": outcome.field_text if outcome else fields_of(delivery.payload),
        "body": delivery.body,
        "headers": delivery.headers,
        "body_sha256": hashlib.sha256(delivery.body).hexdigest(),
        "status": "received" if outcome is None else ("applied" if applied else "failed"),
        "error": outcome.error if outcome else None,
        "summary": outcome.summary if outcome else None,
        "applied_at": now if applied else None,
    }


def _store(conn: Connection, deliveries: Sequence[Delivery], outcomes: Sequence[Outcome] | None, now: datetime) -> None:
    rows = [_event_row(d, outcomes[i] if outcomes else None, now) for i, d in enumerate(deliveries)]
    # identical bodies are interchangeable: their hash tells the rows apart
    for delivery, event_id in zip(deliveries, bulk.insert_ids(conn, WEBHOOK_EVENT, rows, "body_sha256"), strict=True):
        delivery.event_id = event_id


@dataclass
class BatchResult:
    """How a batch went: the outcomes (None for a delivery stored but not applied yet)."""

    outcomes: list[Outcome | None]
    replies: int = 0  # auto-replies planned (rows inserted ``pending`` unless already there)
    deferred: bool = False  # applying the batch failed; its events were stored and wait for apply_stored


def commit_batch(conn: Connection, deliveries: Sequence[Delivery], directory: Directory) -> BatchResult:
    """Store and apply a batch in one transaction; on failure store the raw events alone.

    Raises only when even storing the raw events failed (then nothing may be acknowledged).
    """
    now = utcnow()
    try:
        with conn.begin():
            work = plan(deliveries, directory, now)
            execute(conn, work)
            _store(conn, deliveries, work.outcomes, now)
            if work.claimed:
                conn.execute(
                    update(WEBHOOK_ITEM).where(WEBHOOK_ITEM.c.key == bindparam("k")).values(event_id=bindparam("e")),
                    [{"k": key, "e": deliveries[index].event_id} for key, index in work.claimed],
                )
        return BatchResult(list(work.outcomes), replies=len(work.replies))
    except Exception:  # noqa: BLE001 - whatever went wrong, the raw events are stored below
        for delivery in deliveries:
            delivery.event_id = None
    with conn.begin():
        _store(conn, deliveries, None, now)
    return BatchResult([None] * len(deliveries), deferred=True)


def apply_stored(conn: Connection, delivery: Delivery, directory: Directory) -> Outcome:
    """Apply one stored event in its own transaction and record how it went on its row."""
    now = utcnow()
    try:
        with conn.begin():
            work = plan([delivery], directory, now)
            execute(conn, work)
            outcome = work.outcomes[0]
            _mark(conn, delivery.event_id, outcome, now)
    except Exception as exc:  # noqa: BLE001 - recorded on the event, for `waba events replay`
        outcome = Outcome(error=f"{type(exc).__name__}: {one_line(exc)}"[:ERROR_LEN])
        with conn.begin():
            _mark(conn, delivery.event_id, outcome, now)
    return outcome


def _mark(conn: Connection, event_id: int | None, outcome: Outcome, now: datetime) -> None:
    if event_id is None:
        return
    applied = outcome.error is None
    conn.execute(
        update(WEBHOOK_EVENT)
        .where(WEBHOOK_EVENT.c.id == event_id)
        .values(
            status="applied" if applied else "failed",
            error=outcome.error,
            summary=outcome.summary if applied or outcome.fields else None,
            applied_at=now if applied else None,
        )
    )


def stored_delivery(event_id: int, body: bytes, received_at: datetime) -> Delivery:
    """A stored event as a delivery to apply again (its signature was checked when it arrived)."""
    try:
        payload = parse_body(body)
    except ValueError:
        payload = None
    return Delivery(body=body, payload=payload, received_at=received_at, event_id=event_id)


def unapplied_events(conn: Connection, *, include_failed: bool = False, limit: int | None = None) -> list[Delivery]:
    """Stored events not applied yet (oldest first); with ``include_failed`` the failed ones too."""
    statuses = ["received", "failed"] if include_failed else ["received"]
    query = (
        select(WEBHOOK_EVENT.c.id, WEBHOOK_EVENT.c.body, WEBHOOK_EVENT.c.received_at)
        .where(WEBHOOK_EVENT.c.status.in_(statuses))
        .order_by(WEBHOOK_EVENT.c.id)
    )
    if limit:
        query = query.limit(limit)
    return [stored_delivery(i, b, r) for i, b, r in conn.execute(query)]
