"""The Graph API: the only package that speaks HTTP.

``errors`` is imported eagerly (callers catch its classes); the client and the API wrappers load
httpx and tenacity, so they are imported on first use to keep start-up fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from waba_cli.graph.errors import (
    AccountError,
    AuthError,
    FlowError,
    GraphError,
    GraphNetworkError,
    InvalidRequest,
    MediaError,
    PairRateLimited,
    PermissionDenied,
    PhoneNumberError,
    RateLimited,
    RecipientError,
    ServiceUnavailable,
    SpamLimited,
    TemplateError,
    WebhookErrorInfo,
    error_from_webhook,
)

if TYPE_CHECKING:
    from waba_cli.graph.api import GraphAPI
    from waba_cli.graph.client import CallRecord, Credentials, GraphClient

_LAZY = {
    "GraphAPI": "waba_cli.graph.api",
    "CallRecord": "waba_cli.graph.client",
    "Credentials": "waba_cli.graph.client",
    "GraphClient": "waba_cli.graph.client",
}

__all__ = [
    "AccountError",
    "AuthError",
    "CallRecord",
    "Credentials",
    "FlowError",
    "GraphAPI",
    "GraphClient",
    "GraphError",
    "GraphNetworkError",
    "InvalidRequest",
    "MediaError",
    "PairRateLimited",
    "PermissionDenied",
    "PhoneNumberError",
    "RateLimited",
    "RecipientError",
    "ServiceUnavailable",
    "SpamLimited",
    "TemplateError",
    "WebhookErrorInfo",
    "error_from_webhook",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
