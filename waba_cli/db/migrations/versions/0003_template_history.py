"""template status history

Revision ID: 0003_template_history
Revises: 0002_api_call_log
Create Date: 2026-11-25 06:17:41.525624
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0003_template_history"
down_revision: str | None = "0002_api_call_log"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "template_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_row_id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("event", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("quality_score", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["template_row_id"], ["message_template.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("template_event", schema=None) as batch_op:
        batch_op.create_index("ix_template_event_template_at", ["template_row_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_template_event_template_row_id"), ["template_row_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("template_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_template_event_template_row_id"))
        batch_op.drop_index("ix_template_event_template_at")

    op.drop_table("template_event")
