"""initial schema: the seed's eight tables

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-25 06:01:04.124571
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("waba_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("meta_business_account_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("app_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("app_secret_enc", sa.Text(), nullable=False),
        sa.Column("access_token_enc", sa.Text(), nullable=False),
        sa.Column("access_token_mask", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("webhook_verify_token_enc", sa.Text(), nullable=True),
        sa.Column("business_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("business_description", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("business_email", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("business_vertical", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("business_address", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("enable_auto_reply", sa.Boolean(), nullable=False),
        sa.Column("use_knowledge_base", sa.Boolean(), nullable=False),
        sa.Column("greeting_message", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("fallback_message", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("out_of_hours_message", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("knowledge_base_path", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("enable_business_hours", sa.Boolean(), nullable=False),
        sa.Column("business_hours_start", sa.Time(), nullable=True),
        sa.Column("business_hours_end", sa.Time(), nullable=True),
        sa.Column("business_timezone", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("webhook_url", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("subscribed_webhook_events", sa.JSON(), nullable=False),
        sa.Column("daily_limit", sa.Integer(), nullable=True),
        sa.Column("monthly_limit", sa.Integer(), nullable=True),
        sa.Column("per_minute_limit", sa.Integer(), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("account_review_status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("business_verification_status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("timezone_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("token_type", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("token_expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("token_scopes", sa.JSON(), nullable=False),
        sa.Column("verified_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("waba_id"),
    )
    op.create_table(
        "account_health_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("checked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("check", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("account_health_log", schema=None) as batch_op:
        batch_op.create_index("ix_account_health_log_account_checked", ["account_id", "checked_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_account_health_log_account_id"), ["account_id"], unique=False)

    op.create_table(
        "account_usage_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("granularity", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("messages_sent", sa.Integer(), nullable=False),
        sa.Column("messages_delivered", sa.Integer(), nullable=False),
        sa.Column("messages_read", sa.Integer(), nullable=False),
        sa.Column("messages_failed", sa.Integer(), nullable=False),
        sa.Column("messages_received", sa.Integer(), nullable=False),
        sa.Column("api_calls", sa.Integer(), nullable=False),
        sa.Column("api_errors", sa.Integer(), nullable=False),
        sa.Column("avg_response_ms", sa.Float(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "granularity", "period_start", name="uq_account_usage_period"),
    )
    with op.batch_alter_table("account_usage_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_usage_log_account_id"), ["account_id"], unique=False)

    op.create_table(
        "flow",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("flow_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("validation_errors", sa.JSON(), nullable=False),
        sa.Column("json_version", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("data_api_version", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("endpoint_uri", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("preview_url", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("flow_json", sa.Text(), nullable=True),
        sa.Column("first_screen", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("synced_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "name", name="uq_flow_account_name"),
        sa.UniqueConstraint("flow_id"),
    )
    with op.batch_alter_table("flow", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flow_account_id"), ["account_id"], unique=False)

    op.create_table(
        "message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("phone_number_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("direction", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("wamid", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("contact", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("contact_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("status_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_title", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("error_details", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("campaign", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("template_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("context_wamid", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("biz_opaque_callback_data", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True),
        sa.Column("pricing", sa.JSON(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("wamid"),
    )
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.create_index("ix_message_account_created", ["account_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_campaign"), ["campaign"], unique=False)
        batch_op.create_index("ix_message_status_created", ["status", "created_at"], unique=False)
        batch_op.create_index(
            "ix_message_window", ["phone_number_id", "contact", "direction", "created_at"], unique=False
        )

    op.create_table(
        "message_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("template_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("parameter_format", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("quality_score", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("rejected_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("previous_category", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("status_updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("synced_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "name", "language", name="uq_message_template_account_name_language"),
    )
    with op.batch_alter_table("message_template", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_template_account_id"), ["account_id"], unique=False)
        batch_op.create_index("ix_message_template_account_status", ["account_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_template_template_id"), ["template_id"], unique=False)

    op.create_table(
        "phone_number",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("phone_number_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("phone_number", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("display_phone_number", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("verified_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("quality_rating", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("code_verification_status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("name_status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("messaging_limit", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("throughput_level", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("platform_type", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("account_mode", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("is_pin_enabled", sa.Boolean(), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("synced_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("phone_number_id"),
    )
    with op.batch_alter_table("phone_number", schema=None) as batch_op:
        batch_op.create_index("ix_phone_number_account_default", ["account_id", "is_default"], unique=False)
        batch_op.create_index(batch_op.f("ix_phone_number_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_phone_number_phone_number"), ["phone_number"], unique=False)

    op.create_table(
        "webhook_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("field", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=True),
        sa.Column("body_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("applied_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("webhook_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_event_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_webhook_event_body_sha256"), ["body_sha256"], unique=False)
        batch_op.create_index("ix_webhook_event_field_received", ["field", "received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_webhook_event_received_at"), ["received_at"], unique=False)
        batch_op.create_index("ix_webhook_event_status_received", ["status", "received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhook_event", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_event_status_received")
        batch_op.drop_index(batch_op.f("ix_webhook_event_received_at"))
        batch_op.drop_index("ix_webhook_event_field_received")
        batch_op.drop_index(batch_op.f("ix_webhook_event_body_sha256"))
        batch_op.drop_index(batch_op.f("ix_webhook_event_account_id"))

    op.drop_table("webhook_event")
    with op.batch_alter_table("phone_number", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_phone_number_phone_number"))
        batch_op.drop_index(batch_op.f("ix_phone_number_account_id"))
        batch_op.drop_index("ix_phone_number_account_default")

    op.drop_table("phone_number")
    with op.batch_alter_table("message_template", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_template_template_id"))
        batch_op.drop_index("ix_message_template_account_status")
        batch_op.drop_index(batch_op.f("ix_message_template_account_id"))

    op.drop_table("message_template")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index("ix_message_window")
        batch_op.drop_index("ix_message_status_created")
        batch_op.drop_index(batch_op.f("ix_message_campaign"))
        batch_op.drop_index(batch_op.f("ix_message_account_id"))
        batch_op.drop_index("ix_message_account_created")

    op.drop_table("message")
    with op.batch_alter_table("flow", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flow_account_id"))

    op.drop_table("flow")
    with op.batch_alter_table("account_usage_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_usage_log_account_id"))

    op.drop_table("account_usage_log")
    with op.batch_alter_table("account_health_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_health_log_account_id"))
        batch_op.drop_index("ix_account_health_log_account_checked")

    op.drop_table("account_health_log")
    op.drop_table("account")
