"""SQLModel tables: the seed's eight models plus the Graph API call log.

Conventions, the same on SQLite and PostgreSQL:
- timestamps are timezone-aware UTC (``utcnow()``; SQLModel stores them as UTC on both backends);
- Meta's ids (WABA, phone number, template, flow, wamid) are strings, as the Graph API says;
- Meta's enumerations are plain strings: Meta adds values, and an unknown value must never crash;
- secrets live only in ``*_enc`` columns as Fernet tokens; ``access_token_mask`` is for display.
Every change to these tables needs an Alembic revision in ``db/migrations/versions`` and a bump of
``db.engine.SCHEMA_REVISION``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Now, in UTC, as every timestamp column stores it."""
    return datetime.now(UTC)


def _fk(table: str, *, nullable: bool = False, on_delete: str = "CASCADE") -> Any:
    return Field(
        default=None if nullable else ...,
        sa_column=Column(Integer, ForeignKey(f"{table}.id", ondelete=on_delete), nullable=nullable, index=True),
    )


def _json(default: Any = None) -> Any:
    factory = (lambda: list(default)) if isinstance(default, list) else None
    if factory:
        return Field(default_factory=factory, sa_column=Column(JSON, nullable=False))
    return Field(default=default, sa_column=Column(JSON, nullable=True))


