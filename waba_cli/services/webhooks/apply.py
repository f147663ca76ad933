"""What each change of a delivery does: inbound messages, statuses, auto-replies, business events.

``plan`` turns a batch of deliveries into rows, in pure Python: it routes each change to its
account (``Directory``), keeps one row per inbound wamid and per (wamid, status), and folds the
statuses of a message into its furthest one by ``domain.statuses``. ``execute`` writes them in the
caller's transaction: inbound messages, status history and auto-replies through ``db.bulk``
(insert-or-ignore, batched), Flow completions as responses (``services.flows.tokens``), message
statuses through ``db.messages`` (the one forward-only status UPDATE), and each business event
(template, phone number, account, flow, async error) once by its key, in a savepoint, by the
handler of its field.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from waba_cli.db import bulk
from waba_cli.db.messages import apply_statuses, lock_wamids, status_change
from waba_cli.db.models.accounts import Account, PhoneNumber
from waba_cli.db.models.base import table_of
from waba_cli.db.models.bot import AutoReply
from waba_cli.db.models.flows import Flow
from waba_cli.db.models.logs import AccountHealthLog
from waba_cli.db.models.messages import Message, MessageStatus
from waba_cli.db.models.webhooks import WebhookItem
from waba_cli.db.timestamps import utcnow
from waba_cli.domain.statuses import may_replace
from waba_cli.services.flows.tokens import record_completions
from waba_cli.services.webhooks.parse import (
    Delivery,
    contacts_of,
    digits_of,
    first_error,
    inbound_row,
    item_key,
    one_line,
    status_row,
    str_of,
    timestamp_of,
    value_at,
)

TEMPLATE_FIELDS = frozenset(
    {
        "message_template_status_update",
        "message_template_quality_update",
        "template_category_update",
        "message_template_components_update",
    }
)
# inbound types the bot answers; reactions, system notices and unsupported messages get no reply
REPLYABLE_TYPES = frozenset(
    {
        "text",
        "image",
        "video",
        "audio",
        "document",
        "sticker",
        "location",
        "contacts",
        "interactive",
        "button",
        "order",
    }
)
# what is kept of an error on an event (the outcome of applying it)
ERROR_LEN = 500


MESSAGE = table_of(Message)
MESSAGE_STATUS = table_of(MessageStatus)
WEBHOOK_ITEM = table_of(WebhookItem)
AUTO_REPLY = table_of(AutoReply)
HEALTH_LOG = table_of(AccountHealthLog)
PHONE_NUMBER = table_of(PhoneNumber)
ACCOUNT = table_of(Account)
FLOW = table_of(Flow)


# -- where a change belongs --------------------------------------------------------------------


@dataclass
class Directory:
    """Local ids that webhook changes are routed by, loaded from the database."""

    by_phone_number_id: dict[str, int] = field(default_factory=dict)  # -> account id
    by_waba_id: dict[str, int] = field(default_factory=dict)
    by_digits: dict[str, tuple[int, str]] = field(default_factory=dict)  # E.164 digits -> (account, pnid)
    auto_reply: frozenset[int] = frozenset()

    @classmethod
    def load(cls, conn: Connection) -> Directory:
        directory = cls()
        for account_id, waba_id, auto in conn.execute(
            select(ACCOUNT.c.id, ACCOUNT.c.waba_id, ACCOUNT.c.enable_auto_reply)
        ):
            directory.by_waba_id[waba_id] = account_id
            if auto:
                directory.auto_reply |= {account_id}
        for account_id, pnid, number in conn.execute(
            select(PHONE_NUMBER.c.account_id, PHONE_NUMBER.c.phone_number_id, PHONE_NUMBER.c.phone_number)
        ):
            directory.by_phone_number_id[pnid] = account_id
            directory.by_digits[digits_of(number)] = (account_id, pnid)
        return directory


# -- one delivery, as received and as applied --------------------------------------------------


@dataclass
class Outcome:
    """What applying one delivery did: for the event row, the log line and ``events replay``."""

    fields: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    account_id: int | None = None
    error: str | None = None

    @property
    def field_text(self) -> str | None:
        return ",".join(self.fields)[:255] or None

    @property
    def summary(self) -> str:
        parts = [_plural(self.counts[k], k) for k in _LABELS if self.counts.get(k)]
        return "; ".join([", ".join(parts), *self.notes] if parts else self.notes) or "nothing to apply"

    def add_field(self, name: str) -> None:
        if name not in self.fields:
            self.fields.append(name)


_LABELS = {
    "inbound": ("inbound message", "inbound messages"),
    "status": ("status", "statuses"),
    "error": ("async error", "async errors"),
    "event": ("business event", "business events"),
    "foreign": ("change for another app's account, skipped", "changes for other apps' accounts, skipped"),
    "skipped": ("malformed item skipped", "malformed items skipped"),
    "unknown": ("change of an unknown field, kept", "changes of unknown fields, kept"),
}


def _plural(count: int, what: str) -> str:
    one, many = _LABELS.get(what, (what, what))
    return f"{count} {one if count == 1 else many}"


# -- planning: the rows a batch of deliveries turns into ---------------------------------------


@dataclass
class _Item:
    """A business change without a natural key, applied once per ``key``."""

    delivery: int
    account_id: int | None
    field: str
    value: Any
    key: str
    phone: tuple[int, str] | None = None


@dataclass
class _Plan:
    now: datetime
    outcomes: list[Outcome]
    inbound: dict[str, dict[str, Any]] = field(default_factory=dict)
    history: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    updates: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: list[_Item] = field(default_factory=list)
    replies: dict[str, dict[str, Any]] = field(default_factory=dict)
    misses: int = 0
    event_ids: list[int | None] = field(default_factory=list)
    # business changes this plan applied first, by delivery index: their webhook_item rows name the event
    claimed: list[tuple[str, int]] = field(default_factory=list)


def plan(deliveries: Sequence[Delivery], directory: Directory, now: datetime | None = None) -> _Plan:
    """Turn deliveries into rows to write; pure Python, never raises on any JSON."""
    result = _Plan(now or utcnow(), [Outcome() for _ in deliveries], event_ids=[d.event_id for d in deliveries])
    for index, delivery in enumerate(deliveries):
        _plan_delivery(result, index, delivery, directory)
    return result


def _plan_delivery(result: _Plan, index: int, delivery: Delivery, directory: Directory) -> None:
    outcome = result.outcomes[index]
    payload = delivery.payload
    entries = payload.get("entry") if isinstance(payload, dict) else None
    if not isinstance(entries, list):
        outcome.notes.append("no entries")
        return
    for entry in entries:
        if not isinstance(entry, dict):
            outcome.counts["skipped"] += 1
            continue
        waba_id = str_of(entry.get("id"), 32)
        changes = entry.get("changes")
        for change in changes if isinstance(changes, list) else ():
            if not isinstance(change, dict):
                outcome.counts["skipped"] += 1
                continue
            name = str_of(change.get("field"), 64) or "(none)"
            outcome.add_field(name)
            value = change.get("value")
            if not isinstance(value, dict):
                outcome.counts["skipped"] += 1
                continue
            _plan_change(result, index, delivery, directory, waba_id, entry.get("time"), name, value)


def _plan_change(
    result: _Plan,
    index: int,
    delivery: Delivery,
    directory: Directory,
    waba_id: str | None,
    entry_time: Any,
    name: str,
    value: dict[str, Any],
) -> None:
    outcome = result.outcomes[index]
    metadata = value.get("metadata")
    pnid = str_of(metadata.get("phone_number_id"), 32) if isinstance(metadata, dict) else None
    phone = None
    if pnid is not None and pnid in directory.by_phone_number_id:
        account_id: int | None = directory.by_phone_number_id[pnid]
    else:
        display = digits_of(str_of(value.get("display_phone_number"), 32) or "")
        phone = directory.by_digits.get(display) if display else None
        account_id = phone[0] if phone else directory.by_waba_id.get(waba_id or "")
    if account_id is None and (pnid or waba_id):
        result.misses += 1
    if account_id is not None and delivery.signed_for is not None and account_id not in delivery.signed_for:
        outcome.counts["foreign"] += 1
        return
    if outcome.account_id is None:
        outcome.account_id = account_id
    if name == "messages":
        _plan_messages(result, index, directory, account_id, pnid, value)
        return
    known = name in TEMPLATE_FIELDS or name in _HANDLERS
    if not known:
        outcome.counts["unknown"] += 1
        return
    outcome.counts["event"] += 1
    key = item_key(waba_id, entry_time, name, value)
    result.items.append(_Item(index, account_id, name, value, key, phone))
    label = str_of(value.get("message_template_name"), 60) or str_of(value.get("event"), 60)
    if label:
        outcome.ids.append(label)


def _plan_messages(
    result: _Plan, index: int, directory: Directory, account_id: int | None, pnid: str | None, value: dict[str, Any]
) -> None:
    outcome = result.outcomes[index]
    contacts = contacts_of(value.get("contacts"))
    messages = value.get("messages")
    for message in messages if isinstance(messages, list) else ():
        row = inbound_row(result.now, account_id, pnid, message, contacts)
        if row is None:
            outcome.counts["skipped"] += 1
            continue
        outcome.counts["inbound"] += 1
        outcome.ids.append(row["wamid"])
        result.inbound.setdefault(row["wamid"], row)
        if (
            account_id in directory.auto_reply
            and pnid
            and row["type"] in REPLYABLE_TYPES
            and row["wamid"] not in result.replies
        ):
            result.replies[row["wamid"]] = {
                "account_id": account_id,
                "inbound_wamid": row["wamid"],
                "phone_number_id": pnid,
                "contact": row["contact"],
                "status": "pending",
                "kind": None,
                "text": None,
                "reply_wamid": None,
                "error": None,
                "created_at": result.now,
                "updated_at": result.now,
            }
    statuses = value.get("statuses")
    for status in statuses if isinstance(statuses, list) else ():
        history = status_row(result.now, account_id, pnid, status)
        if history is None:
            outcome.counts["skipped"] += 1
            continue
        outcome.counts["status"] += 1
        outcome.ids.append(history["wamid"])
        result.history.setdefault((history["wamid"], history["status"]), history)
        best = result.updates.get(history["wamid"])
        if may_replace(best["status"] if best else None, history["status"]):
            # pricing and callback data come with one status only (sent, or delivered/read): keep them
            carried = {k: best[k] for k in ("pricing", "biz_opaque_callback_data") if best and best[k] is not None}
            result.updates[history["wamid"]] = {**history, **carried}
        elif best is not None:
            for key in ("pricing", "biz_opaque_callback_data"):
                if best[key] is None:
                    best[key] = history[key]
    errors = value.get("errors")
    for error in errors if isinstance(errors, list) else ():
        if not isinstance(error, dict):
            continue
        outcome.counts["error"] += 1
        key = item_key(pnid, None, "messages.errors", error)
        result.items.append(_Item(index, account_id, "messages.errors", error, key))


# -- executing a plan --------------------------------------------------------------------------


def _update_rows(work: _Plan) -> list[dict[str, Any]]:
    return [
        status_change(
            wamid,
            u["status"],
            u["status_at"] or work.now,
            work.now,
            error_code=u["error_code"],
            error_title=u["error_title"],
            error_details=u["error_details"],
            pricing=u["pricing"],
            callback_data=u["biz_opaque_callback_data"],
        )
        for wamid, u in sorted(work.updates.items())
    ]


def execute(conn: Connection, work: _Plan) -> None:
    """Write a plan inside the caller's transaction (sorted keys keep PostgreSQL's lock order stable)."""
    if work.inbound:
        rows = [work.inbound[k] for k in sorted(work.inbound)]
        bulk.executemany(conn, bulk.insert_ignore(conn, MESSAGE, ["wamid"]), rows)
        record_completions(conn, [row for row in rows if row["type"] == "interactive"])
    if work.updates:
        lock_wamids(conn, work.updates)
    if work.history:
        rows = [work.history[k] for k in sorted(work.history)]
        bulk.executemany(conn, bulk.insert_ignore(conn, MESSAGE_STATUS, ["wamid", "status"]), rows)
    if work.updates:
        apply_statuses(conn, "wamid", _update_rows(work))
    if work.replies:
        rows = [work.replies[k] for k in sorted(work.replies)]
        conn.execute(bulk.insert_ignore(conn, AUTO_REPLY, ["inbound_wamid"]), rows)
    for item in work.items:
        _apply_item(conn, work, item)


def _apply_item(conn: Connection, work: _Plan, item: _Item) -> None:
    """Apply one business change once (its key), in a savepoint so a failure stays its own."""
    outcome = work.outcomes[item.delivery]
    try:
        with conn.begin_nested():
            claimed = bulk.insert_new(
                conn,
                WEBHOOK_ITEM,
                ["key"],
                {
                    "key": item.key,
                    "field": item.field[:64],
                    "event_id": work.event_ids[item.delivery],
                    "applied_at": work.now,
                },
            )
            if not claimed:
                outcome.notes.append(f"{item.field}: already applied")
                return
            work.claimed.append((item.key, item.delivery))
            note = _HANDLERS.get(item.field, _apply_template)(conn, work.now, item)
    except Exception as exc:  # noqa: BLE001 - one bad change must not stop the batch; replayable
        outcome.error = f"{item.field}: {type(exc).__name__}: {one_line(exc)}"[:ERROR_LEN]
        outcome.notes.append(outcome.error)
        return
    if note:
        outcome.notes.append(note)


def _health(
    conn: Connection, now: datetime, account_id: int | None, check: str, status: str, detail: str, data: Any
) -> None:
    if account_id is None:
        return
    conn.execute(
        insert(HEALTH_LOG),
        {
            "account_id": account_id,
            "checked_at": now,
            "source": "webhook",
            "check": check[:64],
            "status": status,
            "detail": detail,
            "data": data if isinstance(data, dict) else {"value": data},
        },
    )


def _apply_template(conn: Connection, now: datetime, item: _Item) -> str:
    from sqlmodel import Session

    from waba_cli.services.templates.events import apply_template_webhook

    session = Session(bind=conn, join_transaction_mode="rollback_only")
    try:
        note = apply_template_webhook(session, item.account_id, item.field, item.value)
        session.flush()
    finally:
        session.close()
    if isinstance(item.value, dict):
        status, detail = _template_health(item.field, item.value)
        _health(conn, now, item.account_id, "template", status, detail, item.value)
    return note


# template statuses (reference §3.5) and quality scores that need the operator's attention;
# anything else (APPROVED, REINSTATED, PENDING, GREEN, statuses Meta adds later ...) is OK
_TEMPLATE_HEALTH = {
    "PAUSED": "WARNING",
    "FLAGGED": "WARNING",
    "IN_APPEAL": "WARNING",
    "PENDING_DELETION": "WARNING",
    "LIMIT_EXCEEDED": "WARNING",
    "LOCKED": "WARNING",
    "YELLOW": "WARNING",
    "REJECTED": "CRITICAL",
    "DISABLED": "CRITICAL",
    "RED": "CRITICAL",
}


def _template_health(field: str, value: dict[str, Any]) -> tuple[str, str]:
    """The health-log status and detail of one template webhook change (reference §8.7)."""
    from waba_cli.domain.templates.forms import normalize_language

    language = str_of(value.get("message_template_language"), 32)
    label = f"template {str_of(value.get('message_template_name'), 512) or '?'} {normalize_language(language or '?')}"
    quality = (str_of(value.get("new_quality_score"), 32) or "").upper()
    if field == "message_template_quality_update" or (quality and "event" not in value):
        before = (str_of(value.get("previous_quality_score"), 32) or "?").upper()
        return _TEMPLATE_HEALTH.get(quality, "OK"), f"{label}: quality {before} -> {quality or '?'}"
    if field == "template_category_update":
        current = (str_of(value.get("new_category"), 32) or "?").upper()
        coming = str_of(value.get("correct_category"), 32)
        if coming:  # the impending variant, about a day before Meta changes it
            when = timestamp_of(value.get("category_update_timestamp"))
            on = f" on {when:%Y-%m-%d %H:%M} UTC" if when else ""
            return "WARNING", f"{label}: category {current} will become {coming.upper()}{on}"
        before = (str_of(value.get("previous_category"), 32) or "?").upper()
        return "WARNING", f"{label}: category {before} -> {current}"
    if field == "message_template_components_update":
        return "OK", f"{label}: components updated"
    event = (str_of(value.get("event"), 32) or "UNKNOWN").upper()
    reason = (str_of(value.get("reason"), 64) or "NONE").upper()
    title = str_of(value_at(value, "other_info", "title"), 64)
    why = [text for text in (None if reason == "NONE" else reason, title) if text]
    detail = f"{label}: {event}" + (f" ({', '.join(why)})" if why else "")
    return _TEMPLATE_HEALTH.get(event, "OK"), detail


def _apply_phone_quality(conn: Connection, now: datetime, item: _Item) -> str:
    value = item.value
    event = (str_of(value.get("event"), 64) or "UNKNOWN").upper()
    limit = str_of(value.get("max_daily_conversations_per_business"), 32) or str_of(value.get("current_limit"), 32)
    changes: dict[str, Any] = {"updated_at": now}
    if limit:
        changes["messaging_limit"] = limit
    if event == "THROUGHPUT_UPGRADE":
        changes["throughput_level"] = "HIGH"
    number = item.phone[1] if item.phone else None
    if number:
        conn.execute(update(PHONE_NUMBER).where(PHONE_NUMBER.c.phone_number_id == number).values(**changes))
    status = {"FLAGGED": "WARNING", "DOWNGRADE": "WARNING"}.get(event, "OK")
    display = str_of(value.get("display_phone_number"), 32) or "?"
    old = str_of(value.get("old_limit"), 32)
    detail = f"{display}: {event}" + (f", limit {old + ' -> ' if old else ''}{limit}" if limit else "")
    _health(conn, now, item.account_id, item.field, status, detail, value)
    return detail + ("" if number else " (number not known locally)")


def _apply_phone_name(conn: Connection, now: datetime, item: _Item) -> str:
    value = item.value
    decision = (str_of(value.get("decision"), 32) or "UNKNOWN").upper()
    requested = str_of(value.get("requested_verified_name"), 255)
    number = item.phone[1] if item.phone else None
    if number:
        changes: dict[str, Any] = {"name_status": decision, "updated_at": now}
        if decision == "APPROVED" and requested:
            changes["verified_name"] = requested
        conn.execute(update(PHONE_NUMBER).where(PHONE_NUMBER.c.phone_number_id == number).values(**changes))
    status = {"REJECTED": "WARNING", "DEFERRED": "WARNING"}.get(decision, "OK")
    reason = str_of(value.get("rejection_reason"), 64)
    detail = f"display name {requested!r}: {decision}" + (f" ({reason})" if reason else "")
    _health(conn, now, item.account_id, item.field, status, detail, value)
    return detail


_BAN_STATES = {
    "DISABLE": ("CRITICAL", "DISABLED"),
    "SCHEDULE_FOR_DISABLE": ("WARNING", None),
    "REINSTATE": ("OK", "ACTIVE"),
}
_ACCOUNT_EVENTS = {
    "ACCOUNT_VIOLATION": "WARNING",
    "ACCOUNT_RESTRICTION": "WARNING",
    "ACCOUNT_DELETED": "CRITICAL",
    "DISABLED_ACCOUNT": "CRITICAL",
    "BANNED_ACCOUNT": "CRITICAL",
}


def _apply_account_update(conn: Connection, now: datetime, item: _Item) -> str:
    value = item.value
    event = (str_of(value.get("event"), 64) or "UNKNOWN").upper()
    status = _ACCOUNT_EVENTS.get(event, "OK")
    new_state = {"ACCOUNT_DELETED": "DELETED", "DISABLED_ACCOUNT": "DISABLED", "BANNED_ACCOUNT": "BANNED"}.get(event)
    detail = event
    if event == "DISABLED_UPDATE":
        ban = value.get("ban_info")
        state = value_at(ban, "waba_ban_state")
        state_text = (str_of(state[0] if isinstance(state, list) and state else state, 32) or "").upper()
        status, new_state = _BAN_STATES.get(state_text, ("WARNING", None))
        date = str_of(value_at(ban, "waba_ban_date"), 64)
        detail = f"{event}: {state_text or '?'}" + (f" on {date}" if date else "")
    elif event == "ACCOUNT_VIOLATION":
        detail = f"{event}: {str_of(value_at(value, 'violation_info', 'violation_type'), 64) or '?'}"
    elif event == "ACCOUNT_RESTRICTION":
        restrictions = value.get("restriction_info")
        kinds = (
            [str_of(value_at(r, "restriction_type"), 64) for r in restrictions]
            if isinstance(restrictions, list)
            else []
        )
        detail = f"{event}: {', '.join(k for k in kinds if k) or '?'}"
    if new_state and item.account_id is not None:
        conn.execute(update(ACCOUNT).where(ACCOUNT.c.id == item.account_id).values(status=new_state, updated_at=now))
    _health(conn, now, item.account_id, item.field, status, detail, value)
    return detail


def _apply_account_review(conn: Connection, now: datetime, item: _Item) -> str:
    decision = (str_of(item.value.get("decision"), 32) or "UNKNOWN").upper()
    if item.account_id is not None:
        conn.execute(
            update(ACCOUNT)
            .where(ACCOUNT.c.id == item.account_id)
            .values(account_review_status=decision, updated_at=now)
        )
    status = {"REJECTED": "CRITICAL", "PENDING": "WARNING", "DEFERRED": "WARNING"}.get(decision, "OK")
    detail = f"account review: {decision}"
    _health(conn, now, item.account_id, item.field, status, detail, item.value)
    return detail


def _apply_capability(conn: Connection, now: datetime, item: _Item) -> str:
    value = item.value
    limit = str_of(value.get("max_daily_conversations_per_business"), 32) or str_of(
        value.get("max_daily_conversation_per_phone"), 32
    )
    if limit and item.account_id is not None:
        conn.execute(
            update(PHONE_NUMBER)
            .where(PHONE_NUMBER.c.account_id == item.account_id)
            .values(messaging_limit=limit, updated_at=now)
        )
    detail = f"messaging limit {limit or '?'}"
    numbers = str_of(value.get("max_phone_numbers_per_waba"), 16)
    if numbers:
        detail += f", up to {numbers} numbers per WABA"
    _health(conn, now, item.account_id, item.field, "OK", detail, value)
    return detail


def _apply_alert(conn: Connection, now: datetime, item: _Item) -> str:
    info = item.value.get("alert_info")
    severity = (str_of(value_at(info, "alert_severity"), 32) or "").upper()
    active = (str_of(value_at(info, "alert_status"), 32) or "ACTIVE").upper() != "NONE"
    status = {"CRITICAL": "CRITICAL", "WARNING": "WARNING"}.get(severity, "OK") if active else "OK"
    kind = str_of(value_at(info, "alert_type"), 64) or "?"
    description = str_of(value_at(info, "alert_description"), 300)
    detail = f"{kind}" + (f": {description}" if description else "")
    _health(conn, now, item.account_id, item.field, status, detail, item.value)
    return f"alert {kind} ({severity or '?'})"


def _apply_security(conn: Connection, now: datetime, item: _Item) -> str:
    event = (str_of(item.value.get("event"), 64) or "UNKNOWN").upper()
    status = "WARNING" if event == "PIN_RESET_REQUEST" else "OK"
    detail = f"{str_of(item.value.get('display_phone_number'), 32) or '?'}: {event}"
    _health(conn, now, item.account_id, item.field, status, detail, item.value)
    return detail


def _apply_flow(conn: Connection, now: datetime, item: _Item) -> str:
    value = item.value
    event = (str_of(value.get("event"), 64) or "UNKNOWN").upper()
    flow_id = str_of(value.get("flow_id"), 32)
    status = "OK"
    if event == "FLOW_STATUS_CHANGE":
        new_status = (str_of(value.get("new_status"), 32) or "").upper()
        if flow_id and new_status:
            conn.execute(update(FLOW).where(FLOW.c.flow_id == flow_id).values(status=new_status, updated_at=now))
        status = "WARNING" if new_status in ("BLOCKED", "THROTTLED", "DEPRECATED") else "OK"
    elif event == "FLOW_VERSION_EXPIRY_WARNING" or (str_of(value.get("alert_state"), 32) or "").upper() == "ACTIVATED":
        status = "WARNING"
    detail = str_of(value.get("message"), 300) or f"flow {flow_id or '?'}: {event}"
    _health(conn, now, item.account_id, item.field, status, detail, value)
    return f"flow {flow_id or '?'}: {event}"


def _apply_async_error(conn: Connection, now: datetime, item: _Item) -> str:
    code, title, details = first_error([item.value])
    detail = f"{code or '?'} {title or ''}".strip() + (f": {details}" if details else "")
    _health(conn, now, item.account_id, "webhook_error", "WARNING", detail, item.value)
    return f"error {detail}"


def _apply_noted(conn: Connection, now: datetime, item: _Item) -> str:
    preferences = item.value.get("user_preferences")
    count = len(preferences) if isinstance(preferences, list) else 0
    return f"{item.field}: {count} preference change(s) kept in the event"


_HANDLERS: dict[str, Any] = {
    "phone_number_quality_update": _apply_phone_quality,
    "phone_number_name_update": _apply_phone_name,
    "account_update": _apply_account_update,
    "account_review_update": _apply_account_review,
    "business_capability_update": _apply_capability,
    "account_alerts": _apply_alert,
    "security": _apply_security,
    "flows": _apply_flow,
    "messages.errors": _apply_async_error,
    "user_preferences": _apply_noted,
}
