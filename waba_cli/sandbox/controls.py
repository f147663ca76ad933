"""The sandbox's test controls (``POST /_sandbox/...``): make happen what Meta decides on its own.

Like Stripe's test clocks, these let tests and operators produce the situations waba must handle:
a token that expires soon or was revoked, a number whose quality drops, a paused template, a Flow
whose endpoint degrades, a WABA whose payment method fails. Each change emits the webhook Meta
would send. ``POST /_sandbox/wabas`` adds a whole WABA (numbers and a template) shared with the
sandbox's system user, for tests and benchmarks of many accounts.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from waba_cli.sandbox import fixtures
from waba_cli.sandbox.endpoints.flows import flow_status
from waba_cli.sandbox.endpoints.templates import template_event
from waba_cli.sandbox.errors import GraphFailure, bad_param, not_found
from waba_cli.sandbox.state import PhoneNumber, Template, Token, Waba

if TYPE_CHECKING:
    from waba_cli.sandbox.runtime import Runtime

QUALITY = ("GREEN", "YELLOW", "RED", "UNKNOWN", "NA")
NUMBER_STATUSES = ("CONNECTED", "DISCONNECTED", "PENDING", "FLAGGED", "RESTRICTED", "RATE_LIMITED", "UNVERIFIED")
LIMITS = ("TIER_250", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED")
NAME_DECISIONS = {"APPROVED": "APPROVED", "DECLINED": "REJECTED", "PENDING_REVIEW": None}
TEMPLATE_STATUSES = ("APPROVED", "PAUSED", "DISABLED", "FLAGGED", "REINSTATED", "REJECTED", "IN_APPEAL")
FLOW_HEALTH = ("PUBLISHED", "THROTTLED", "BLOCKED")
WABA_HEALTH = ("AVAILABLE", "LIMITED", "BLOCKED")
REVIEW_STATUSES = ("APPROVED", "PENDING", "REJECTED")
MOST_NUMBERS = 25  # Meta's max_phone_numbers_per_waba (§9.3)


def control(sandbox: Runtime, segments: list[str], params: dict[str, Any]) -> dict[str, Any]:
    """Apply ``POST /_sandbox/<kind>[/<id>]``; the changed object's new values."""
    kind, object_id = segments[0], (segments[1] if len(segments) > 1 else None)
    if object_id is None and kind in _MAKERS:
        return _MAKERS[kind](sandbox, params)
    if object_id is not None and kind in _CHANGERS:
        return _CHANGERS[kind](sandbox, object_id, params)
    raise GraphFailure(2500, message=f"Unknown path components: /_sandbox/{'/'.join(segments)}")


