"""The WABA's numbers in the local store: sync (all pages, then one transaction), list, show,
choose the sending default, add one at Meta or record one Meta has.

Numbers Meta no longer lists are marked gone, never deleted: messages and campaigns point at them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from waba_cli.db.models.accounts import Account, PhoneNumber
from waba_cli.db.models.logs import AccountHealthLog
from waba_cli.db.timestamps import utcnow
from waba_cli.domain import numbers as rules
from waba_cli.domain import validators
from waba_cli.errors import UsageError, ValidationError
from waba_cli.services.numbers.store import (
    Change,
    apply_fields,
    e164_of,
    facts_of,
    find_number,
    log_change,
    log_event,
    numbers_of,
    read_number,
    read_numbers,
    registration_times,
    shown,
)

if TYPE_CHECKING:
    from waba_cli.graph.api import GraphAPI
    from waba_cli.graph.api import PhoneNumber as MetaNumber
    from waba_cli.services.context import CommandContext


HEALTH_SHOWN = 10


@dataclass
class SyncResult:
    account: str
    fetched: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    back: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    numbers: list[PhoneNumber] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "fetched": self.fetched,
            "added": self.added,
            "changed": [
                {"id": c.phone_number_id, "field": c.field, "from": c.before, "to": c.after} for c in self.changed
            ],
            "gone": self.gone,
            "back": self.back,
            "notes": self.notes,
        }


def sync_numbers(ctx: CommandContext, *, page_size: int | None = None) -> SyncResult:
    """`waba number sync`: every number of the WABA, all pages, stored in one transaction."""
    if page_size is not None and not 1 <= page_size <= 100:
        raise ValidationError("--page-size", "must be between 1 and 100 (Meta's limit)")
    account = ctx.account
    listed = ctx.run_graph(account, lambda api: read_numbers(api, account.waba_id, page_size))
    return store_numbers(ctx, account, listed)


def store_numbers(ctx: CommandContext, account: Account, listed: Sequence[MetaNumber]) -> SyncResult:
    """Write a complete listing of the WABA's numbers (one transaction)."""
    now = utcnow()
    result = SyncResult(account.name, fetched=len(listed))
    with ctx.db.transaction() as session:
        rows = {n.phone_number_id: n for n in numbers_of(session, account)}
        seen: set[str] = set()
        for data in listed:
            phone_number_id = str(data.get("id") or "")
            if not phone_number_id or phone_number_id in seen:
                continue
            seen.add(phone_number_id)
            number = rows.get(phone_number_id)
            if number is None:
                number = _new_row(session, account, data, result)
                if number is None:
                    continue
                rows[phone_number_id] = number
                result.added.append(phone_number_id)
            elif number.gone_at is not None:
                number.gone_at = None
                result.back.append(phone_number_id)
                log_event(session, account, number, "number_listed", "OK", f"{shown(number)}: listed again", {}, now)
            for change in apply_fields(number, data, now):
                result.changed.append(change)
                log_change(session, account, number, change, now)
            session.add(number)
        for phone_number_id, number in rows.items():
            if phone_number_id in seen or number.gone_at is not None:
                continue
            number.gone_at = now
            number.updated_at = now
            result.gone.append(phone_number_id)
            log_event(session, account, number, "number_gone", "WARNING", f"{shown(number)}: no longer listed", {}, now)
            session.add(number)
        _keep_a_live_default(list(rows.values()), result)
        session.flush()
        result.numbers = numbers_of(session, account)
    return result


def _new_row(session: Session, account: Account, data: MetaNumber, result: SyncResult) -> PhoneNumber | None:
    assert account.id is not None
    phone_number_id = str(data.get("id"))
    other = session.exec(select(PhoneNumber).where(PhoneNumber.phone_number_id == phone_number_id)).first()
    if other is not None:
        owner = session.get(Account, other.account_id)
        result.notes.append(
            f"{phone_number_id} is recorded under account {owner.name if owner else other.account_id}; left there"
        )
        return None
    e164 = e164_of(data)
    if e164 is None:
        result.notes.append(f"{phone_number_id}: Meta's number {data.get('display_phone_number')!r} is not readable")
        return None
    number = PhoneNumber(account_id=account.id, phone_number_id=phone_number_id, phone_number=e164)
    session.add(number)
    return number


def _keep_a_live_default(numbers: list[PhoneNumber], result: SyncResult) -> None:
    """The sending default must be a number Meta still lists: move it when it went, set one if none."""
    live = [n for n in numbers if n.gone_at is None]
    default = next((n for n in numbers if n.is_default), None)
    if default is not None and default.gone_at is None:
        return
    if default is not None:
        default.is_default = False
    if live:
        live[0].is_default = True
        if default is not None:
            result.notes.append(f"the default number {default.phone_number} is gone; {live[0].phone_number} sends now")


def list_numbers(ctx: CommandContext) -> tuple[Account, list[PhoneNumber]]:
    """`waba number list`: the account's numbers as last synced."""
    account = ctx.account
    with ctx.db.session() as session:
        return account, numbers_of(session, account)


@dataclass
class NumberView:
    number: PhoneNumber
    diagnosis: rules.Diagnosis
    health: list[AccountHealthLog]
    registrations_left: int
    profile: dict[str, Any] | None = None
    profile_error: str | None = None


