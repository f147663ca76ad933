"""operators: accounts granted to operators, the audit trail, and row-level security on PostgreSQL

Revision ID: 0014_operators
Revises: 0013_campaign_pacing
Create Date: 2026-12-03 12:00:00

Both backends get the two tables. On PostgreSQL the group roles waba_operator, waba_admin and
waba_service are created if missing (NOLOGIN), granted the tables, and every table holding account
data gets row-level security with a policy (``waba_cli.db.access``, which later upgrades re-apply).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from waba_cli.db import access

revision: str = "0014_operators"
down_revision: str | None = "0013_campaign_pacing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "operator_grant",
        sa.Column("role_name", sqlmodel.sql.sqltypes.AutoString(length=63), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("granted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("granted_by", sqlmodel.sql.sqltypes.AutoString(length=63), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("role_name", "account_id"),
    )
    with op.batch_alter_table("operator_grant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_operator_grant_account_id"), ["account_id"], unique=False)

    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=63), nullable=False),
        sa.Column("command", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("arguments", sa.JSON(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entry_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entry_actor"), ["actor"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entry_at"), ["at"], unique=False)

    access.secure(op.get_bind())


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in access.account_scopes(bind):
            bind.execute(sa.text(f'DROP POLICY IF EXISTS {access.POLICY} ON "{table}"'))
            bind.execute(sa.text(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY'))
        bind.execute(sa.text("DROP FUNCTION IF EXISTS waba_privileged()"))
    op.drop_table("audit_entry")
    op.drop_table("operator_grant")