def _choice(params: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if str(value).upper() not in allowed:
        raise bad_param(f"{name} must be one of {', '.join(allowed)}.")
    return str(value).upper()


def _new_token(sandbox: Runtime, params: dict[str, Any]) -> dict[str, Any]:
    """A new system-user token of the sandbox app: ``expires_in`` seconds (none: never), ``scopes``."""
    expires_in = params.get("expires_in")
    scopes = params.get("scopes") or list(fixtures.SCOPES)
    if not isinstance(scopes, list):
        raise bad_param("scopes must be a list of permission names.")
    now = int(time.time())
    token = Token(
        token="EAAGsbx" + secrets.token_urlsafe(48).replace("-", "A").replace("_", "B"),
        type="SYSTEM_USER",
        app_id=sandbox.state.app.id,
        user_id=fixtures.SYSTEM_USER_ID,
        scopes=[str(s) for s in scopes],
        target_ids=[str(t) for t in params.get("target_ids") or [fixtures.WABA_ID]],
        issued_at=now,
        expires_at=now + int(expires_in) if expires_in else 0,
    )
    sandbox.state.tokens[token.token] = token
    sandbox.state.dirty = True
    return {"access_token": token.token, "expires_at": token.expires_at, "scopes": token.scopes}


def _revoke_token(sandbox: Runtime, value: str, _params: dict[str, Any]) -> dict[str, Any]:
    token = sandbox.state.tokens.get(value)
    if token is None:
        raise not_found("token", "POST")
    token.valid = False
    sandbox.state.dirty = True
    return {"success": True}


def _change_number(sandbox: Runtime, phone_number_id: str, params: dict[str, Any]) -> dict[str, Any]:
    number = sandbox.state.phone_numbers.get(phone_number_id)
    if number is None:
        raise not_found(phone_number_id, "POST")
    quality = _choice(params, "quality_rating", QUALITY)
    status = _choice(params, "status", NUMBER_STATUSES)
    limit = _choice(params, "messaging_limit", LIMITS)
    throughput = _choice(params, "throughput_level", ("STANDARD", "HIGH"))
    name_status = _choice(params, "name_status", tuple(NAME_DECISIONS))
    coexistence = params.get("is_on_biz_app")
    if coexistence is not None and not isinstance(coexistence, bool):
        raise bad_param("is_on_biz_app must be true or false.")
    event: str | None = None
    if quality is not None and quality != number.quality_rating:
        worse = QUALITY.index(quality) > QUALITY.index(number.quality_rating) if quality in QUALITY[:3] else False
        event = "FLAGGED" if worse else "UNFLAGGED"
        number.quality_rating = quality
    if status is not None:
        number.status = status
    old_limit = number.messaging_limit
    if limit is not None and limit != old_limit:
        event = "UPGRADE" if LIMITS.index(limit) > LIMITS.index(old_limit) else "DOWNGRADE"
        number.messaging_limit = limit
    if coexistence is not None:
        number.is_on_biz_app = coexistence
    if throughput is not None and throughput != number.throughput_level:
        number.throughput_level = throughput
        if throughput == "HIGH":
            event = "THROUGHPUT_UPGRADE"
    if name_status is not None and name_status != number.name_status:
        number.name_status = name_status
        decision = NAME_DECISIONS[name_status]
        if decision is not None:  # Meta's review decided: the name webhook
            review = {"display_phone_number": number.digits, "decision": decision}
            review["requested_verified_name"] = number.verified_name
            sandbox.emit_management(number.waba_id, "phone_number_name_update", review)
    sandbox.state.dirty = True
    if event is not None:
        value: dict[str, Any] = {
            "display_phone_number": number.digits,
            "event": event,
            "current_limit": number.messaging_limit,
            "max_daily_conversations_per_business": number.messaging_limit,
        }
        if limit is not None and limit != old_limit:
            value["old_limit"] = old_limit
        sandbox.emit_management(number.waba_id, "phone_number_quality_update", value)
    return {
        "id": number.id,
        "quality_rating": number.quality_rating,
        "status": number.status,
        "messaging_limit": number.messaging_limit,
        "throughput_level": number.throughput_level,
        "is_on_biz_app": number.is_on_biz_app,
        "name_status": number.name_status,
    }


def _change_template(sandbox: Runtime, template_id: str, params: dict[str, Any]) -> dict[str, Any]:
    template = sandbox.state.templates.get(template_id)
    if template is None:
        raise not_found(template_id, "POST")
    status = _choice(params, "status", TEMPLATE_STATUSES)
    quality = _choice(params, "quality_score", QUALITY[:4])
    if quality is not None and quality != template.quality_score.get("score"):
        previous = str(template.quality_score.get("score", "UNKNOWN"))
        template.quality_score = {"score": quality, "date": int(time.time())}
        value = {
            "previous_quality_score": previous,
            "new_quality_score": quality,
            "message_template_id": int(template.id),
            "message_template_name": template.name,
            "message_template_language": template.language,
        }
        sandbox.emit_management(template.waba_id, "message_template_quality_update", value)
    if status is not None and status != template.status:
        template.status = status
        reason = str(params.get("reason") or ("INVALID_FORMAT" if status == "REJECTED" else "NONE"))
        template.rejected_reason = reason
        event = template_event(template, status, reason)
        if status == "PAUSED":
            event["other_info"] = {"title": "FIRST_PAUSE", "description": "Paused for 3 hours: low quality."}
        if status == "DISABLED":
            event["disable_info"] = {"disable_date": int(time.time())}
        sandbox.emit_management(template.waba_id, "message_template_status_update", event)
    sandbox.state.dirty = True
    return {"id": template.id, "status": template.status, "quality_score": template.quality_score}


def _change_flow(sandbox: Runtime, flow_id: str, params: dict[str, Any]) -> dict[str, Any]:
    flow = sandbox.state.flows.get(flow_id)
    if flow is None:
        raise not_found(flow_id, "POST")
    status = _choice(params, "status", FLOW_HEALTH)
    if status is None:
        raise bad_param(f"status must be one of {', '.join(FLOW_HEALTH)}.")
    if flow.status not in FLOW_HEALTH:
        raise bad_param(f"Only published Flows change health; this one is {flow.status}.")
    flow_status(sandbox, flow, status)
    sandbox.state.dirty = True
    return {"id": flow.id, "status": flow.status}


def _new_waba(sandbox: Runtime, params: dict[str, Any]) -> dict[str, Any]:
    """A WABA of the sandbox business with ``numbers`` connected numbers and an approved
    ``hello_world``, subscribed to the app; every token of the system user may manage it."""
    count = params.get("numbers", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MOST_NUMBERS:
        raise bad_param(f"numbers must be a whole number from 0 to {MOST_NUMBERS}.")
    state = sandbox.state
    waba_id = state.new_id(15)
    name = str(params.get("name") or f"{fixtures.BUSINESS_NAME} {len(state.wabas) + 1}")
    state.add(Waba(id=waba_id, name=name, business_id=fixtures.BUSINESS_ID, business_name=name, subscribed=True))
    numbers = []
    for _ in range(count):
        digits = _free_digits(sandbox)
        number = PhoneNumber(
            id=state.new_id(15),
            waba_id=waba_id,
            phone_number=f"+{digits}",
            display_phone_number=f"+{digits[0]} {digits[1:4]}-{digits[4:7]}-{digits[7:]}",
            verified_name=name,
        )
        state.add(number)
        numbers.append({"id": number.id, "phone_number": number.phone_number})
    hello = next(t for t in fixtures.seed_templates() if t.name == "hello_world")
    template = Template(
        id=state.new_id(16),
        waba_id=waba_id,
        name=hello.name,
        language=hello.language,
        category=hello.category,
        status="APPROVED",
        components=hello.components,
        quality_score=dict(hello.quality_score),
    )
    state.add(template)
    for token in state.tokens.values():
        if token.user_id == fixtures.SYSTEM_USER_ID and token.target_ids and waba_id not in token.target_ids:
            token.target_ids.append(waba_id)
    return {"id": waba_id, "name": name, "phone_numbers": numbers, "templates": [template.id]}


def _free_digits(sandbox: Runtime) -> str:
    """The next +1 555-02x-xxxx number no sandbox number has."""
    taken = {n.digits for n in sandbox.state.phone_numbers.values()}
    candidate = 15550200000
    while str(candidate) in taken:
        candidate += 1
    return str(candidate)


def _change_waba(sandbox: Runtime, waba_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """Set Meta's verdict on the WABA (``can_send_message``, §5.6) or its ``account_review_status``,
    with the ``account_review_update`` webhook for the latter."""
    waba = sandbox.state.wabas.get(waba_id)
    if waba is None:
        raise not_found(waba_id, "POST")
    health = _choice(params, "can_send_message", WABA_HEALTH)
    review = _choice(params, "account_review_status", REVIEW_STATUSES)
    if health is None and review is None:
        raise bad_param("Give can_send_message or account_review_status.")
    if health is not None:
        waba.can_send_message = health
    if review is not None and review != waba.account_review_status:
        waba.account_review_status = review
        sandbox.emit_management(waba.id, "account_review_update", {"decision": review})
    sandbox.state.dirty = True
    return {
        "id": waba.id,
        "can_send_message": waba.can_send_message,
        "account_review_status": waba.account_review_status,
    }


_MAKERS: dict[str, Callable[[Runtime, dict[str, Any]], dict[str, Any]]] = {"tokens": _new_token, "wabas": _new_waba}
_CHANGERS: dict[str, Callable[[Runtime, str, dict[str, Any]], dict[str, Any]]] = {
    "tokens": _revoke_token,
    "phone_numbers": _change_number,
    "templates": _change_template,
    "flows": _change_flow,
    "wabas": _change_waba,
}
