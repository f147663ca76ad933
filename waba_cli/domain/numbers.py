"""Why a number can or cannot send: the doctor's decision, from a number's fields alone.

"Why can't this number send?" is the commonest support question: stuck in PENDING, display name not
approved, not registered, PIN lost, quality RED. The answer is in the fields Meta gives for a
number (reference §4.1's check order: ownership, display name, registration, connection, health)
and in its ``health_status`` (§5.6). ``diagnose`` reads them in that order and returns each finding
with the command that fixes it. Every enumeration is open: a value waba does not know is reported
as such, never a crash.

Also here: the two-step PIN's format and the register/deregister budget (10 per 72 hours, §4.4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

PIN_PATTERN = r"^[0-9]{6}$"
REGISTRATIONS_ALLOWED = 10
REGISTRATION_WINDOW = timedelta(hours=72)

BLOCKED = "blocked"  # the number cannot send until this is fixed
WARNING = "warning"  # it sends, with less reach or at a risk
INFO = "info"

NAME_READY = frozenset({"APPROVED", "AVAILABLE_WITHOUT_REVIEW"})
NAME_NOT_READY = frozenset({"PENDING_REVIEW", "DECLINED", "EXPIRED", "NONE"})
QUALITY_KNOWN = frozenset({"GREEN", "YELLOW", "RED", "UNKNOWN", "NA"})
LIMITS = {
    "TIER_50": 50,
    "TIER_250": 250,
    "TIER_1K": 1000,
    "TIER_2K": 2000,
    "TIER_10K": 10000,
    "TIER_100K": 100000,
    "TIER_UNLIMITED": None,
    "TIER_NOT_SET": None,
}
# status -> (severity, what it means, what to do; {ref} is the number)
STATUSES: dict[str, tuple[str, str, str | None]] = {
    "CONNECTED": ("", "", None),
    "FLAGGED": (
        WARNING,
        "flagged for low quality: unless quality improves within 7 days its messaging limit drops",
        "`waba number show {ref}` shows the quality history; send fewer marketing messages",
    ),
    "RATE_LIMITED": (WARNING, "rate limited by Meta", "send more slowly; `waba number show {ref}`"),
    "RESTRICTED": (
        BLOCKED,
        "restricted by Meta: it cannot start conversations",
        "see Account Quality in WhatsApp Manager",
    ),
    "BANNED": (BLOCKED, "banned by Meta", "appeal in Business Support Home"),
    "DELETED": (BLOCKED, "deleted at Meta", "add it again (`waba number add`)"),
    "MIGRATED": (BLOCKED, "migrated to another WABA", "use it from that WABA's account"),
    "DISCONNECTED": (BLOCKED, "disconnected from the Cloud API", "`waba number register {ref}`"),
    "PENDING": (BLOCKED, "pending: not registered yet", "`waba number register {ref}`"),
    "UNVERIFIED": (BLOCKED, "unverified", "`waba number request-code {ref}`"),
}
# statuses that mean "not registered", already said by the registration finding
_UNREGISTERED = frozenset({"PENDING", "DISCONNECTED", "UNVERIFIED"})


def pin(value: str) -> str:
    """A two-step verification PIN: exactly 6 digits (§4.5)."""
    text = value.strip()
    if not re.match(PIN_PATTERN, text):
        raise ValueError("must be exactly 6 digits")
    return text


def registrations_left(calls: list[datetime], now: datetime) -> tuple[int, datetime | None]:
    """Register/deregister calls still allowed now, and when the oldest counted one stops counting."""
    recent = sorted(at for at in calls if now - at < REGISTRATION_WINDOW)
    left = max(0, REGISTRATIONS_ALLOWED - len(recent))
    return left, (recent[0] + REGISTRATION_WINDOW if recent else None)


@dataclass(frozen=True)
class NumberFacts:
    """What waba knows of a number: Meta's fields as the last sync stored them."""

    phone_number_id: str
    phone_number: str | None = None  # E.164
    display_phone_number: str | None = None
    verified_name: str | None = None
    quality_rating: str | None = None
    status: str | None = None
    code_verification_status: str | None = None
    name_status: str | None = None
    name_status_since: datetime | None = None
    platform_type: str | None = None
    throughput_level: str | None = None
    messaging_limit: str | None = None
    account_mode: str | None = None
    health_status: dict[str, Any] | None = None
    synced_at: datetime | None = None
    gone_at: datetime | None = None

    @property
    def ref(self) -> str:
        """How commands name it: the E.164 number, else the id."""
        return self.phone_number or self.phone_number_id


