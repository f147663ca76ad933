"""campaigns: the pace a run used and why (`waba campaign show`)

Revision ID: 0013_campaign_pacing
Revises: 0012_analytics
Create Date: 2026-12-03 12:00:00

A campaign's pace comes from the flags, the sending number's throughput and the account's
per-minute limit; what the last run used is kept with its reason, so `campaign show` can tell
afterwards why a campaign took as long as it did.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0013_campaign_pacing"
down_revision: str | None = "0012_analytics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rate", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("rate_reason", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("rate_reason")
        batch_op.drop_column("rate")
