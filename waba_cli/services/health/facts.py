"""What the store says about an account's health: webhook deliveries, outbound messages, Flow
alerts. Read with the models (serve-webhook and sending wrote them), never through their services."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from waba_cli.db.models.accounts import Account
from waba_cli.db.models.logs import AccountHealthLog
from waba_cli.db.models.messages import Message
from waba_cli.db.models.webhooks import WebhookEvent
from waba_cli.db.timestamps import aware
from waba_cli.domain.health import FlowEvent

FAILED_WINDOW = timedelta(hours=24)  # deliveries that failed to apply
FLOW_ALERTS_WINDOW = timedelta(days=30)  # an endpoint alert stays active until Meta deactivates it
# outbound messages the API answered: queued and sending ones have no verdict yet
_ANSWERED = ("accepted", "sent", "delivered", "read", "failed")


def last_delivery_at(session: Session, account: Account) -> datetime | None:
    """When the newest webhook delivery for the account was stored."""
    at = session.exec(select(func.max(WebhookEvent.received_at)).where(WebhookEvent.account_id == account.id)).one()
    return aware(at) if at is not None else None


def failed_deliveries(session: Session, account: Account, now: datetime) -> int:
    """Deliveries of the last 24 hours that were stored but failed to apply (replayable)."""
    query = (
        select(func.count())
        .select_from(WebhookEvent)
        .where(
            WebhookEvent.account_id == account.id,
            WebhookEvent.status == "failed",
            col(WebhookEvent.received_at) >= now - FAILED_WINDOW,
        )
    )
    return int(session.exec(query).one())


def outbound(session: Session, account: Account, since: datetime) -> tuple[int, int, list[tuple[int | None, int]]]:
    """Outbound messages answered since ``since``: how many, how many failed, the commonest error codes."""
    recent = (
        Message.account_id == account.id,
        Message.direction == "out",
        col(Message.created_at) >= since,
        col(Message.status).in_(_ANSWERED),
    )
    total = int(session.exec(select(func.count()).select_from(Message).where(*recent)).one())
    counted = func.count().label("n")
    codes = session.exec(
        select(Message.error_code, counted)
        .where(*recent, Message.status == "failed")
        .group_by(col(Message.error_code))
        .order_by(counted.desc())
    ).all()
    failed = sum(int(n) for _, n in codes)
    return total, failed, [(code, int(n)) for code, n in codes]


def flow_events(session: Session, account: Account, now: datetime) -> list[FlowEvent]:
    """The ``flows`` webhooks (§8.10) the account received in the last 30 days."""
    rows = session.exec(
        select(AccountHealthLog.checked_at, AccountHealthLog.data).where(
            AccountHealthLog.account_id == account.id,
            AccountHealthLog.source == "webhook",
            AccountHealthLog.check == "flows",
            col(AccountHealthLog.checked_at) >= now - FLOW_ALERTS_WINDOW,
        )
    ).all()
    return [FlowEvent(aware(at), data or {}) for at, data in rows]
