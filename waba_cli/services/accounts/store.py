"""Accounts: finding the one to act on, listing them, choosing the default, removing one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlmodel import Session, col, select

from waba_cli.db.models.accounts import Account, PhoneNumber
from waba_cli.errors import NotFoundError, UsageError

if TYPE_CHECKING:
    from waba_cli.services.context import CommandContext

# -- finding accounts --------------------------------------------------------------------------


def find_account(session: Session, ref: str) -> Account | None:
    """The account named ``ref``, or whose WABA id is ``ref``."""
    column = Account.waba_id if ref.isdigit() else Account.name
    return session.exec(select(Account).where(column == ref)).first()


def get_account(session: Session, ref: str) -> Account:
    account = find_account(session, ref)
    if account is None:
        raise NotFoundError(f"no account {ref!r}", "see `waba account list`, or add one with `waba account setup`")
    return account


def reload(session: Session, account: Account) -> Account:
    """``account`` (as the command context looked it up) as a row of ``session``, to change it there."""
    row = session.get(Account, account.id)
    if row is None:
        raise NotFoundError(f"no account {account.name!r}", "see `waba account list`")
    return row


def resolve_account(session: Session, ref: str | None) -> Account:
    """The account named ``ref``, else the default, else the only one (``CommandContext.account`` asks)."""
    if ref:
        return get_account(session, ref)
    default = session.exec(select(Account).where(col(Account.is_default).is_(True))).first()
    if default is not None:
        return default
    accounts = session.exec(select(Account).limit(2)).all()
    if len(accounts) == 1:
        return accounts[0]
    if not accounts:
        raise NotFoundError("no account is set up yet", "run `waba account setup --from-file F`")
    raise UsageError(
        "several accounts are set up and none is chosen",
        "pass --account NAME, set WABA_ACCOUNT, or run `waba account use NAME`",
    )


def list_accounts(ctx: CommandContext) -> list[tuple[Account, list[PhoneNumber]]]:
    """`waba account list`: every account with its numbers, by name."""
    with ctx.db.session() as session:
        accounts = session.exec(select(Account).order_by(col(Account.name))).all()
        numbers = session.exec(select(PhoneNumber).order_by(col(PhoneNumber.id))).all()
    by_account: dict[int, list[PhoneNumber]] = {}
    for number in numbers:
        by_account.setdefault(number.account_id, []).append(number)
    return [(a, by_account.get(a.id or 0, [])) for a in accounts]


def numbers_of(session: Session, account: Account) -> list[PhoneNumber]:
    return list(
        session.exec(
            select(PhoneNumber).where(PhoneNumber.account_id == account.id).order_by(col(PhoneNumber.id))
        ).all()
    )


def show_account(ctx: CommandContext) -> tuple[Account, list[PhoneNumber]]:
    """`waba account show`: the account and its numbers."""
    account = ctx.account
    with ctx.db.session() as session:
        return account, numbers_of(session, account)


def use_account(ctx: CommandContext) -> Account:
    """`waba account use`: make the account the default, in one transaction."""
    with ctx.db.transaction() as session:
        account = reload(session, ctx.account)
        for other in session.exec(select(Account).where(col(Account.is_default).is_(True))).all():
            other.is_default = False
            session.add(other)
        account.is_default = True
        session.add(account)
    return account


def remove_account(ctx: CommandContext) -> Account:
    """`waba account remove`: delete the account and everything stored for it (the tables cascade)."""
    with ctx.db.transaction() as session:
        account = reload(session, ctx.account)
        session.delete(account)
    return account


def count_secrets(session: Session) -> int:
    tokens = session.exec(select(func.count()).select_from(Account)).one()
    verify = session.exec(
        select(func.count()).select_from(Account).where(col(Account.webhook_verify_token_enc).is_not(None))
    ).one()
    pins = session.exec(
        select(func.count()).select_from(PhoneNumber).where(col(PhoneNumber.pin_enc).is_not(None))
    ).one()
    return int(tokens) * 2 + int(verify) + int(pins)
