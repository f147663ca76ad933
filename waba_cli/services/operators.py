"""`waba operator ...`: PostgreSQL login roles for the people (and services) that use one waba database.

An operator is a LOGIN role in the ``waba_operator`` group and sees only the accounts granted to it
(``operator_grant``, enforced by row-level security: ``db.access``); an admin (``waba_admin``) sees
and changes everything, may add accounts and manage operators; the webhook receiver and other
services log in as a ``waba_service`` role. Only admins add accounts: an operator's new account
row is refused by the policy, since nothing is granted yet.

On SQLite there is one operator per data directory (the OS user owning it); these commands refuse.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from waba_cli.errors import NotFoundError, OperationError, UsageError, ValidationError

if TYPE_CHECKING:
    from waba_cli.services.context import CommandContext

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_RESERVED = {"public", "postgres", "none", "current_user", "session_user", "current_role", "all"}
PASSWORD_BYTES = 24  # 32 URL-safe characters


def require_postgres(ctx: CommandContext) -> None:
    """Exit 2 on SQLite, before anything is opened."""
    from sqlalchemy.engine import make_url

    try:
        backend = make_url(ctx.settings.database_url).get_backend_name()
    except Exception:  # noqa: BLE001 - open_database reports a bad URL itself
        return
    if backend != "postgresql":
        raise UsageError(
            f"operators need PostgreSQL; this database is {backend} (one operator per data directory: "
            "the OS user who owns it)",
            "move it with `waba db copy --to postgresql+psycopg://USER@HOST/DB`, then set WABA_DATABASE_URL",
        )


def check_name(name: str) -> str:
    """A role name as waba creates them: lowercase letters, digits and _, not a reserved or group name."""
    from waba_cli.db.access import GROUPS

    if not ROLE_NAME.match(name) or name.startswith("pg_") or name in _RESERVED or name in GROUPS:
        raise ValidationError(
            "NAME",
            f"{name!r} is not a valid operator name",
            "use 1-63 lowercase letters, digits and _, starting with a letter; not pg_*, postgres or waba_*",
        )
    return name


@dataclass
class Operator:
    name: str
    kind: str  # admin | operator | service
    can_login: bool
    accounts: list[str] = field(default_factory=list)


@dataclass
class Whoami:
    role: str
    kind: str  # superuser | admin | service | operator | none
    accounts: list[str]


def _kind(groups: tuple[str, ...]) -> str:
    from waba_cli.db.access import ADMIN, SERVICE

    if ADMIN in groups:
        return "admin"
    return "service" if SERVICE in groups else "operator"


def _database_error(exc: Exception, doing: str) -> OperationError:
    reason = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0]
    hint = None
    if "permission denied" in reason or "must have" in reason or "row-level security" in reason:
        hint = "this needs an admin: connect as a role in waba_admin (or the owner of the database)"
    return OperationError(f"cannot {doing}: {reason}", hint)


def _accounts_of(session: Any, names: list[str]) -> list[Any]:
    """The accounts named; one named alone is the account the audit entry names."""
    from waba_cli.db.audit import note_account
    from waba_cli.services.accounts.store import get_account

    found = [get_account(session, ref) for ref in names]
    if len(found) == 1:
        note_account(found[0].id)
    return found


def _require_operator_role(conn: Any, name: str) -> None:
    from waba_cli.db import operators as roles

    if roles.role(conn, name) is None:
        raise NotFoundError(f"no operator {name!r}", "see `waba operator list`")


def add(ctx: CommandContext, name: str, *, kind: str, accounts: list[str], password: bool) -> str | None:
    """Create the role (and grant ``accounts``) in one transaction; returns the generated password, if any."""
    from waba_cli.db import operators as roles
    from waba_cli.db.access import ADMIN, OPERATOR, SERVICE
    from waba_cli.db.models.access import OperatorGrant

    require_postgres(ctx)
    check_name(name)
    group = {"admin": ADMIN, "service": SERVICE, "operator": OPERATOR}[kind]
    secret = secrets.token_urlsafe(PASSWORD_BYTES) if password else None
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with ctx.db.transaction() as session:
            conn = session.connection()
            if roles.role_exists(conn, name):
                raise UsageError(f"a database role {name!r} already exists", "pick another name")
            rows = _accounts_of(session, accounts)
            me = roles.whoami(conn).role
            roles.create_role(conn, name, group, secret)
            _mark_changed(conn)
            for account in rows:
                session.add(OperatorGrant(role_name=name, account_id=account.id, granted_by=me))
    except (SQLAlchemyError, _psycopg_error()) as exc:
        raise _database_error(exc, f"add operator {name!r}") from None
    return secret


def _psycopg_error() -> type[Exception]:
    import psycopg

    return psycopg.Error


def _mark_changed(conn: Any) -> None:
    from waba_cli.db.audit import mark_changed

    mark_changed(conn)


def grant(ctx: CommandContext, name: str, account_ref: str) -> bool:
    """Grant the account; False when it already was."""
    from sqlalchemy.exc import SQLAlchemyError

    from waba_cli.db.models.access import OperatorGrant

    require_postgres(ctx)
    check_name(name)
    try:
        with ctx.db.transaction() as session:
            conn = session.connection()
            _require_operator_role(conn, name)
            (account,) = _accounts_of(session, [account_ref])
            if session.get(OperatorGrant, (name, account.id)) is not None:
                return False
            from waba_cli.db import operators as roles

            session.add(OperatorGrant(role_name=name, account_id=account.id, granted_by=roles.whoami(conn).role))
            session.flush()
    except SQLAlchemyError as exc:
        raise _database_error(exc, f"grant {account_ref!r} to {name!r}") from None
    return True


def revoke(ctx: CommandContext, name: str, account_ref: str) -> bool:
    """Revoke the account (at once: the next statement of the operator's sessions no longer sees it)."""
    from sqlalchemy import delete
    from sqlalchemy.exc import SQLAlchemyError

    from waba_cli.db.models.access import OperatorGrant
    from waba_cli.db.models.base import table_of

    require_postgres(ctx)
    check_name(name)
    grants = table_of(OperatorGrant)
    try:
        with ctx.db.transaction() as session:
            (account,) = _accounts_of(session, [account_ref])
            result: Any = session.execute(
                delete(grants).where(grants.c.role_name == name, grants.c.account_id == account.id)
            )
            return bool(result.rowcount)
    except SQLAlchemyError as exc:
        raise _database_error(exc, f"revoke {account_ref!r} from {name!r}") from None


def list_operators(ctx: CommandContext) -> list[Operator]:
    """Every role in waba's groups with the accounts granted to it (those the caller may see)."""
    from sqlalchemy import select

    from waba_cli.db import operators as roles
    from waba_cli.db.models.access import OperatorGrant
    from waba_cli.db.models.accounts import Account
    from waba_cli.db.models.base import table_of

    require_postgres(ctx)
    grants, accounts = table_of(OperatorGrant), table_of(Account)
    with ctx.db.session() as session:
        conn = session.connection()
        found = [Operator(r.name, _kind(r.groups), r.can_login) for r in roles.roles(conn)]
        rows = conn.execute(
            select(grants.c.role_name, accounts.c.name)
            .join(accounts, accounts.c.id == grants.c.account_id)
            .order_by(accounts.c.name)
        ).all()
    by_name = {o.name: o for o in found}
    for role_name, account_name in rows:
        if role_name in by_name:
            by_name[role_name].accounts.append(account_name)
    return found


def remove(ctx: CommandContext, name: str) -> None:
    """Drop the role and its grants (only roles in waba's groups: never another role of the server)."""
    from sqlalchemy import delete
    from sqlalchemy.exc import SQLAlchemyError

    from waba_cli.db import operators as roles
    from waba_cli.db.models.access import OperatorGrant
    from waba_cli.db.models.base import table_of

    require_postgres(ctx)
    check_name(name)
    grants = table_of(OperatorGrant)
    try:
        with ctx.db.transaction() as session:
            conn = session.connection()
            _require_operator_role(conn, name)
            if name == roles.whoami(conn).role:
                raise UsageError("you cannot remove your own role", "ask another admin")
            session.execute(delete(grants).where(grants.c.role_name == name))
            roles.drop_role(conn, name)
            _mark_changed(conn)
    except (SQLAlchemyError, _psycopg_error()) as exc:
        raise _database_error(exc, f"remove operator {name!r}") from None


def whoami(ctx: CommandContext) -> Whoami:
    """The role this waba connects as, what it is, and the accounts it sees."""
    from sqlalchemy import select

    from waba_cli.db import operators as roles
    from waba_cli.db.models.accounts import Account
    from waba_cli.db.models.base import table_of

    require_postgres(ctx)
    accounts = table_of(Account)
    with ctx.db.session() as session:
        conn = session.connection()
        me = roles.whoami(conn)
        names = list(conn.execute(select(accounts.c.name).order_by(accounts.c.name)).scalars())
    kind = "superuser" if me.superuser else "admin" if me.admin else "service" if me.service else None
    kind = kind or ("operator" if me.operator else "none")
    return Whoami(me.role, kind, names)
