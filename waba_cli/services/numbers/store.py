"""What every number command shares: finding NUM, asking Meta about numbers, and writing what
Meta says onto the rows (each change of quality, status, limit or name status goes to the health
log, named by the number)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlmodel import Session, col, select

from waba_cli.db.models.accounts import Account, PhoneNumber, RegistrationCall
from waba_cli.db.models.logs import AccountHealthLog
from waba_cli.db.timestamps import aware
from waba_cli.domain import numbers as rules
from waba_cli.domain import validators
from waba_cli.errors import NotFoundError

if TYPE_CHECKING:
    from waba_cli.graph.api import GraphAPI
    from waba_cli.graph.api import PhoneNumber as MetaNumber
    from waba_cli.services.context import CommandContext

T = TypeVar("T")


# the fields of a number whose changes go to the health log, and how each value weighs
_LOGGED = ("quality_rating", "status", "messaging_limit", "name_status")
_LEVELS: dict[str, dict[str, str]] = {
    "quality_rating": {"GREEN": "OK", "YELLOW": "WARNING", "RED": "CRITICAL"},
    "status": {
        "CONNECTED": "OK",
        "FLAGGED": "WARNING",
        "RATE_LIMITED": "WARNING",
        "PENDING": "WARNING",
        "RESTRICTED": "CRITICAL",
        "DISCONNECTED": "CRITICAL",
        "BANNED": "CRITICAL",
        "DELETED": "CRITICAL",
    },
    "name_status": {
        "APPROVED": "OK",
        "AVAILABLE_WITHOUT_REVIEW": "OK",
        "PENDING_REVIEW": "WARNING",
        "DECLINED": "CRITICAL",
        "EXPIRED": "CRITICAL",
    },
}
_LIMIT_ORDER = ("TIER_50", "TIER_250", "TIER_1K", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED")
_UNKNOWN_FIELD = re.compile(r"nonexisting field \(?(\w+)\)?")


def numbers_of(session: Session, account: Account) -> list[PhoneNumber]:
    """The account's numbers, gone ones included, in the order they were recorded."""
    query = select(PhoneNumber).where(PhoneNumber.account_id == account.id).order_by(col(PhoneNumber.id))
    return list(session.exec(query).all())


def find_number(session: Session, account: Account, ref: str, region: str | None = None) -> PhoneNumber:
    """NUM: a phone-number id or the number in any notation (exit 2 when the account has no such number)."""
    wanted = ref.strip()
    numbers = numbers_of(session, account)
    for number in numbers:
        if wanted == number.phone_number_id:
            return number
    candidates = readings(wanted, region)
    for number in numbers:
        if number.phone_number in candidates:
            return number
    elsewhere = session.exec(
        select(PhoneNumber, Account)
        .join(Account, col(Account.id) == PhoneNumber.account_id)
        .where((col(PhoneNumber.phone_number_id) == wanted) | col(PhoneNumber.phone_number).in_(candidates))
    ).first()
    if elsewhere is not None:
        raise NotFoundError(
            f"account {account.name} has no number {ref!r}",
            f"it belongs to account {elsewhere[1].name}: add --account {elsewhere[1].name}",
        )
    known = ", ".join(f"{n.phone_number} ({n.phone_number_id})" for n in numbers if n.gone_at is None)
    raise NotFoundError(
        f"account {account.name} has no number {ref!r}",
        (f"its numbers: {known}; " if known else "") + "run `waba number sync` to read every number of the WABA",
    )


def as_e164(value: str, region: str | None) -> str | None:
    """The number in E.164, or None (see ``readings``)."""
    found = readings(value, region)
    return found[0] if found else None


def readings(value: str, region: str | None) -> list[str]:
    """Every E.164 number ``value`` may be: digits alone are read as international first (Meta's
    display numbers come so: ``15550134567``), then as a number of ``region``."""
    text = value.strip()
    tries = [("+" + text, None), (text, region)] if text.isdigit() and not text.startswith("00") else [(text, region)]
    found: list[str] = []
    for candidate, where in tries:
        try:
            found.append(validators.phone_number(candidate, where))
        except ValueError:
            continue
    return found


@contextmanager
def about(number: PhoneNumber | None) -> Iterator[None]:
    """Graph errors about ``number`` name it in their hint (the hints say NUM)."""
    from waba_cli.graph.errors import GraphError

    try:
        yield
    except GraphError as exc:
        if number is not None and exc.hint:
            exc.hint = exc.hint.replace("NUM", number.phone_number)
        raise


async def read_numbers(api: GraphAPI, waba_id: str, page_size: int | None = None) -> list[MetaNumber]:
    """Every number of the WABA with every field waba keeps; a field Meta does not know is dropped."""
    from waba_cli.graph.api import NUMBER_SYNC_FIELDS

    return await _with_known_fields(
        NUMBER_SYNC_FIELDS, lambda fields: api.list_phone_numbers(waba_id, fields, page_size=page_size)
    )


async def read_number(api: GraphAPI, phone_number_id: str) -> MetaNumber:
    from waba_cli.graph.api import NUMBER_SYNC_FIELDS

    return await _with_known_fields(NUMBER_SYNC_FIELDS, lambda fields: api.get_phone_number(phone_number_id, fields))


async def _with_known_fields(fields: Sequence[str], read: Callable[[list[str]], Awaitable[T]]) -> T:
    """``read(fields)``, asked again without an optional field Meta says it does not know (§4.1, §5.6)."""
    from waba_cli.graph.api import OPTIONAL_PHONE_NUMBER_FIELDS
    from waba_cli.graph.errors import InvalidRequest

    asked = list(fields)
    while True:
        try:
            return await read(asked)
        except InvalidRequest as exc:
            match = _UNKNOWN_FIELD.search(exc.graph_message)
            unknown = match.group(1) if match else None
            if unknown not in OPTIONAL_PHONE_NUMBER_FIELDS or unknown not in asked:
                raise
            asked.remove(unknown)


