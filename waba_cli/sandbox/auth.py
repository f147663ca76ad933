"""Authentication (§1.2): the caller's token (header or ``access_token``), an app token
(``app_id|app_secret``) where Graph takes one, ``appsecret_proof``, and what a token may see and do
(its WABAs in ``target_ids``, its permissions in ``scopes``)."""

from __future__ import annotations

import hashlib
import hmac
import time
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from waba_cli.sandbox.errors import GraphFailure
from waba_cli.sandbox.state import App, Flow, Media, PhoneNumber, State, Template, Token, UploadSession, Waba

if TYPE_CHECKING:
    from waba_cli.sandbox.runtime import Call, Request

MANAGEMENT, MESSAGING = "whatsapp_business_management", "whatsapp_business_messaging"
BUSINESS_MANAGEMENT = "business_management"  # a business portfolio's edges (§1.2, §5.5)


def bearer(request: Request, params: dict[str, Any]) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("bearer", "oauth") and value.strip():
        return value.strip()
    token = params.pop("access_token", None)
    return str(token) if token else None


def authenticate(state: State, request: Request, params: dict[str, Any], *, app_endpoint: bool = False) -> Token | None:
    """The caller's token; an app token (``app_id|secret``) only where Graph takes one."""
    value = bearer(request, params)
    if value is None:
        raise GraphFailure(
            190, message="(#190) An active access token must be used to query this endpoint.", http_status=401
        )
    if "|" in value:
        if app_endpoint and is_app_token(state, value):
            return None
        raise GraphFailure(190, message="Invalid OAuth access token signature.", http_status=401)
    token = state.tokens.get(value)
    if token is None:
        raise GraphFailure(190, message="Invalid OAuth access token - Cannot parse access token", http_status=401)
    if not token.valid or (token.expires_at and token.expires_at < time.time()):
        raise GraphFailure(
            190, message="Error validating access token: Session has expired.", subcode=463, http_status=401
        )
    proof = params.pop("appsecret_proof", None)
    if proof is not None and proof != _proof(state.app.secret, token.token):
        raise GraphFailure(100, message="Invalid appsecret_proof provided in the API argument")
    return token


@lru_cache(maxsize=1024)
def _proof(app_secret: str, token: str) -> str:
    return hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def is_app_token(state: State, value: str) -> bool:
    app_id, _, secret = value.partition("|")
    return app_id == state.app.id and hmac.compare_digest(secret, state.app.secret)


def may_see(state: State, token: Token | None, obj: Any) -> bool:
    if token is None:
        return isinstance(obj, App)
    if isinstance(obj, App | UploadSession):
        return token.app_id == state.app.id
    waba_id = _waba_of(state, obj)
    return waba_id is None or not token.target_ids or waba_id in token.target_ids


def _waba_of(state: State, obj: Any) -> str | None:
    if isinstance(obj, Waba):
        return obj.id
    if isinstance(obj, PhoneNumber | Template | Flow):
        return obj.waba_id
    if isinstance(obj, Media):
        number = state.phone_numbers.get(obj.phone_number_id)
        return number.waba_id if number else None
    return None


def require_scope(call: Call, scope: str) -> None:
    if call.token is not None and scope not in call.token.scopes:
        raise GraphFailure(10, f"The access token does not have the {scope} permission.", http_status=403)