def show_number(ctx: CommandContext, ref: str) -> NumberView:
    """`waba number show`: the stored number, its profile read from Meta, its recent health-log entries."""
    from waba_cli.graph.errors import GraphError, GraphNetworkError

    account = ctx.account
    now = utcnow()
    with ctx.db.session() as session:
        number = find_number(session, account, ref, ctx.settings.region)
        health = list(
            session.exec(
                select(AccountHealthLog)
                .where(AccountHealthLog.phone_number_id == number.phone_number_id)
                .order_by(col(AccountHealthLog.checked_at).desc(), col(AccountHealthLog.id).desc())
                .limit(HEALTH_SHOWN)
            ).all()
        )
        left, _ = rules.registrations_left(registration_times(session, number), now)
    view = NumberView(number, rules.diagnose(facts_of(number), now), health, left)
    try:
        view.profile = dict(ctx.run_graph(account, lambda api: api.get_business_profile(number.phone_number_id)))
    except (GraphError, GraphNetworkError) as exc:
        view.profile_error = exc.message
    return view


def use_number(ctx: CommandContext, ref: str) -> PhoneNumber:
    """`waba number use`: the account's sending default, in one transaction."""
    account = ctx.account
    with ctx.db.transaction() as session:
        number = find_number(session, account, ref, ctx.settings.region)
        if number.gone_at is not None:
            raise UsageError(
                f"{number.phone_number} is no longer in WABA {account.waba_id}", "run `waba number sync` to check"
            )
        for other in numbers_of(session, account):
            other.is_default = other.id == number.id
            session.add(other)
    return number


def add_number(ctx: CommandContext, *, cc: str, phone_number: str, verified_name: str) -> PhoneNumber:
    """`waba number add --cc --phone-number --verified-name`: add it at Meta, then record it."""
    country = cc.strip().lstrip("+")
    if not re.match(r"^[0-9]{1,3}$", country):
        raise ValidationError("--cc", f"{cc!r} is not a country calling code (1 to 3 digits, like 1 or 49)")
    try:
        validators.phone_characters(phone_number)
    except ValueError as exc:
        raise ValidationError("--phone-number", str(exc)) from None
    digits = re.sub(r"[\s().\-]", "", phone_number.strip())
    if digits.startswith("+"):
        digits = digits[1:]
        if not digits.startswith(country):
            raise ValidationError("--phone-number", f"{phone_number!r} does not start with +{country}")
        digits = digits[len(country) :]
    if not digits.isdigit():
        raise ValidationError("--phone-number", f"{phone_number!r} is not a phone number (digits only)")
    try:
        e164 = validators.phone_number(f"+{country}{digits}")
    except ValueError as exc:
        raise ValidationError("--phone-number", str(exc)) from None
    name = verified_name.strip()
    if not name:
        raise ValidationError("--verified-name", "is empty; give the display name to show customers")
    account = ctx.account
    with ctx.db.session() as session:
        existing = session.exec(select(PhoneNumber).where(PhoneNumber.phone_number == e164)).first()
    if existing is not None:
        raise UsageError(
            f"{e164} is already recorded ({existing.phone_number_id})", "see `waba number show` or `waba number sync`"
        )

    async def call(api: GraphAPI) -> MetaNumber:
        created = await api.add_phone_number(account.waba_id, cc=country, phone_number=digits, verified_name=name)
        return await read_number(api, str(created["id"]))

    data = ctx.run_graph(account, call)
    data.setdefault("display_phone_number", e164)
    return _record(ctx, account, data, added=True)


def record_number(ctx: CommandContext, phone_number_id: str) -> PhoneNumber:
    """`waba number add --id`: record a number that exists at Meta, once Meta lists it in the WABA."""
    try:
        wanted = validators.graph_id(phone_number_id.strip())
    except ValueError as exc:
        raise ValidationError("--id", str(exc)) from None
    account = ctx.account
    listed = ctx.run_graph(account, lambda api: read_numbers(api, account.waba_id))
    data = next((n for n in listed if str(n.get("id")) == wanted), None)
    if data is None:
        known = ", ".join(str(n.get("id")) for n in listed) or "none"
        raise ValidationError("--id", f"{wanted} is not a number of WABA {account.waba_id} (it has: {known})")
    return _record(ctx, account, data, added=False)


def _record(ctx: CommandContext, account: Account, data: MetaNumber, *, added: bool) -> PhoneNumber:
    now = utcnow()
    with ctx.db.transaction() as session:
        rows = numbers_of(session, account)
        number = next((n for n in rows if n.phone_number_id == str(data.get("id"))), None)
        if number is None:
            result = SyncResult(account.name)
            number = _new_row(session, account, data, result)
            if number is None:
                raise UsageError(result.notes[0] if result.notes else f"cannot record {data.get('id')}")
            number.is_default = not any(n.is_default and n.gone_at is None for n in rows)
        number.gone_at = None
        for change in apply_fields(number, data, now):
            log_change(session, account, number, change, now)
        what = "added at Meta" if added else "recorded"
        log_event(session, account, number, "number_added", "OK", f"{shown(number)}: {what}", {}, now)
        session.add(number)
    return number