class Account(SQLModel, table=True):
    """A WhatsApp Business Account (WABA) and everything the 6-step setup knows about it."""

    __tablename__ = "account"

    id: int | None = Field(default=None, primary_key=True)
    # step 1: Meta Business Account
    name: str = Field(unique=True, max_length=100)
    waba_id: str = Field(unique=True, max_length=32)
    meta_business_account_id: str | None = Field(default=None, max_length=32)
    app_id: str = Field(max_length=32)
    app_secret_enc: str = Field(sa_column=Column(Text, nullable=False))
    # step 3: access tokens
    access_token_enc: str = Field(sa_column=Column(Text, nullable=False))
    access_token_mask: str = Field(max_length=32)
    webhook_verify_token_enc: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # step 4: business profile
    business_name: str | None = None
    business_description: str | None = None
    business_email: str | None = None
    business_vertical: str | None = None
    business_address: str | None = None
    # step 5: bot configuration
    enable_auto_reply: bool = False
    use_knowledge_base: bool = False
    greeting_message: str | None = None
    fallback_message: str | None = None
    out_of_hours_message: str | None = None
    knowledge_base_path: str | None = None
    enable_business_hours: bool = False
    business_hours_start: time | None = None
    business_hours_end: time | None = None
    business_timezone: str = "UTC"
    # step 6: webhook configuration
    webhook_url: str | None = None
    subscribed_webhook_events: list[str] = _json(default=[])
    # local sending limits (None = no limit), counted in business_timezone
    daily_limit: int | None = None
    monthly_limit: int | None = None
    per_minute_limit: int | None = None
    # what Meta said when last asked (GET /{waba-id}, debug_token)
    is_default: bool = False
    status: str | None = None
    account_review_status: str | None = None
    business_verification_status: str | None = None
    currency: str | None = None
    timezone_id: str | None = None
    token_type: str | None = None
    token_expires_at: datetime | None = None
    token_scopes: list[str] = _json(default=[])
    verified_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class PhoneNumber(SQLModel, table=True):
    """A business phone number of an account."""

    __tablename__ = "phone_number"
    __table_args__ = (Index("ix_phone_number_account_default", "account_id", "is_default"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = _fk("account")
    phone_number_id: str = Field(unique=True, max_length=32)
    phone_number: str = Field(index=True, max_length=20)  # E.164 with "+"
    display_phone_number: str | None = None
    verified_name: str | None = None
    quality_rating: str | None = None
    status: str | None = None
    code_verification_status: str | None = None
    name_status: str | None = None
    messaging_limit: str | None = None
    throughput_level: str | None = None
    platform_type: str | None = None
    account_mode: str | None = None
    is_pin_enabled: bool | None = None
    is_default: bool = False
    synced_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class MessageTemplate(SQLModel, table=True):
    """A message template in one language: a local draft or Meta's copy of it."""

    __tablename__ = "message_template"
    __table_args__ = (
        UniqueConstraint("account_id", "name", "language", name="uq_message_template_account_name_language"),
        Index("ix_message_template_account_status", "account_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = _fk("account")
    name: str = Field(max_length=512)
    language: str = Field(max_length=16)
    category: str = Field(max_length=32)
    status: str = Field(default="DRAFT", max_length=32)  # DRAFT locally, else Meta's status
    template_id: str | None = Field(default=None, index=True, max_length=32)
    parameter_format: str = Field(default="POSITIONAL", max_length=16)
    components: list[dict[str, Any]] = _json(default=[])
    quality_score: str | None = None
    rejected_reason: str | None = None
    previous_category: str | None = None
    status_updated_at: datetime | None = None
    synced_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Message(SQLModel, table=True):
    """One message, sent (``out``) or received (``in``), with its latest status."""

    __tablename__ = "message"
    __table_args__ = (
        Index("ix_message_account_created", "account_id", "created_at"),
        # the 24-hour window: the contact's last inbound message to a business number
        Index("ix_message_window", "phone_number_id", "contact", "direction", "created_at"),
        Index("ix_message_status_created", "status", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int | None = _fk("account", nullable=True)
    phone_number_id: str | None = Field(default=None, max_length=32)  # the business number's id
    direction: str = Field(max_length=3)  # "out" | "in"
    wamid: str | None = Field(default=None, unique=True, max_length=255)
    contact: str = Field(max_length=64)  # the customer: E.164 "+..." or a business-scoped user id
    contact_name: str | None = None
    type: str = Field(max_length=32)
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    payload: dict[str, Any] | None = _json()
    status: str = Field(max_length=16)
    status_at: datetime | None = None
    error_code: int | None = None
    error_title: str | None = None
    error_details: str | None = None
    campaign: str | None = Field(default=None, index=True, max_length=255)
    template_name: str | None = None
    context_wamid: str | None = Field(default=None, max_length=255)
    biz_opaque_callback_data: str | None = Field(default=None, max_length=512)
    pricing: dict[str, Any] | None = _json()
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class WebhookEvent(SQLModel, table=True):
    """One webhook delivery exactly as it arrived (raw bytes), and how applying it went."""

    __tablename__ = "webhook_event"
    __table_args__ = (
        Index("ix_webhook_event_status_received", "status", "received_at"),
        Index("ix_webhook_event_field_received", "field", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int | None = _fk("account", nullable=True, on_delete="SET NULL")
    received_at: datetime = Field(default_factory=utcnow, index=True)
    field: str | None = Field(default=None, max_length=64)
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    headers: dict[str, Any] | None = _json()
    body_sha256: str = Field(index=True, max_length=64)
    status: str = Field(default="received", max_length=16)  # received | applied | failed
    error: str | None = None
    applied_at: datetime | None = None


class Flow(SQLModel, table=True):
    """A WhatsApp Flow of an account."""

    __tablename__ = "flow"
    __table_args__ = (UniqueConstraint("account_id", "name", name="uq_flow_account_name"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = _fk("account")
    flow_id: str | None = Field(default=None, unique=True, max_length=32)
    name: str = Field(max_length=200)
    status: str = Field(default="DRAFT", max_length=32)
    categories: list[str] = _json(default=[])
    validation_errors: list[Any] = _json(default=[])
    json_version: str | None = None
    data_api_version: str | None = None
    endpoint_uri: str | None = None
    preview_url: str | None = None
    flow_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    first_screen: str | None = None
    synced_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AccountHealthLog(SQLModel, table=True):
    """A health observation: a check's result or a health-relevant webhook."""

    __tablename__ = "account_health_log"
    __table_args__ = (Index("ix_account_health_log_account_checked", "account_id", "checked_at"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = _fk("account")
    checked_at: datetime = Field(default_factory=utcnow)
    source: str = Field(default="check", max_length=16)  # check | webhook
    check: str = Field(max_length=64)
    status: str = Field(max_length=16)  # OK | WARNING | CRITICAL | UNKNOWN
    detail: str | None = None
    data: dict[str, Any] | None = _json()


class AccountUsageLog(SQLModel, table=True):
    """Usage of an account in one day or month (rolled up from messages and API calls)."""

    __tablename__ = "account_usage_log"
    __table_args__ = (UniqueConstraint("account_id", "granularity", "period_start", name="uq_account_usage_period"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = _fk("account")
    granularity: str = Field(max_length=8)  # day | month
    period_start: date
    messages_sent: int = 0
    messages_delivered: int = 0
    messages_read: int = 0
    messages_failed: int = 0
    messages_received: int = 0
    api_calls: int = 0
    api_errors: int = 0
    avg_response_ms: float | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class ApiCall(SQLModel, table=True):
    """One Graph API request: what, when, how it went. Never bodies, query strings or tokens."""

    __tablename__ = "api_call"
    __table_args__ = (Index("ix_api_call_account_at", "account_id", "at"),)

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    )
    account_id: int | None = _fk("account", nullable=True, on_delete="SET NULL")
    at: datetime = Field(default_factory=utcnow, index=True)
    method: str = Field(max_length=8)
    endpoint: str = Field(max_length=255)  # path with ids replaced by {id}
    status_code: int | None = None
    latency_ms: float
    error_code: int | None = None
    attempt: int = 1


ALL_TABLES: tuple[type[SQLModel], ...] = (
    Account,
    PhoneNumber,
    MessageTemplate,
    Message,
    WebhookEvent,
    Flow,
    AccountHealthLog,
    AccountUsageLog,
    ApiCall,
)