@dataclass(frozen=True)
class Finding:
    """One reason a number cannot send, or sends with less reach, and the next step."""

    severity: str  # blocked | warning | info
    code: str  # stable, for scripts: not-registered, name-pending, quality-red ...
    message: str
    next: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "code": self.code, "message": self.message, "next": self.next}


@dataclass(frozen=True)
class Diagnosis:
    facts: NumberFacts
    findings: list[Finding] = field(default_factory=list)

    @property
    def can_send(self) -> bool:
        return not any(f.severity == BLOCKED for f in self.findings)

    @property
    def verdict(self) -> str:
        """OK, WARNING (it sends, with a caveat) or BLOCKED (it cannot send)."""
        if not self.can_send:
            return "BLOCKED"
        return "WARNING" if any(f.severity == WARNING for f in self.findings) else "OK"


def diagnose(facts: NumberFacts, now: datetime) -> Diagnosis:
    """Every reason ``facts`` cannot send (or sends limited), in the order an operator fixes them."""
    found: list[Finding] = []
    ref = facts.ref
    if facts.gone_at is not None:
        found.append(
            Finding(
                BLOCKED,
                "gone",
                f"Meta no longer lists this number in the WABA (since {facts.gone_at:%Y-%m-%d})",
                "check it in WhatsApp Manager, then `waba number sync`",
            )
        )
        return Diagnosis(facts, found)
    if facts.synced_at is None:
        found.append(Finding(WARNING, "never-synced", "waba has not read this number from Meta", "`waba number sync`"))
    verified = _upper(facts.code_verification_status)
    unverified = verified is not None and verified != "VERIFIED"
    if unverified:
        found.append(
            Finding(
                BLOCKED,
                "code-not-verified",
                f"ownership not verified (code verification {verified})",
                f"`waba number request-code {ref}`, then `waba number verify-code {ref} CODE`",
            )
        )
    registered = _registered(facts)
    name = _upper(facts.name_status)
    name_ready = name is None or name in NAME_READY
    found += _name_findings(facts, name, registered, now)
    if registered is False:
        steps = (("the code is verified", unverified), ("the name approved", not name_ready))
        waiting = [step for step, missing in steps if missing]
        found.append(
            Finding(
                BLOCKED,
                "not-registered",
                "not registered with the Cloud API (platform or throughput NOT_APPLICABLE)",
                f"`waba number register {ref}`" + (f" once {' and '.join(waiting)}" if waiting else ""),
            )
        )
    elif _upper(facts.platform_type) == "ON_PREMISE":
        found.append(
            Finding(
                BLOCKED,
                "on-premises",
                "registered with the On-Premises API, not the Cloud API",
                f"migrate it: `waba number register {ref}`",
            )
        )
    found += _status_findings(facts, registered)
    found += _quality_findings(facts)
    found += _limit_findings(facts)
    if _upper(facts.account_mode) == "SANDBOX":
        found.append(
            Finding(INFO, "test-number", "a Meta test number: it sends only to the recipients the App Dashboard allows")
        )
    found += health_findings(facts.health_status)
    return Diagnosis(facts, found)


def _registered(facts: NumberFacts) -> bool | None:
    """False when Meta says it needs registering (§4.4), True when it says otherwise, None: not known."""
    values = [_upper(facts.platform_type), _upper(facts.throughput_level)]
    if "NOT_APPLICABLE" in values:
        return False
    return True if any(values) else None


def _name_findings(facts: NumberFacts, name: str | None, registered: bool | None, now: datetime) -> list[Finding]:
    if name is None or name in NAME_READY:
        return []
    ref = facts.ref
    # before registration a name not approved blocks it (2388001); afterwards it limits reach
    severity = BLOCKED if registered is False else WARNING
    label = f"display name {facts.verified_name!r}" if facts.verified_name else "display name"
    if name == "PENDING_REVIEW":
        since = ""
        if facts.name_status_since is not None:
            days = max(0, (now - facts.name_status_since).days)
            since = f" since {days} day{'s' if days != 1 else ''}"
        return [
            Finding(
                severity,
                "name-pending",
                f"{label} pending review{since}",
                f"wait (reviews take up to a few days), or `waba number show {ref}`",
            )
        ]
    if name in NAME_NOT_READY:
        code, what = {
            "DECLINED": ("name-declined", "declined"),
            "EXPIRED": ("name-expired", "expired"),
            "NONE": ("name-missing", "not submitted"),
        }[name]
        return [
            Finding(
                severity,
                code,
                f"{label} {what}",
                "request a new display name in WhatsApp Manager, then `waba number sync`",
            )
        ]
    return [Finding(INFO, "name-unknown", f"display name status {name} (a value waba does not know)")]


