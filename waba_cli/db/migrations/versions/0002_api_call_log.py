"""the Graph API call log (endpoint, status, latency, error code of every request)

Revision ID: 0002_api_call_log
Revises: 0001_initial
Create Date: 2026-11-25 06:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0002_api_call_log"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_call",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("endpoint", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("api_call", schema=None) as batch_op:
        batch_op.create_index("ix_api_call_account_at", ["account_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_api_call_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_api_call_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("api_call", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_call_at"))
        batch_op.drop_index(batch_op.f("ix_api_call_account_id"))
        batch_op.drop_index("ix_api_call_account_at")

    op.drop_table("api_call")
