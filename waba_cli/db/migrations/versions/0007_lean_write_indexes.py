"""lean write indexes: drop the indexes the webhook hot path paid for and nothing read

Revision ID: 0007_lean_write_indexes
Revises: 0006_campaigns
Create Date: 2026-11-30 22:40:00

- ``ix_webhook_event_body_sha256``: nothing looks an event up by its hash, and a hash index is a
  random B-tree insert for every delivery;
- ``ix_message_status_created``: every status webhook moves a message's status, so the row moved
  inside this index at random on every delivery; status filters use the account index;
- ``ix_message_account_id``: ``ix_message_account_created`` starts with the same column.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007_lean_write_indexes"
down_revision: str | None = "0006_campaigns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_webhook_event_body_sha256", table_name="webhook_event")
    op.drop_index("ix_message_status_created", table_name="message")
    op.drop_index("ix_message_account_id", table_name="message")


def downgrade() -> None:
    op.create_index("ix_message_account_id", "message", ["account_id"], unique=False)
    op.create_index("ix_message_status_created", "message", ["status", "created_at"], unique=False)
    op.create_index("ix_webhook_event_body_sha256", "webhook_event", ["body_sha256"], unique=False)
