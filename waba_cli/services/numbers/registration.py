"""Ownership codes, registration and the two-step PIN (reference §4.3-§4.5).

Input is checked before any request (exit 2). ``register`` reads the number first and refuses what
Meta would refuse with 2388001 (code not verified, display name not approved); register and
deregister calls are counted locally and the 11th in 72 hours is refused before Meta answers
133016. Without ``--pin`` a PIN is generated, kept encrypted and shown once.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from waba_cli.db.models.accounts import Account, PhoneNumber, RegistrationCall
from waba_cli.db.timestamps import utcnow
from waba_cli.domain import numbers as rules
from waba_cli.errors import UsageError, ValidationError
from waba_cli.services.numbers.store import (
    about,
    apply_fields,
    log_change,
    number_for,
    read_number,
    registration_times,
    reload,
)

if TYPE_CHECKING:
    from waba_cli.graph.api import PhoneNumber as MetaNumber
    from waba_cli.services.context import CommandContext


CODE_METHODS = ("sms", "voice")
LOCALIZATION_REGIONS = ("AU", "ID", "IN", "JP", "SG", "KR", "DE", "CH", "GB", "BR", "BH", "ZA", "AE", "CA")


def request_code(ctx: CommandContext, ref: str, *, method: str, language: str) -> PhoneNumber:
    """`waba number request-code`: Meta sends the number a code by SMS or voice call."""
    chosen = method.strip().lower()
    if chosen not in CODE_METHODS:
        raise ValidationError("--method", f"must be sms or voice, not {method!r}")
    if not re.match(r"^[a-z]{2,3}(_[A-Z]{2})?$", language.strip()):
        raise ValidationError("--language", f"{language!r} is not a locale like en or en_US")
    number = number_for(ctx, ref)
    locale = language.strip()
    with about(number):
        ctx.run_graph(
            ctx.account,
            lambda api: api.request_code(number.phone_number_id, method=chosen.upper(), language=locale),
        )
    return number


def verify_code(ctx: CommandContext, ref: str, code: str) -> PhoneNumber:
    """`waba number verify-code`: prove ownership with the code received; the number reads VERIFIED."""
    digits = re.sub(r"[\s\-]", "", code)
    if not re.match(r"^[0-9]{6}$", digits):
        raise ValidationError("CODE", "must be the 6 digits Meta sent")
    number = number_for(ctx, ref)
    with about(number):
        ctx.run_graph(ctx.account, lambda api: api.verify_code(number.phone_number_id, digits))
    with ctx.db.transaction() as session:
        row = reload(session, number)
        row.code_verification_status = "VERIFIED"
        row.updated_at = utcnow()
        session.add(row)
    return row


@dataclass
class Registered:
    number: PhoneNumber
    generated_pin: str | None = None  # shown once: waba keeps it encrypted
    registrations_left: int = 0


def register(ctx: CommandContext, ref: str, *, pin: str | None = None, region: str | None = None) -> Registered:
    """`waba number register`: check the PIN, Meta's prerequisites and the 72-hour budget, then register."""
    given = _pin_flag(pin) if pin is not None else None
    if region is not None and region.upper() not in LOCALIZATION_REGIONS:
        raise ValidationError(
            "--data-localization-region", f"{region!r} is not one of {', '.join(LOCALIZATION_REGIONS)}"
        )
    account = ctx.account
    number = number_for(ctx, ref)
    with about(number):
        data = ctx.run_graph(account, lambda api: read_number(api, number.phone_number_id))
    with ctx.db.transaction() as session:
        row = reload(session, number)
        for change in apply_fields(row, data, utcnow()):
            log_change(session, account, row, change, utcnow())
        session.add(row)
    _require_prerequisites(row)
    chosen, generated = _choose_pin(ctx, row, given)
    left = _check_budget(ctx, row, "register")
    call = _record_call(ctx, row, "register")
    try:
        with about(row):
            ctx.run_graph(
                account,
                lambda api: api.register(
                    row.phone_number_id, pin=chosen, data_localization_region=region.upper() if region else None
                ),
            )
    except Exception as exc:
        _call_failed(ctx, call, exc)
        raise
    stored = _after_change(ctx, account, row, pin=chosen)
    return Registered(stored, generated, left - 1)


def deregister(
    ctx: CommandContext, ref: str, *, confirm: Callable[[PhoneNumber], None] | None = None
) -> tuple[PhoneNumber, int]:
    """`waba number deregister`: stop the number on the Cloud API (counted like register);
    ``confirm(number)`` is asked once the number is known, before anything is sent."""
    account = ctx.account
    number = number_for(ctx, ref)
    if number.is_on_biz_app:
        raise UsageError(
            f"{number.phone_number} is shared with the WhatsApp Business app; Meta does not deregister such numbers",
            "disconnect it in the WhatsApp Business app instead",
        )
    left = _check_budget(ctx, number, "deregister")
    if confirm is not None:
        confirm(number)
    call = _record_call(ctx, number, "deregister")
    try:
        with about(number):
            ctx.run_graph(account, lambda api: api.deregister(number.phone_number_id))
    except Exception as exc:
        _call_failed(ctx, call, exc)
        raise
    return _after_change(ctx, account, number), left - 1


