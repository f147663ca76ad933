"""Phone numbers (§4): listing and adding them, their fields and settings (PIN, display name,
webhook override), registration and verification codes, the business profile and encryption key.

``request_code`` always "sends" the code 123456; ``verify_code`` accepts only that. ``register``
needs a verified number with an approved display name (else 100/2388001, "Cannot Create
Certificate", as Meta answers), counts 10 register/deregister calls per 72 hours (133016) and
checks the two-step PIN once one is set (133005).
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import TYPE_CHECKING, Any

from waba_cli.sandbox.auth import MANAGEMENT, require_scope
from waba_cli.sandbox.errors import GraphFailure, bad_param, missing, unknown_field
from waba_cli.sandbox.params import page, requested_fields
from waba_cli.sandbox.rules.phones import country_of
from waba_cli.sandbox.rules.profile import check_profile
from waba_cli.sandbox.state import PhoneNumber, iso
from waba_cli.sandbox.webhooks import verify_callback

if TYPE_CHECKING:
    from waba_cli.sandbox.runtime import Call, Runtime
    from waba_cli.sandbox.state import Waba

VERIFICATION_CODE = "123456"
NAME_READY = ("APPROVED", "AVAILABLE_WITHOUT_REVIEW")
PENDING_NAME_INFO = (
    "Your display name has not been approved yet. Your message limit will increase after the display name is approved."
)
PHONE_DEFAULT_FIELDS = (
    "verified_name",
    "code_verification_status",
    "display_phone_number",
    "quality_rating",
    "platform_type",
    "throughput",
    "webhook_configuration",
    "id",
)


async def list_numbers(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    numbers = sandbox.state.numbers_of(call.obj.id)
    sort = str(call.params.get("sort", ""))
    if "ascending" in sort or ".asc" in sort:  # both syntaxes of §4.1; newest first otherwise
        numbers.reverse()
    mode = _account_mode_filter(call.params.get("filtering"))
    if mode:
        numbers = [n for n in numbers if n.account_mode == mode]
    requested = requested_fields(call.params, PHONE_DEFAULT_FIELDS)
    chosen, paging = page(numbers, call.request.query, call.link(), default=25, most=100)
    return {"data": [number_fields(sandbox, n, requested) for n in chosen], "paging": paging}


def number_fields(sandbox: Runtime, number: PhoneNumber, requested: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {}
    for item in requested:
        name = item[0] if isinstance(item, tuple) else item
        answer[name] = _number_field(sandbox, number, name)
    answer["id"] = number.id
    return answer


def _number_field(sandbox: Runtime, number: PhoneNumber, name: str) -> Any:  # noqa: PLR0911 - one per field
    simple = (
        "id",
        "display_phone_number",
        "verified_name",
        "quality_rating",
        "code_verification_status",
        "name_status",
        "new_name_status",
        "status",
        "platform_type",
        "account_mode",
        "is_official_business_account",
        "is_on_biz_app",
        "is_pin_enabled",
        "last_onboarded_time",
    )
    if name in simple:
        return getattr(number, name)
    if name in ("whatsapp_business_manager_messaging_limit", "messaging_limit_tier"):
        return number.messaging_limit
    if name == "throughput":
        return {"level": number.throughput_level}
    if name == "webhook_configuration":
        return _webhook_configuration(sandbox, number)
    if name == "country_dial_code":
        return country_of(number.digits)[1]
    if name == "country_code":
        return country_of(number.digits)[0]
    if name == "health_status":
        return number_health(sandbox, number)
    if name in ("certificate", "new_certificate"):
        return "CmEKHQi" + hashlib.sha256(number.id.encode()).hexdigest()[:40]
    if name in ("search_visibility",):
        return "VISIBLE"
    if name == "is_preverified_number":
        return False
    raise unknown_field(name, "WhatsAppBusinessPhoneNumber")


def _webhook_configuration(sandbox: Runtime, number: PhoneNumber) -> dict[str, str]:
    waba = sandbox.state.wabas[number.waba_id]
    configuration: dict[str, str] = {}
    if number.webhook_override:
        configuration["phone_number"] = number.webhook_override
    if waba.override_callback_uri:
        configuration["whatsapp_business_account"] = waba.override_callback_uri
    application = sandbox.options.webhook_url or sandbox.state.app.callback_url
    if application:
        configuration["application"] = application
    return configuration


# what Meta says of a WABA that is not AVAILABLE (§5.6): a LIMITED business that is not verified
# (141010, Meta puts it on the BUSINESS entity) and a BLOCKED WABA whose payment method fails (141006)
WABA_LIMITED = {
    "error_code": 141010,
    "error_description": "The business has not passed business verification.",
    "possible_solution": "Start or resolve business verification in Business Manager.",
}
WABA_BLOCKED = {
    "error_code": 141006,
    "error_description": "There is an error with the payment method. Business-initiated messaging is blocked.",
    "possible_solution": "Add a new payment method to the account.",
}


def waba_health(sandbox: Runtime, waba: Waba) -> dict[str, Any]:
    """A WABA's ``health_status`` (§5.6): the WABA, its business and the app.

    All AVAILABLE unless a test control set the WABA's ``can_send_message``: LIMITED puts Meta's
    business-verification error on the BUSINESS entity, BLOCKED the payment-method error on the WABA.
    """
    business: dict[str, Any] = {"entity_type": "BUSINESS", "id": waba.business_id, "can_send_message": "AVAILABLE"}
    own: dict[str, Any] = {"entity_type": "WABA", "id": waba.id, "can_send_message": "AVAILABLE"}
    if waba.can_send_message == "LIMITED":
        business["can_send_message"] = "LIMITED"
        business["errors"] = [dict(WABA_LIMITED)]
    elif waba.can_send_message == "BLOCKED":
        own["can_send_message"] = "BLOCKED"
        own["errors"] = [dict(WABA_BLOCKED)]
    entities = [own, business, {"entity_type": "APP", "id": sandbox.state.app.id, "can_send_message": "AVAILABLE"}]
    return {"can_send_message": aggregate(entities), "entities": entities}


def number_health(sandbox: Runtime, number: PhoneNumber) -> dict[str, Any]:
    """A number's ``health_status``: its own entity first, then the WABA's (§5.6).

    The sandbox's own choice (Meta documents no codes for it): a number that is not CONNECTED is
    BLOCKED with the error 141000 and the call that fixes it; a display name in review makes it
    LIMITED with Meta's sample text.
    """
    entity: dict[str, Any] = {"entity_type": "PHONE_NUMBER", "id": number.id, "can_send_message": "AVAILABLE"}
    if number.status != "CONNECTED":
        entity["can_send_message"] = "BLOCKED"
        entity["errors"] = [
            {
                "error_code": 141000,
                "error_description": f"The phone number is {number.status}.",
                "possible_solution": "Register the phone number (POST /{phone-number-id}/register).",
            }
        ]
    elif number.name_status == "PENDING_REVIEW":
        entity["can_send_message"] = "LIMITED"
        entity["additional_info"] = [PENDING_NAME_INFO]
    entities = [entity, *waba_health(sandbox, sandbox.state.wabas[number.waba_id])["entities"]]
    return {"can_send_message": aggregate(entities), "entities": entities}


def aggregate(entities: list[dict[str, Any]]) -> str:
    """BLOCKED if any entity is, else LIMITED if any is, else AVAILABLE (§5.6)."""
    states = {e["can_send_message"] for e in entities}
    return next((s for s in ("BLOCKED", "LIMITED") if s in states), "AVAILABLE")


async def get_number(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    return number_fields(sandbox, call.obj, requested_fields(call.params, PHONE_DEFAULT_FIELDS))


async def add_number(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    waba: Waba = call.obj
    cc = str(call.params.get("cc") or call.params.get("country_code") or "")
    digits = str(call.params.get("phone_number") or "")
    name = call.params.get("verified_name")
    if not cc or not digits or not name:
        raise missing("cc, phone_number and verified_name")
    full = digits if digits.startswith(cc) else cc + digits
    if not full.isdigit() or country_of(full)[0] is None:
        raise bad_param(f"Param phone_number ({digits}) is not a valid phone number for country code {cc}.")
    if sandbox.state.number_by_phone(full) is not None:
        raise bad_param("This phone number is already in a WhatsApp Business Account.")
    number = PhoneNumber(
        id=sandbox.state.new_id(15),
        waba_id=waba.id,
        phone_number="+" + full,
        display_phone_number="+" + full,
        verified_name=str(name),
        code_verification_status="NOT_VERIFIED",
        name_status="PENDING_REVIEW",
        status="PENDING",
        platform_type="NOT_APPLICABLE",
        throughput_level="NOT_APPLICABLE",
        messaging_limit="TIER_250",
        last_onboarded_time=iso(time.time()),
    )
    sandbox.state.add(number)
    return {"id": number.id}


async def update_number(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    number: PhoneNumber = call.obj
    params = call.params
    if "pin" in params:
        number.pin = _pin(params["pin"])
        number.is_pin_enabled = True
        return {"success": True}
    if "new_display_name" in params:
        name = str(params["new_display_name"])
        if not 3 <= len(name) <= 100:
            raise bad_param("Param new_display_name must be 3 to 100 characters.")
        number.requested_name, number.new_name_status = name, "PENDING_REVIEW"
        sandbox.later(sandbox.options.review_delay, _decide_name, sandbox, number.id)
        return {"success": True}
    if "webhook_configuration" in params:
        configuration = params["webhook_configuration"]
        if not isinstance(configuration, dict) or "override_callback_uri" not in configuration:
            raise missing("webhook_configuration['override_callback_uri']")
        uri = str(configuration["override_callback_uri"] or "")
        if uri:
            await verify_callback(uri, configuration.get("verify_token"))
        number.webhook_override = uri or None
        return {"success": True}
    raise bad_param("Nothing to update: give pin, new_display_name or webhook_configuration.")


def _decide_name(sandbox: Runtime, phone_number_id: str) -> None:
    number = sandbox.state.phone_numbers.get(phone_number_id)
    if number is None or number.requested_name is None:
        return
    rejected = "REJECT" in number.requested_name.upper()
    decision = "REJECTED" if rejected else "APPROVED"
    if not rejected:
        number.verified_name = number.requested_name
    number.new_name_status = "DECLINED" if rejected else "APPROVED"
    value = {
        "display_phone_number": number.digits,
        "decision": decision,
        "requested_verified_name": number.requested_name,
        "rejection_reason": "NAME_FORMAT_UNACCEPTABLE" if rejected else None,
    }
    number.requested_name = None
    sandbox.state.dirty = True
    sandbox.emit_management(number.waba_id, "phone_number_name_update", value)


async def register(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    number: PhoneNumber = call.obj
    if call.params.get("messaging_product") != "whatsapp":
        raise missing("messaging_product")
    if "pin" not in call.params:
        raise missing("pin")
    pin = _pin(call.params["pin"])
    _count_registration(number)
    if number.is_pin_enabled and number.pin != pin:
        raise GraphFailure(133005, "The PIN does not match the number's two-step verification PIN.")
    if number.code_verification_status != "VERIFIED" or number.name_status not in NAME_READY:
        raise GraphFailure(
            100,
            "Cannot create the certificate: verify the number and wait for its display name to be approved.",
            subcode=2388001,
            user_title="Cannot Create Certificate",
        )
    region = call.params.get("data_localization_region")
    if region is not None:
        if region not in ("AU", "ID", "IN", "JP", "SG", "KR", "DE", "CH", "GB", "BR", "BH", "ZA", "AE", "CA"):
            raise bad_param(f"Param data_localization_region ({region}) is not a supported region.")
        number.data_localization_region = str(region)
    number.pin, number.is_pin_enabled = pin, True
    number.status, number.platform_type = "CONNECTED", "CLOUD_API"
    if number.throughput_level == "NOT_APPLICABLE":
        number.throughput_level = "STANDARD"
    return {"success": True}


def _count_registration(number: PhoneNumber) -> None:
    now = time.time()
    number.registrations = [at for at in number.registrations if now - at < 72 * 3600]
    if len(number.registrations) >= 10:
        raise GraphFailure(133016, "This number was registered or deregistered 10 times in 72 hours.")
    number.registrations.append(now)


async def deregister(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    number: PhoneNumber = call.obj
    if number.platform_type != "CLOUD_API":
        raise GraphFailure(133010, "The phone number is not registered.")
    _count_registration(number)
    number.status, number.platform_type, number.throughput_level = "DISCONNECTED", "NOT_APPLICABLE", "NOT_APPLICABLE"
    return {"success": True}


async def request_code(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    number: PhoneNumber = call.obj
    method = str(call.params.get("code_method") or "").upper()
    if not method:
        raise missing("code_method")
    if method not in ("SMS", "VOICE"):
        raise bad_param("Param code_method must be one of {SMS, VOICE}.")
    if not call.params.get("language"):
        raise missing("language")
    number.requested_code = VERIFICATION_CODE
    sandbox.log(f"    verification code for {number.phone_number} ({method}): {VERIFICATION_CODE}")
    return {"success": True}


async def verify_code(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    number: PhoneNumber = call.obj
    code = call.params.get("code")
    if not code:
        raise missing("code")
    if number.requested_code is None or str(code) != number.requested_code:
        raise GraphFailure(136025, "Code couldn't be verified: request a new code and try again.")
    number.requested_code = None
    number.code_verification_status = "VERIFIED"
    if number.status == "PENDING":
        number.status = "DISCONNECTED"
    return {"success": True}


async def get_profile(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    number: PhoneNumber = call.obj
    known = ("about", "address", "description", "email", "profile_picture_url", "websites", "vertical")
    profile: dict[str, Any] = {}
    for name, _modifiers in requested_fields(call.params, known):
        if name == "messaging_product":
            continue
        if name not in known:
            raise unknown_field(name, "WhatsAppBusinessProfile")
        if name in number.profile:
            profile[name] = number.profile[name]
    profile["messaging_product"] = "whatsapp"
    return {"data": [profile]}


async def update_profile(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    number: PhoneNumber = call.obj
    handles = {u.handle for u in sandbox.state.uploads.values() if u.handle}
    number.profile.update(check_profile(call.params, handles))
    return {"success": True}


async def get_encryption(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    number: PhoneNumber = call.obj
    if number.business_public_key is None:
        return {"data": []}
    return {
        "data": [{"business_public_key": number.business_public_key, "business_public_key_signature_status": "VALID"}]
    }


async def set_encryption(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MANAGEMENT)
    key = call.params.get("business_public_key")
    if not key:
        raise missing("business_public_key")
    if "BEGIN PUBLIC KEY" not in str(key):
        raise bad_param("Param business_public_key must be a PEM-encoded RSA public key.")
    call.obj.business_public_key = str(key)
    return {"success": True}


def _account_mode_filter(value: Any) -> str | None:
    if not value:
        return None
    try:
        filters = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        raise bad_param("Param filtering must be a JSON array.") from None
    for item in filters if isinstance(filters, list) else []:
        if isinstance(item, dict) and item.get("field") == "account_mode":
            return str(item.get("value"))
    return None


def _pin(value: Any) -> str:
    pin = str(value)
    if not (len(pin) == 6 and pin.isdigit()):
        raise bad_param("Param pin must be a 6-digit number.")
    return pin
