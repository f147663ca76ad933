"""health: check runs, their results per account and check, Graph answers kept for reuse

Revision ID: 0010_health
Revises: 0009_numbers
Create Date: 2026-12-03 09:00:00

`waba health check` stores every run and each check's result (what changed since the previous run,
`waba health history`) and keeps Meta's answers per account for ``--max-age`` so that a cron job
every minute stays inside Meta's management-call budget.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0010_health"
down_revision: str | None = "0009_numbers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "health_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("notified_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("notify_error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("health_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_health_run_started_at"), ["started_at"], unique=False)

    op.create_table(
        "health_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("account_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("check", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("cached", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["run_id"], ["health_run.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("health_result", schema=None) as batch_op:
        batch_op.create_index("ix_health_result_account_check", ["account_id", "check", "run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_health_result_run_id"), ["run_id"], unique=False)

    op.create_table(
        "health_graph_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("call", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("fetched_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "call", name="uq_health_graph_answer_account_call"),
    )


def downgrade() -> None:
    op.drop_table("health_graph_answer")
    with op.batch_alter_table("health_result", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_health_result_run_id"))
        batch_op.drop_index("ix_health_result_account_check")
    op.drop_table("health_result")
    with op.batch_alter_table("health_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_health_run_started_at"))
    op.drop_table("health_run")
