"""Accounts (WABAs), their phone numbers, and the register/deregister calls made for each number."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from waba_cli.db.models.base import foreign_key, json_column
from waba_cli.db.timestamps import utcnow
from waba_cli.domain.setup_steps import BY_NAME as SETUP


class Account(SQLModel, table=True):
    """A WhatsApp Business Account (WABA) and everything the 6-step setup knows about it.

    The columns follow ``domain.setup_steps``, which checks their values and sets their lengths;
    the step 2 fields live on the account's ``PhoneNumber``.
    """

    __tablename__ = "account"

    id: int | None = Field(default=None, primary_key=True)
    # step 1: Meta Business Account
    name: str = Field(unique=True, max_length=SETUP["name"].max_length)
    waba_id: str = Field(unique=True, max_length=SETUP["waba_id"].max_length)
    meta_business_account_id: str | None = Field(default=None, max_length=SETUP["meta_business_account_id"].max_length)
    app_id: str = Field(max_length=SETUP["app_id"].max_length)
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
    subscribed_webhook_events: list[str] = json_column(default=[])
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
    token_scopes: list[str] = json_column(default=[])
    verified_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class PhoneNumber(SQLModel, table=True):
    """A business phone number of an account, as `waba number sync` last read it from Meta (§4.1).

    Meta's enumerations are stored as Meta wrote them, known or not. A number Meta no longer lists
    is marked ``gone_at``, never deleted: messages and campaigns point at it.
    """

    __tablename__ = "phone_number"
    __table_args__ = (Index("ix_phone_number_account_default", "account_id", "is_default"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = foreign_key("account")
    phone_number_id: str = Field(unique=True, max_length=SETUP["phone_number_id"].max_length)
    phone_number: str = Field(index=True, max_length=SETUP["phone_number"].max_length)  # E.164 with "+"
    display_phone_number: str | None = None
    verified_name: str | None = None
    quality_rating: str | None = None
    status: str | None = None
    code_verification_status: str | None = None
    name_status: str | None = None
    messaging_limit: str | None = None
    throughput_level: str | None = None
    # in coexistence with the WhatsApp Business app: throughput fixed at 20 messages/s (§9.1)
    is_on_biz_app: bool | None = None
    platform_type: str | None = None
    account_mode: str | None = None
    is_pin_enabled: bool | None = None
    # Meta's health_status of the number (§5.6): can_send_message and the entities behind it
    health_status: dict[str, Any] | None = json_column()
    # when name_status last changed as waba saw it (the doctor says how long a review has taken)
    name_status_since: datetime | None = None
    # the two-step PIN waba generated or was given (register, set-pin), encrypted like every secret
    pin_enc: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    gone_at: datetime | None = None  # Meta stopped listing it (sync); kept because messages refer to it
    is_default: bool = False
    synced_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class RegistrationCall(SQLModel, table=True):
    """One register or deregister request sent for a number.

    Meta allows 10 per number in any 72 hours and has no read-back of its count (§4.4): waba counts
    its own and refuses the 11th before Meta answers 133016. A request is recorded before it is sent.
    """

    __tablename__ = "registration_call"
    __table_args__ = (Index("ix_registration_call_number_at", "number_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    number_id: int = foreign_key("phone_number", index=False)
    action: str = Field(max_length=16)  # register | deregister
    at: datetime = Field(default_factory=utcnow)
    error_code: int | None = None  # Meta's answer when it refused