def set_pin(ctx: CommandContext, ref: str, pin: str) -> PhoneNumber:
    """`waba number set-pin`: set or change the two-step PIN at Meta, and keep it (encrypted)."""
    chosen = _pin_flag(pin, "PIN")
    number = number_for(ctx, ref)
    cipher = ctx.cipher()
    with about(number):
        ctx.run_graph(ctx.account, lambda api: api.set_pin(number.phone_number_id, chosen))
    with ctx.db.transaction() as session:
        row = reload(session, number)
        row.pin_enc = cipher.encrypt(chosen)
        row.is_pin_enabled = True
        row.updated_at = utcnow()
        session.add(row)
    return row


def _pin_flag(value: str, name: str = "--pin") -> str:
    try:
        return rules.pin(value)
    except ValueError as exc:
        raise ValidationError(name, str(exc), "a two-step verification PIN is 6 digits, like 482915") from None


def _require_prerequisites(number: PhoneNumber) -> None:
    """Refuse what Meta would refuse with 2388001 "Cannot Create Certificate" (§4.4)."""
    ref = number.phone_number
    verified = (number.code_verification_status or "").upper()
    if verified and verified != "VERIFIED":
        raise UsageError(
            f"{ref}: ownership is not verified (code verification {verified}); "
            "Meta would answer 2388001 Cannot Create Certificate",
            f"run `waba number request-code {ref}`, then `waba number verify-code {ref} CODE`",
        )
    name = (number.name_status or "").upper()
    if name in rules.NAME_NOT_READY:
        since = ""
        if name == "PENDING_REVIEW" and number.name_status_since is not None:
            since = f" since {number.name_status_since:%Y-%m-%d}"
        raise UsageError(
            f"{ref}: the display name is {name}{since}; Meta would answer 2388001 Cannot Create Certificate",
            "wait for the review, or request a new name in WhatsApp Manager; `waba number doctor` shows the state",
        )


def _choose_pin(ctx: CommandContext, number: PhoneNumber, given: str | None) -> tuple[str, str | None]:
    """The PIN to register with: given, else the one waba keeps, else a new one (None if not new)."""
    cipher = ctx.cipher()
    if given is not None:
        return given, None
    if number.pin_enc:
        return cipher.decrypt(number.pin_enc, f"the PIN of {number.phone_number}"), None
    if number.is_pin_enabled:
        raise UsageError(
            f"{number.phone_number} has a two-step PIN that waba does not know",
            f"give it with --pin P, or set a new one first with `waba number set-pin {number.phone_number} PIN`",
        )
    fresh = f"{secrets.randbelow(1_000_000):06d}"
    return fresh, fresh


def _check_budget(ctx: CommandContext, number: PhoneNumber, action: str) -> int:
    """Calls left in the 72-hour window; exit 2 before the 11th (Meta would answer 133016)."""
    now = utcnow()
    with ctx.db.session() as session:
        left, free_at = rules.registrations_left(registration_times(session, number), now)
    if left == 0:
        when = f"after {free_at:%Y-%m-%d %H:%M} UTC" if free_at else "later"
        raise UsageError(
            f"{number.phone_number} was registered or deregistered {rules.REGISTRATIONS_ALLOWED} times in the "
            f"last 72 hours; Meta would refuse the {action} (133016)",
            f"try again {when}",
        )
    return left


def _record_call(ctx: CommandContext, number: PhoneNumber, action: str) -> RegistrationCall | None:
    """Count the call before it is sent (a crash after sending must not give the call back)."""
    if ctx.dry_run:
        return None
    assert number.id is not None
    with ctx.db.transaction() as session:
        call = RegistrationCall(number_id=number.id, action=action)
        session.add(call)
    return call


def _call_failed(ctx: CommandContext, call: RegistrationCall | None, failure: Exception) -> None:
    """Keep Meta's refusal on the counted call (whether refused calls count at Meta is not known)."""
    code = getattr(failure, "code", None)
    if call is None or not isinstance(code, int):
        return
    with ctx.db.transaction() as session:
        row = session.get(RegistrationCall, call.id)
        if row is not None:
            row.error_code = code
            session.add(row)


def _after_change(ctx: CommandContext, account: Account, number: PhoneNumber, *, pin: str | None = None) -> PhoneNumber:
    """After register/deregister: keep the PIN, and read the number again (a failed read is not a failure)."""
    from waba_cli.graph.errors import GraphError, GraphNetworkError

    try:
        data: MetaNumber | None = ctx.run_graph(account, lambda api: read_number(api, number.phone_number_id))
    except (GraphError, GraphNetworkError):
        data = None
    now = utcnow()
    with ctx.db.transaction() as session:
        row = reload(session, number)
        if pin is not None:
            row.pin_enc = ctx.cipher().encrypt(pin)
            row.is_pin_enabled = True
        for change in apply_fields(row, data, now) if data else []:
            log_change(session, account, row, change, now)
        row.updated_at = now
        session.add(row)
    return row