@dataclass(frozen=True)
class Change:
    phone_number_id: str
    field: str
    before: str | None
    after: str | None


def apply_fields(number: PhoneNumber, data: MetaNumber, now: datetime) -> list[Change]:
    """Copy Meta's fields onto the row; the changes worth a health-log line (enums stored as given)."""
    throughput = data.get("throughput") or {}
    limit = data.get("whatsapp_business_manager_messaging_limit") or data.get("messaging_limit_tier")
    new: dict[str, Any] = {
        "display_phone_number": data.get("display_phone_number"),
        "verified_name": data.get("verified_name"),
        "quality_rating": data.get("quality_rating"),
        "status": data.get("status"),
        "code_verification_status": data.get("code_verification_status"),
        "name_status": data.get("name_status"),
        "messaging_limit": limit,
        "throughput_level": throughput.get("level") if isinstance(throughput, dict) else None,
        "platform_type": data.get("platform_type"),
        "account_mode": data.get("account_mode"),
        "is_on_biz_app": data.get("is_on_biz_app"),
        "is_pin_enabled": data.get("is_pin_enabled"),
        "health_status": data.get("health_status"),
    }
    changes: list[Change] = []
    for name, value in new.items():
        if value is None:
            continue  # Meta left it out: keep what was known
        before = getattr(number, name)
        if name in _LOGGED and before is not None and str(before) != str(value):
            changes.append(Change(number.phone_number_id, name, str(before), str(value)))
        if name == "name_status" and before != value:
            number.name_status_since = _onboarded(data) if before is None else now
        setattr(number, name, value)
    number.synced_at = now
    number.updated_at = now
    return changes


def _onboarded(data: MetaNumber) -> datetime | None:
    """When Meta says the number was onboarded (``2023-08-22T19:05:53+0000``), or None."""
    text = data.get("last_onboarded_time")
    if not text:
        return None
    try:
        return datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%S%z").astimezone(UTC)
    except ValueError:
        return None


def log_change(session: Session, account: Account, number: PhoneNumber, change: Change, now: datetime) -> None:
    if change.field == "messaging_limit":
        lower = _tier(change.after) < _tier(change.before)
        level = "WARNING" if lower else "OK"
    else:
        level = _LEVELS.get(change.field, {}).get((change.after or "").upper(), "UNKNOWN")
    label = change.field.replace("_", " ")
    log_event(
        session,
        account,
        number,
        f"number_{change.field}",
        level,
        f"{shown(number)}: {label} {change.before} -> {change.after}",
        {"field": change.field, "from": change.before, "to": change.after},
        now,
    )


def _tier(value: str | None) -> int:
    return _LIMIT_ORDER.index(value) if value in _LIMIT_ORDER else -1


def log_event(
    session: Session,
    account: Account,
    number: PhoneNumber,
    check: str,
    level: str,
    detail: str,
    data: dict[str, Any],
    now: datetime,
) -> None:
    assert account.id is not None
    session.add(
        AccountHealthLog(
            account_id=account.id,
            checked_at=now,
            source="sync",
            phone_number_id=number.phone_number_id,
            check=check,
            status=level,
            detail=detail,
            data={"phone_number_id": number.phone_number_id, **data},
        )
    )


def shown(number: PhoneNumber) -> str:
    return number.display_phone_number or number.phone_number


def e164_of(data: MetaNumber) -> str | None:
    """The number in E.164 from Meta's display number (``+1 555-013-4567`` or ``15550134567``)."""
    display = str(data.get("display_phone_number") or "").strip()
    if not display:
        return None
    digits = "".join(ch for ch in display if ch.isdigit())
    return as_e164(digits, None)


def number_for(ctx: CommandContext, ref: str) -> PhoneNumber:
    with ctx.db.session() as session:
        return find_number(session, ctx.account, ref, ctx.settings.region)


def reload(session: Session, number: PhoneNumber) -> PhoneNumber:
    row = session.get(PhoneNumber, number.id)
    if row is None:
        raise NotFoundError(f"{number.phone_number} was removed meanwhile", "run `waba number sync`")
    return row


def registration_times(session: Session, number: PhoneNumber) -> list[datetime]:
    times = session.exec(select(RegistrationCall.at).where(RegistrationCall.number_id == number.id)).all()
    return [aware(at) for at in times]


def facts_of(number: PhoneNumber) -> rules.NumberFacts:
    return rules.NumberFacts(
        phone_number_id=number.phone_number_id,
        phone_number=number.phone_number,
        display_phone_number=number.display_phone_number,
        verified_name=number.verified_name,
        quality_rating=number.quality_rating,
        status=number.status,
        code_verification_status=number.code_verification_status,
        name_status=number.name_status,
        name_status_since=aware(number.name_status_since),
        platform_type=number.platform_type,
        throughput_level=number.throughput_level,
        messaging_limit=number.messaging_limit,
        account_mode=number.account_mode,
        health_status=number.health_status,
        synced_at=aware(number.synced_at),
        gone_at=aware(number.gone_at),
    )


def facts_from_meta(data: MetaNumber | dict[str, Any], now: datetime) -> rules.NumberFacts:
    """What the doctor knows of a number from Meta's fields alone (a number not stored yet: the wizard)."""
    meta: MetaNumber = data  # type: ignore[assignment]
    row = PhoneNumber(account_id=0, phone_number_id=str(meta.get("id") or ""), phone_number=e164_of(meta) or "")
    apply_fields(row, meta, now)
    return facts_of(row)
