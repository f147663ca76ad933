"""Row-level security on PostgreSQL: the group roles, their privileges and one policy per account table.

Which tables hold account data is read from the live catalog, never from a hand-kept list:

- a table with an ``account_id`` column (and ``account`` itself, by ``id``) is filtered on it;
- a table with a foreign key to such a table is filtered through that parent (``col IN (SELECT id
  FROM parent)``, the parent being filtered in turn), so child rows follow their account.

A row is visible, and may be changed, when the current role is a member of ``waba_admin`` or
``waba_service``, or when its account is granted to the current role in ``operator_grant``. Rows
with no account (a webhook delivery for an unknown WABA) are for admins and the service only.
The owner of the tables (the role that runs ``waba db upgrade``) bypasses the policies: it is the
installation's administrator, and row security is not forced on it.

``secure()`` is idempotent and runs after every migration on PostgreSQL, so a table added by a
later revision is covered by the same rule; ``check()`` reports any table left without a policy
(``waba db info`` shows it, a test fails on it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect, text

OPERATOR, ADMIN, SERVICE = "waba_operator", "waba_admin", "waba_service"
GROUPS = (OPERATOR, ADMIN, SERVICE)
POLICY = "waba_account_rows"
# tables with their own policies (see _secure_own_tables)
OWN_POLICIES = ("operator_grant", "audit_entry")
# the revision table: readable by every group (every command checks it), changed only by the owner
_READ_ONLY = ("alembic_version",)

_PRIVILEGED = "(SELECT waba_privileged())"
_GRANTED = "(SELECT g.account_id FROM operator_grant g WHERE g.role_name = current_user::text)"


@dataclass(frozen=True)
class Scope:
    """How a table's rows belong to an account: by its own column, or through ``parent``."""

    table: str
    column: str
    parent: str | None = None
    parent_column: str | None = None


@dataclass(frozen=True)
class TableSecurity:
    table: str
    scope: str  # "account_id", "id", or "via parent.column"
    rls: bool | None  # None on SQLite
    policies: int | None

    @property
    def ok(self) -> bool:
        return self.rls is None or (self.rls and bool(self.policies))


def account_scopes(conn: Any) -> dict[str, Scope]:
    """Every table holding account data, found in the live catalog."""
    inspector = inspect(conn)
    tables = [name for name in inspector.get_table_names() if name not in _READ_ONLY]
    scopes: dict[str, Scope] = {}
    for name in tables:
        columns = {column["name"] for column in inspector.get_columns(name)}
        if name == "account":
            scopes[name] = Scope(name, "id")
        elif "account_id" in columns:
            scopes[name] = Scope(name, "account_id")
    foreign_keys = {name: inspector.get_foreign_keys(name) for name in tables if name not in scopes}
    found = True
    while found:  # children of children (template_event -> message_template -> account)
        found = False
        for name, keys in foreign_keys.items():
            if name in scopes:
                continue
            for key in keys:
                if key["referred_table"] in scopes and len(key["constrained_columns"]) == 1:
                    scopes[name] = Scope(
                        name, key["constrained_columns"][0], key["referred_table"], key["referred_columns"][0]
                    )
                    found = True
                    break
    return scopes


def _q(conn: Any, name: str) -> str:
    return str(conn.dialect.identifier_preparer.quote(name))


