"""numbers: health_status, name-status age, encrypted PIN, gone marker; register/deregister calls; per-number health log

Revision ID: 0009_numbers
Revises: 0008_phone_number_coexistence
Create Date: 2026-12-02 10:00:00

`waba number sync` stores Meta's health_status of each number and marks numbers Meta no longer
lists (``gone_at``) instead of deleting them; `number register` keeps the PIN it generated
(encrypted) and counts its register/deregister calls (10 per number in 72 hours, §4.4); health-log
entries about one number name it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0009_numbers"
down_revision: str | None = "0008_phone_number_coexistence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("phone_number", schema=None) as batch_op:
        batch_op.add_column(sa.Column("health_status", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("name_status_since", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("pin_enc", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("gone_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))

    op.create_table(
        "registration_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number_id", sa.Integer(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["number_id"], ["phone_number.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("registration_call", schema=None) as batch_op:
        batch_op.create_index("ix_registration_call_number_at", ["number_id", "at"], unique=False)

    with op.batch_alter_table("account_health_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_number_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.create_index("ix_account_health_log_number_checked", ["phone_number_id", "checked_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("account_health_log", schema=None) as batch_op:
        batch_op.drop_index("ix_account_health_log_number_checked")
        batch_op.drop_column("phone_number_id")

    with op.batch_alter_table("registration_call", schema=None) as batch_op:
        batch_op.drop_index("ix_registration_call_number_at")
    op.drop_table("registration_call")

    with op.batch_alter_table("phone_number", schema=None) as batch_op:
        batch_op.drop_column("gone_at")
        batch_op.drop_column("pin_enc")
        batch_op.drop_column("name_status_since")
        batch_op.drop_column("health_status")
