"""flows: the tokens sent with Flow messages, the completions that came back, a flow's health

Revision ID: 0011_flows
Revises: 0010_health
Create Date: 2026-12-03 10:00:00

`waba send flow` records every ``flow_token`` it sends with the flow, contact, message and campaign;
the webhook keeps each completion (``nfm_reply``) as a response tied back through its token, so
`waba flow responses` can show the answers as a table. `waba flow sync` stores Meta's health verdict.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0011_flows"
down_revision: str | None = "0010_health"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("flow", schema=None) as batch_op:
        batch_op.add_column(sa.Column("health", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))

    op.create_table(
        "flow_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("flow_row_id", sa.Integer(), nullable=True),
        sa.Column("flow_ref", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("contact", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("campaign", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["flow_row_id"], ["flow.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("flow_token", schema=None) as batch_op:
        batch_op.create_index("ix_flow_token_account_token", ["account_id", "token"], unique=False)
        batch_op.create_index(batch_op.f("ix_flow_token_flow_row_id"), ["flow_row_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_flow_token_message_id"), ["message_id"], unique=False)

    op.create_table(
        "flow_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("wamid", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("flow_row_id", sa.Integer(), nullable=True),
        sa.Column("flow_token", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("token_known", sa.Boolean(), nullable=False),
        sa.Column("contact", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("context_wamid", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("campaign", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("data", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["flow_row_id"], ["flow.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("wamid"),
    )
    with op.batch_alter_table("flow_response", schema=None) as batch_op:
        batch_op.create_index("ix_flow_response_account_received", ["account_id", "received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_flow_response_flow_row_id"), ["flow_row_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("flow_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flow_response_flow_row_id"))
        batch_op.drop_index("ix_flow_response_account_received")
    op.drop_table("flow_response")
    with op.batch_alter_table("flow_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flow_token_message_id"))
        batch_op.drop_index(batch_op.f("ix_flow_token_flow_row_id"))
        batch_op.drop_index("ix_flow_token_account_token")
    op.drop_table("flow_token")
    with op.batch_alter_table("flow", schema=None) as batch_op:
        batch_op.drop_column("health")
