"""template drafts: TTL, sub-category, announced category

Revision ID: 0005_templates
Revises: 0004_webhooks
Create Date: 2026-11-25 06:28:41.728518
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0005_templates"
down_revision: str | None = "0004_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("message_template", schema=None) as batch_op:
        batch_op.add_column(sa.Column("correct_category", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column("sub_category", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column("message_send_ttl_seconds", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("message_template", schema=None) as batch_op:
        batch_op.drop_column("message_send_ttl_seconds")
        batch_op.drop_column("sub_category")
        batch_op.drop_column("correct_category")
