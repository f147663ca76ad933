"""``GET /debug_token`` (§5.3): what a token is, for whom, until when, with which scopes."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from waba_cli.sandbox.auth import BUSINESS_MANAGEMENT, MANAGEMENT, MESSAGING, authenticate, bearer, is_app_token
from waba_cli.sandbox.errors import GraphFailure, missing

if TYPE_CHECKING:
    from waba_cli.sandbox.runtime import Request, Runtime
    from waba_cli.sandbox.state import Token


def debug_token(sandbox: Runtime, request: Request, params: dict[str, Any]) -> dict[str, Any]:
    caller = bearer(request, params)
    if caller is None:
        raise GraphFailure(190, message="(#190) An access token is required to inspect a token.", http_status=401)
    if "|" in caller:
        if not is_app_token(sandbox.state, caller):
            raise GraphFailure(190, message="Invalid OAuth access token signature.", http_status=401)
    else:
        authenticate(sandbox.state, request, {"access_token": caller})
    input_token = params.get("input_token")
    if not input_token:
        raise missing("input_token")
    token = sandbox.state.tokens.get(str(input_token))
    if token is None:
        return {
            "data": {
                "is_valid": False,
                "error": {"code": 190, "message": "Invalid OAuth access token.", "subcode": 467},
                "scopes": [],
            }
        }
    expired = bool(token.expires_at and token.expires_at < time.time())
    data: dict[str, Any] = {
        "app_id": token.app_id,
        "type": token.type,
        "application": sandbox.state.app.name,
        "data_access_expires_at": 0 if not token.expires_at else token.expires_at + 90 * 86400,
        "expires_at": token.expires_at,
        "is_valid": token.valid and not expired,
        "issued_at": token.issued_at,
        "scopes": list(token.scopes),
        "granular_scopes": [_granted(sandbox, token, scope) for scope in token.scopes if scope != "public_profile"],
        "user_id": token.user_id,
    }
    if not data["is_valid"]:
        data["error"] = {
            "code": 190,
            "message": "Error validating access token: Session has expired.",
            "subcode": 463,
        }
    return {"data": data}


def _granted(sandbox: Runtime, token: Token, scope: str) -> dict[str, Any]:
    """One granular scope: the WhatsApp ones name the token's WABAs, business_management their owners."""
    if not token.target_ids:
        return {"scope": scope}
    if scope in (MANAGEMENT, MESSAGING):
        return {"scope": scope, "target_ids": list(token.target_ids)}
    if scope == BUSINESS_MANAGEMENT:
        wabas = [sandbox.state.wabas[w] for w in token.target_ids if w in sandbox.state.wabas]
        owners = list(dict.fromkeys(w.business_id for w in wabas))
        return {"scope": scope, "target_ids": owners} if owners else {"scope": scope}
    return {"scope": scope}
