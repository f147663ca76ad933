"""webhook intake: status history, idempotency keys, auto-replies, BSUID

Revision ID: 0004_webhooks
Revises: 0003_template_history
Create Date: 2026-11-25 06:26:27.350667
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0004_webhooks"
down_revision: str | None = "0003_template_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_item",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("field", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("applied_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("webhook_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_item_applied_at"), ["applied_at"], unique=False)

    op.create_table(
        "auto_reply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("inbound_wamid", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("phone_number_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("contact", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("reply_wamid", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("inbound_wamid"),
    )
    with op.batch_alter_table("auto_reply", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auto_reply_account_id"), ["account_id"], unique=False)
        batch_op.create_index("ix_auto_reply_status_created", ["status", "created_at"], unique=False)

    op.create_table(
        "message_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wamid", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("status_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("phone_number_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("recipient_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("biz_opaque_callback_data", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True),
        sa.Column("pricing", sa.JSON(), nullable=True),
        sa.Column("conversation", sa.JSON(), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_title", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("error_details", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("errors", sa.JSON(), nullable=True),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("wamid", "status", name="uq_message_status_wamid_status"),
    )
    with op.batch_alter_table("message_status", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_status_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_status_received_at"), ["received_at"], unique=False)

    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_user_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column("contact_username", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))

    with op.batch_alter_table("webhook_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("summary", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.alter_column(
            "field",
            existing_type=sa.VARCHAR(length=64),
            type_=sqlmodel.sql.sqltypes.AutoString(length=255),
            existing_nullable=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_event", schema=None) as batch_op:
        batch_op.alter_column(
            "field",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=255),
            type_=sa.VARCHAR(length=64),
            existing_nullable=True,
        )
        batch_op.drop_column("summary")

    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("contact_username")
        batch_op.drop_column("contact_user_id")

    with op.batch_alter_table("message_status", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_status_received_at"))
        batch_op.drop_index(batch_op.f("ix_message_status_account_id"))

    op.drop_table("message_status")
    with op.batch_alter_table("auto_reply", schema=None) as batch_op:
        batch_op.drop_index("ix_auto_reply_status_created")
        batch_op.drop_index(batch_op.f("ix_auto_reply_account_id"))

    op.drop_table("auto_reply")
    with op.batch_alter_table("webhook_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_item_applied_at"))

    op.drop_table("webhook_item")
