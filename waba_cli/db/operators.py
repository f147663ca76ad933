"""PostgreSQL login roles for operators: created, dropped and described with composed SQL.

Role names reach SQL only as quoted identifiers (``psycopg.sql.Identifier``); passwords only as
SCRAM-SHA-256 verifiers computed by libpq on this machine, so the server (and its statement log)
never sees the plaintext.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from waba_cli.db.access import ADMIN, GROUPS, OPERATOR, SERVICE


@dataclass(frozen=True)
class Role:
    name: str
    groups: tuple[str, ...]
    can_login: bool


def _driver(conn: Any) -> Any:
    """The psycopg connection under a SQLAlchemy connection (inside its transaction)."""
    return conn.connection.driver_connection


def create_role(conn: Any, name: str, group: str, password: str | None) -> None:
    """A LOGIN role in ``group`` (admins may also create and drop roles); no password: peer or certificate auth."""
    from psycopg import sql

    raw = _driver(conn)
    options: list[sql.Composable] = [sql.SQL("LOGIN")]
    if group == ADMIN:
        options.append(sql.SQL("CREATEROLE"))
    if password is not None:
        verifier = raw.pgconn.encrypt_password(password.encode(), name.encode(), b"scram-sha-256")
        options.append(sql.SQL("PASSWORD {}").format(sql.Literal(verifier.decode())))
    else:
        options.append(sql.SQL("PASSWORD NULL"))
    statement = sql.SQL("CREATE ROLE {} {} IN ROLE {}").format(
        sql.Identifier(name), sql.SQL(" ").join(options), sql.Identifier(group)
    )
    with raw.cursor() as cursor:
        cursor.execute(statement)


def drop_role(conn: Any, name: str) -> None:
    from psycopg import sql

    with _driver(conn).cursor() as cursor:
        cursor.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def roles(conn: Any) -> list[Role]:
    """Every role that is a member of one of waba's groups, by name."""
    rows = conn.execute(
        text(
            "SELECT r.rolname, array_agg(g.rolname ORDER BY g.rolname), r.rolcanlogin "
            "FROM pg_roles r JOIN pg_auth_members m ON m.member = r.oid JOIN pg_roles g ON g.oid = m.roleid "
            "WHERE g.rolname = ANY(:groups) GROUP BY r.rolname, r.rolcanlogin ORDER BY r.rolname"
        ),
        {"groups": list(GROUPS)},
    )
    return [Role(row[0], tuple(row[1]), bool(row[2])) for row in rows]


def role(conn: Any, name: str) -> Role | None:
    return next((r for r in roles(conn) if r.name == name), None)


def role_exists(conn: Any, name: str) -> bool:
    return bool(conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :name"), {"name": name}).first())


@dataclass(frozen=True)
class Identity:
    role: str
    superuser: bool
    admin: bool
    service: bool
    operator: bool


def whoami(conn: Any) -> Identity:
    row = conn.execute(
        text(
            "SELECT current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user), "
            "pg_has_role(current_user, :admin, 'MEMBER'), pg_has_role(current_user, :service, 'MEMBER'), "
            "pg_has_role(current_user, :operator, 'MEMBER')"
        ),
        {"admin": ADMIN, "service": SERVICE, "operator": OPERATOR},
    ).one()
    superuser = bool(row[1])
    return Identity(
        str(row[0]), superuser, bool(row[2]), bool(row[3]) and not superuser, bool(row[4]) and not superuser
    )
