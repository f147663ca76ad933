"""What the setup wizard does once the operator said "save": the saving itself, then the changes at
Meta it offered, then the live round trip.

Nothing changes, locally or at Meta, before the summary is confirmed. Then, in this order: the
account and its first number are saved in one transaction (the interrupted answers are dropped);
the app is subscribed to the WABA (``subscribed_apps``: without it no webhook arrives, and Meta
wants it before any callback override); the number is registered with a generated PIN kept
encrypted (``number register``), the business profile pushed (``number profile set``); and a
message the operator sends from a phone is waited for until `serve-webhook` has stored it. Each
step after the save is the numbers capability's own service, called for the new account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func
from sqlmodel import col, select

from waba_cli.db.models.messages import Message

if TYPE_CHECKING:
    from waba_cli.db.models.accounts import Account, PhoneNumber
    from waba_cli.services.context import CommandContext
    from waba_cli.services.numbers.profile import ProfileResult
    from waba_cli.services.numbers.registration import Registered
    from waba_cli.settings import Settings

# the setup keys of step 4 and the business-profile fields they fill (reference §4.6)
PROFILE_FIELDS = {
    "business_description": "description",
    "business_email": "email",
    "business_vertical": "vertical",
    "business_address": "address",
}


def callback_url(settings: Settings, setup: dict[str, Any]) -> str | None:
    """The URL to paste into the App Dashboard: the setup's webhook_url, else the public base URL."""
    if setup.get("webhook_url"):
        return str(setup["webhook_url"])
    if settings.webhook_public_base_url:
        return settings.webhook_public_base_url.rstrip("/") + settings.webhook_path
    return None


def default_webhook_url(settings: Settings) -> str | None:
    if settings.webhook_public_base_url:
        return settings.webhook_public_base_url.rstrip("/") + settings.webhook_path
    return None


def profile_change(setup: dict[str, Any]) -> dict[str, str]:
    """The business-profile fields the setup's step 4 fills (empty ones left out)."""
    return {meta: str(setup[key]) for key, meta in PROFILE_FIELDS.items() if setup.get(key)}


def push_profile(ctx: CommandContext, account: Account, number: PhoneNumber, setup: dict[str, Any]) -> ProfileResult:
    """`number profile set` with step 4's values, for the new account's number."""
    from waba_cli.services.numbers.profile import ProfileChange, set_profile

    fields = profile_change(setup)
    change = ProfileChange(
        description=fields.get("description"),
        email=fields.get("email"),
        vertical=fields.get("vertical"),
        address=fields.get("address"),
    )
    ctx.name_account(account.name)
    return set_profile(ctx, number.phone_number_id, change)


def register_number(ctx: CommandContext, account: Account, number: PhoneNumber) -> Registered:
    """`number register` without a PIN: one is generated, kept encrypted and shown once."""
    from waba_cli.services.numbers.registration import register

    ctx.name_account(account.name)
    return register(ctx, number.phone_number_id)


# -- the round trip ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Inbound:
    contact: str
    text: str | None
    type: str


def last_message_id(ctx: CommandContext) -> int:
    """The newest message row now: what arrives later has a larger id."""
    with ctx.db.session() as session:
        newest: int | None = session.exec(select(func.max(Message.id))).one()
        return newest or 0


def inbound_after(ctx: CommandContext, account: Account, after_id: int) -> Inbound | None:
    """A customer's message to the account stored (by serve-webhook) after row ``after_id``."""
    with ctx.db.session() as session:
        row = session.exec(
            select(Message)
            .where(Message.account_id == account.id, Message.direction == "in", col(Message.id) > after_id)
            .order_by(col(Message.id))
            .limit(1)
        ).first()
    return Inbound(row.contact, row.text, row.type) if row is not None else None