def _create_groups(conn: Any) -> None:
    for role in GROUPS:
        # idempotent, and safe when two template databases of a test run migrate at once
        conn.execute(
            text(
                "DO $$ BEGIN "  # noqa: S608 - role is one of GROUPS, constants
                f"IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN CREATE ROLE {role} NOLOGIN; "
                "END IF; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            )
        )


def _grant_privileges(conn: Any) -> None:
    schema = _q(conn, conn.execute(text("SELECT current_schema()")).scalar_one())
    groups = ", ".join(GROUPS)
    conn.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {groups}"))
    conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {groups}"))
    conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {groups}"))
    for table in _READ_ONLY:
        conn.execute(text(f"REVOKE INSERT, UPDATE, DELETE ON {_q(conn, table)} FROM {groups}"))
    conn.execute(text(f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_entry FROM PUBLIC, {groups}"))
    conn.execute(text(f"REVOKE INSERT, UPDATE, DELETE ON operator_grant FROM {OPERATOR}, {SERVICE}"))


def _privileged_function(conn: Any) -> None:
    conn.execute(
        text(
            "CREATE OR REPLACE FUNCTION waba_privileged() RETURNS boolean LANGUAGE sql STABLE AS $$ "
            f"SELECT pg_has_role(current_user, '{ADMIN}', 'MEMBER') "
            f"OR pg_has_role(current_user, '{SERVICE}', 'MEMBER') $$"
        )
    )


def _replace_policy(conn: Any, table: str, name: str, clause: str) -> None:
    conn.execute(text(f"DROP POLICY IF EXISTS {name} ON {_q(conn, table)}"))
    conn.execute(text(f"CREATE POLICY {name} ON {_q(conn, table)} {clause}"))


def _secure_own_tables(conn: Any) -> None:
    conn.execute(text("ALTER TABLE operator_grant ENABLE ROW LEVEL SECURITY"))
    _replace_policy(conn, "operator_grant", POLICY, f"USING ({_PRIVILEGED} OR role_name = current_user::text)")
    conn.execute(text("ALTER TABLE audit_entry ENABLE ROW LEVEL SECURITY"))
    # read: admins and the service all, an operator their own entries and those of their accounts;
    # write: an entry in one's own name only; no UPDATE or DELETE policy, so no row can be changed
    _replace_policy(
        conn,
        "audit_entry",
        "waba_audit_read",
        f"FOR SELECT USING ({_PRIVILEGED} OR actor = current_user::text OR account_id IN {_GRANTED})",
    )
    _replace_policy(conn, "audit_entry", "waba_audit_write", "FOR INSERT WITH CHECK (actor = current_user::text)")


def policy_clause(conn: Any, scope: Scope) -> str:
    """The USING expression of a table's policy (also its WITH CHECK: a row cannot be moved out of reach)."""
    column = _q(conn, scope.column)
    if scope.parent is None:
        return f"{_PRIVILEGED} OR {column} IN {_GRANTED}"
    parent, parent_column = _q(conn, scope.parent), _q(conn, scope.parent_column or "id")
    # identifiers from the catalog, quoted
    return f"{_PRIVILEGED} OR {column} IN (SELECT p.{parent_column} FROM {parent} p)"  # noqa: S608


def secure(conn: Any) -> None:
    """Create the groups, grant them the tables, and put a policy on every account table (PostgreSQL)."""
    if conn.dialect.name != "postgresql":
        return
    _create_groups(conn)
    _privileged_function(conn)
    _grant_privileges(conn)
    _secure_own_tables(conn)
    for name, scope in account_scopes(conn).items():
        if name in OWN_POLICIES:
            continue
        conn.execute(text(f"ALTER TABLE {_q(conn, name)} ENABLE ROW LEVEL SECURITY"))
        _replace_policy(conn, name, POLICY, f"USING ({policy_clause(conn, scope)})")


def check(conn: Any) -> list[TableSecurity]:
    """Each account table, its scope, and whether row security is on with a policy (None on SQLite)."""
    scopes = account_scopes(conn)
    states: dict[str, tuple[bool, int]] = {}
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            text(
                "SELECT c.relname, c.relrowsecurity, "
                "(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) "
                "FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace"
            )
        )
        states = {row[0]: (bool(row[1]), int(row[2])) for row in rows}
    result = []
    for name, scope in sorted(scopes.items()):
        label = scope.column if scope.parent is None else f"via {scope.parent}.{scope.parent_column}"
        rls, policies = states.get(name, (False, 0)) if states else (None, None)
        result.append(TableSecurity(name, label, rls, policies))
    return result
