"""Accounts: finding the one to act on, listing them, choosing the default."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from waba_cli.db.models.accounts import Account, PhoneNumber
from waba_cli.errors import NotFoundError, UsageError

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


def list_accounts(session: Session) -> list[tuple[Account, list[PhoneNumber]]]:
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


def use_account(session: Session, account: Account) -> None:
    for other in session.exec(select(Account).where(col(Account.is_default).is_(True))).all():
        other.is_default = False
        session.add(other)
    account.is_default = True
    session.add(account)


def count_secrets(session: Session) -> int:
    tokens = session.exec(select(func.count()).select_from(Account)).one()
    verify = session.exec(
        select(func.count()).select_from(Account).where(col(Account.webhook_verify_token_enc).is_not(None))
    ).one()
    return int(tokens) * 2 + int(verify)
