"""What may be sent: the rules a message passes before anything is recorded or sent.

Who sends to whom (the sending number: ``--from``, else the account's default, else its first; the
recipient in E.164), which template may be sent (APPROVED, FLAGGED or REINSTATED), the 24-hour
customer-service window for everything but templates (unless ``--force``), the account's daily,
monthly and per-minute limits (``ratelimit.check_limits``), and a warning for contacts whose last
failure says they stopped marketing messages (131050) or cannot be reached (131026). A refusal is
a ``UsageError`` (exit 2): nothing was sent, nothing recorded. Campaigns apply the same rules to
a whole CSV (``sender``, ``template_for_send``, ``WINDOW``, ``suppressed_contacts``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Connection, and_, func
from sqlmodel import Session, col, select

from waba_cli.db.models.accounts import Account, PhoneNumber
from waba_cli.db.models.base import table_of
from waba_cli.db.models.messages import Message
from waba_cli.db.models.templates import MessageTemplate
from waba_cli.db.timestamps import aware
from waba_cli.domain import validators
from waba_cli.domain.templates import forms as template_forms
from waba_cli.errors import NotFoundError, UsageError, ValidationError
from waba_cli.services.ratelimit import check_limits

SENDABLE_TEMPLATE_STATUSES = frozenset({"APPROVED", "FLAGGED", "REINSTATED"})
WINDOW = timedelta(hours=24)
# a contact's last failure with one of these codes is worth a warning before sending again
SUPPRESSING_ERRORS = {
    131050: "stopped marketing messages from this business",
    131026: "could not be reached (not on WhatsApp, terms not accepted, or an old app)",
}

_MESSAGE = table_of(Message)


# -- who sends to whom -------------------------------------------------------------------------


def recipient(value: str, region: str | None = None) -> str:
    """The recipient in E.164 with "+" (any common notation; ``region`` for numbers without one)."""
    try:
        return validators.phone_number(value, region)
    except ValueError as exc:
        raise ValidationError("--to", str(exc)) from None


def sender(session: Session, account: Account, ref: str | None = None, region: str | None = None) -> PhoneNumber:
    """The sending number: ``ref`` (phone-number id or E.164), else the account's default, else its first;
    numbers Meta no longer lists (`waba number sync` marks them gone) do not send."""
    numbers = session.exec(
        select(PhoneNumber)
        .where(PhoneNumber.account_id == account.id, col(PhoneNumber.gone_at).is_(None))
        .order_by(col(PhoneNumber.id))
    ).all()
    if not numbers:
        raise NotFoundError(f"account {account.name} has no phone number", "run `waba number sync`")
    if ref is None:
        return next((n for n in numbers if n.is_default), numbers[0])
    wanted = ref.strip()
    if not wanted.isdigit() or len(wanted) > 15:  # longer than any E.164 number: an id
        try:
            wanted = validators.phone_number(wanted, region)
        except ValueError as exc:
            raise ValidationError("--from", str(exc)) from None
    for number in numbers:
        if wanted in (number.phone_number_id, number.phone_number):
            return number
    if wanted.isdigit():
        as_e164 = f"+{wanted}"
        for number in numbers:
            if number.phone_number == as_e164:
                return number
    known = ", ".join(f"{n.phone_number} ({n.phone_number_id})" for n in numbers)
    raise NotFoundError(
        f"account {account.name} has no number {ref!r}",
        f"its numbers: {known}; `waba number sync` reads every number of the WABA",
    )


# -- the rules ---------------------------------------------------------------------------------


def last_inbound_at(session: Session, phone_number_id: str, contact: str) -> datetime | None:
    """When the contact last wrote to that business number (None: never, as far as waba knows)."""
    query = select(func.max(Message.created_at)).where(
        Message.phone_number_id == phone_number_id, Message.contact == contact, Message.direction == "in"
    )
    last = session.exec(query).one()
    return aware(last) if last is not None else None


def window_open(session: Session, phone_number_id: str, contact: str, now: datetime | None = None) -> bool:
    """The 24-hour customer-service window (§9.4): the contact's last inbound message is under 24 h old."""
    last = last_inbound_at(session, phone_number_id, contact)
    return last is not None and (now or datetime.now(UTC)) - last < WINDOW


def require_window(
    session: Session, number: PhoneNumber, contact: str, *, force: bool = False, now: datetime | None = None
) -> None:
    """Refuse a free-form message outside the window (Meta would answer 131047) unless ``force``."""
    if force or window_open(session, number.phone_number_id, contact, now):
        return
    last = last_inbound_at(session, number.phone_number_id, contact)
    since = f"last wrote {last:%Y-%m-%d %H:%M} UTC" if last else "has never written"
    raise UsageError(
        f"{contact} is outside the 24-hour customer-service window of {number.phone_number} ({since})",
        "send an approved template instead (`waba send template NAME --to ...`), or --force to try anyway",
    )