def _status_findings(facts: NumberFacts, registered: bool | None) -> list[Finding]:
    status = _upper(facts.status)
    if status is None or status == "CONNECTED":
        return []
    if status in _UNREGISTERED and registered is False:
        return []  # the registration finding says it, with the prerequisites
    known = STATUSES.get(status)
    if known is None:
        return [
            Finding(
                WARNING,
                "status-unknown",
                f"status {status} (a value waba does not know; CONNECTED is needed to send)",
                "check the number in WhatsApp Manager",
            )
        ]
    severity, meaning, step = known
    return [Finding(severity, f"status-{status.lower()}", meaning, step.format(ref=facts.ref) if step else None)]


def _quality_findings(facts: NumberFacts) -> list[Finding]:
    quality = _upper(facts.quality_rating)
    if quality == "RED":
        return [
            Finding(
                WARNING,
                "quality-red",
                "quality RED: sends of marketing templates will be limited",
                f"pause marketing campaigns; `waba number show {facts.ref}` shows the quality history",
            )
        ]
    if quality == "YELLOW":
        return [Finding(INFO, "quality-yellow", "quality YELLOW: watch blocks and reports before more marketing")]
    if quality is not None and quality not in QUALITY_KNOWN:
        return [Finding(INFO, "quality-unknown", f"quality {quality} (a value waba does not know)")]
    return []


def _limit_findings(facts: NumberFacts) -> list[Finding]:
    limit = _upper(facts.messaging_limit)
    if limit is None:
        return []
    if limit not in LIMITS:
        return [Finding(INFO, "limit-unknown", f"messaging limit {limit} (a value waba does not know)")]
    reach = LIMITS[limit]
    if reach is not None and reach <= 250:
        return [
            Finding(
                INFO,
                "limit-low",
                f"messaging limit {limit}: {reach} unique customers per 24 h outside the service window",
                "verify the business to reach the 2,000 tier",
            )
        ]
    return []


def health_findings(health: dict[str, Any] | None) -> list[Finding]:
    """Meta's ``health_status`` (§5.6) as findings: LIMITED entities warn, BLOCKED ones block.

    Both ``additional_info`` and ``errors[]`` are read whatever the status (Meta's samples put
    errors on LIMITED entities too); ``possible_solution`` is the next step.
    """
    if not isinstance(health, dict):
        return []
    found: list[Finding] = []
    entities = health.get("entities")
    for entity in entities if isinstance(entities, list) else []:
        if not isinstance(entity, dict):
            continue
        state = _upper(entity.get("can_send_message"))
        if state in (None, "AVAILABLE"):
            continue
        severity = BLOCKED if state == "BLOCKED" else WARNING
        kind = str(entity.get("entity_type") or "ENTITY")
        code = f"health-{kind.lower()}"
        before = len(found)
        for text in entity.get("additional_info") or []:
            found.append(Finding(severity, code, f"{kind} {state}: {text}"))
        for error in entity.get("errors") or []:
            if not isinstance(error, dict):
                continue
            number = error.get("error_code")
            description = error.get("error_description") or "no description"
            found.append(
                Finding(
                    severity,
                    code,
                    f"{kind} {state}: {description}" + (f" ({number})" if number is not None else ""),
                    error.get("possible_solution") or None,
                )
            )
        if len(found) == before:
            found.append(Finding(severity, code, f"{kind} {state} (Meta gave no reason)"))
    overall = _upper(health.get("can_send_message"))
    if overall == "BLOCKED" and not any(f.severity == BLOCKED for f in found):
        found.append(Finding(BLOCKED, "health-blocked", "Meta says the number cannot send (health BLOCKED)"))
    return found


def _upper(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value).upper()
