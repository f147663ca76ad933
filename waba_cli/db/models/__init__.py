"""SQLModel tables: the seed's eight models, the Graph API call log and the register/deregister calls.

Conventions, the same on SQLite and PostgreSQL:
- timestamps are timezone-aware UTC (``utcnow()``; SQLModel stores them as UTC on both backends);
- Meta's ids (WABA, phone number, template, flow, wamid) are strings, as the Graph API says;
- Meta's enumerations are plain strings: Meta adds values, and an unknown value must never crash;
- secrets live only in ``*_enc`` columns as Fernet tokens; ``access_token_mask`` is for display.
Every change to these tables needs an Alembic revision in ``db/migrations/versions`` and a bump of
``db.engine.SCHEMA_REVISION``.

The tables live in one module per area, so a command loads only the tables it touches (``account
list`` needs two of nine; building a SQLModel table class costs milliseconds each):
``accounts`` (Account, PhoneNumber, RegistrationCall), ``templates``, ``messages`` (and their status history),
``webhooks`` (deliveries and idempotency keys), ``bot`` (auto-replies), ``flows``, ``logs``
(health, usage and the Graph API call log), ``health`` (`health check` runs, results, Graph answers),
``analytics`` (daily figures), ``access`` (operator grants and the audit trail).
``all_tables()`` loads every one (migrations, db info).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlmodel import SQLModel


def all_tables() -> tuple[type[SQLModel], ...]:
    """Every table class, in dependency order (loads all the model modules)."""
    from waba_cli.db.models.access import AuditEntry, OperatorGrant
    from waba_cli.db.models.accounts import Account, PhoneNumber, RegistrationCall
    from waba_cli.db.models.analytics import AnalyticsDay, AnalyticsMeta, AnalyticsState
    from waba_cli.db.models.bot import AutoReply
    from waba_cli.db.models.campaigns import Campaign, CampaignRecipient
    from waba_cli.db.models.flows import Flow, FlowResponse, FlowToken
    from waba_cli.db.models.health import HealthGraphAnswer, HealthResult, HealthRun
    from waba_cli.db.models.logs import AccountHealthLog, AccountUsageLog, ApiCall
    from waba_cli.db.models.messages import Message, MessageStatus
    from waba_cli.db.models.templates import MessageTemplate, TemplateEvent
    from waba_cli.db.models.webhooks import WebhookEvent, WebhookItem

    return (
        Account,
        PhoneNumber,
        RegistrationCall,
        MessageTemplate,
        TemplateEvent,
        Message,
        MessageStatus,
        Campaign,
        CampaignRecipient,
        AutoReply,
        WebhookEvent,
        WebhookItem,
        Flow,
        FlowToken,
        FlowResponse,
        AccountHealthLog,
        AccountUsageLog,
        ApiCall,
        HealthRun,
        HealthResult,
        HealthGraphAnswer,
        AnalyticsDay,
        AnalyticsState,
        AnalyticsMeta,
        OperatorGrant,
        AuditEntry,
    )
