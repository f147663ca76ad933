"""phone numbers: is_on_biz_app (coexistence with the WhatsApp Business app, 20 messages/s)

Revision ID: 0008_phone_number_coexistence
Revises: 0007_lean_write_indexes
Create Date: 2026-11-30 23:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_phone_number_coexistence"
down_revision: str | None = "0007_lean_write_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("phone_number", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_on_biz_app", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("phone_number", schema=None) as batch_op:
        batch_op.drop_column("is_on_biz_app")