def contact_warning(session: Session, account_id: int, contact: str) -> str | None:
    """A warning when the contact's last failure was 131050 or 131026 and nothing reached them since."""
    numbers = session.exec(select(PhoneNumber.phone_number_id).where(PhoneNumber.account_id == account_id)).all()
    found = suppressed_contacts(session.connection(), numbers, [contact]).get(contact)
    return f"{contact} {suppression_note(*found)}" if found else None


def suppressed_contacts(
    conn: Connection, phone_number_ids: Sequence[str], contacts: Sequence[str]
) -> dict[str, tuple[int, datetime]]:
    """Of ``contacts``, those whose last failed message from these numbers was 131050 or 131026 with
    nothing delivered to them since: contact -> (error code, when). Two queries for any number of
    contacts, on the 24-hour window's index (number, contact, direction, time)."""
    if not contacts or not phone_number_ids:
        return {}
    m = _MESSAGE.c
    mine = and_(m.phone_number_id.in_(list(phone_number_ids)), m.direction == "out", m.contact.in_(list(contacts)))
    last: dict[str, tuple[datetime, int, int]] = {}  # contact -> its last failure (at, id, code)
    for contact, at, row_id, code in conn.execute(
        select(m.contact, m.created_at, m.id, m.error_code).where(mine, m.error_code.is_not(None))
    ):
        if contact not in last or (at, row_id) > last[contact][:2]:
            last[contact] = (at, row_id, code)
    suspects = {contact: (code, at) for contact, (at, _, code) in last.items() if code in SUPPRESSING_ERRORS}
    if not suspects:
        return {}
    reached: dict[str, datetime] = dict(
        conn.execute(
            select(m.contact, func.max(m.created_at))
            .where(mine, m.contact.in_(list(suspects)), m.status.in_(("delivered", "read", "played")))
            .group_by(m.contact)
        ).all()
    )
    return {c: found for c, found in suspects.items() if not (c in reached and reached[c] > found[1])}


def suppression_note(code: int, at: datetime) -> str:
    return f"{SUPPRESSING_ERRORS[code]} (error {code} on {at:%Y-%m-%d}); this message will likely fail too"


def check_send(
    session: Session, account: Account, number: PhoneNumber, to: str, *, free_form: bool, force: bool = False
) -> str | None:
    """Refuse a message the rules forbid (the window for a free-form one, the account's limits);
    the warning to show before sending it, if any."""
    if free_form:
        require_window(session, number, to, force=force)
    check_limits(session, account)
    return contact_warning(session, cast("int", account.id), to)


# -- templates ---------------------------------------------------------------------------------


def template_for_send(session: Session, account: Account, name: str, language: str | None) -> MessageTemplate:
    """The local template to send: APPROVED, FLAGGED or REINSTATED, in ``language`` or the first such one."""
    rows = session.exec(
        select(MessageTemplate)
        .where(MessageTemplate.account_id == account.id, MessageTemplate.name == name)
        .order_by(col(MessageTemplate.id))
    ).all()
    if not rows:
        raise NotFoundError(
            f"no template {name!r} for account {account.name}",
            "run `waba template sync` to fetch Meta's templates (or `waba template list` to see them)",
        )
    if language is not None:
        code = template_forms.normalize_language(language)
        row = next((r for r in rows if r.language == code), None)
        if row is None:
            languages = ", ".join(r.language for r in rows)
            raise NotFoundError(
                f"template {name!r} has no language {code}", f"its languages: {languages}; or `waba template sync`"
            )
        rows = [row]
    sendable = [r for r in rows if r.status.upper() in SENDABLE_TEMPLATE_STATUSES]
    if sendable:
        return sendable[0]
    states = ", ".join(f"{r.language} {r.status}" for r in rows)
    what_to_do = _NOT_SENDABLE_HINTS.get(rows[0].status.upper(), "see `waba template show NAME`")
    raise UsageError(
        f"template {name!r} cannot be sent ({states}); only APPROVED, FLAGGED or REINSTATED templates can",
        f"{what_to_do.replace('NAME', name)}; if Meta's status has changed since, run `waba template sync`",
    )


_NOT_SENDABLE_HINTS = {
    "DRAFT": "submit it for review: `waba template submit NAME`",
    "PENDING": "wait for Meta's review",
    "IN_APPEAL": "wait for the appeal",
    "REJECTED": "fix it (`waba template validate NAME`) and submit it again",
    "PAUSED": "Meta paused it for low quality: edit it, or wait for the pause to end",
    "DISABLED": "Meta disabled it for good: create a new template",
}
