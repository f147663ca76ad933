"""What `waba health check` calls OK, WARNING, CRITICAL or UNKNOWN, from what Meta and the store say.

A monitoring system (Nagios, Icinga, a systemd timer, a cron mail) reads one line and an exit code
and wants to hear only of changes. Each named check of an account is decided here from plain data:
the token (``debug_token``), Meta's ``health_status`` of the WABA and of each sendable template,
each number (the doctor's findings weighed by the thresholds), webhooks, delivery, templates, the
account's limits and Flow alerts. The overall status is CRITICAL if any check is, else WARNING if
any is, else UNKNOWN if any is, else OK; the exit code is Nagios' (0, 1, 2, 3). ``Policy`` holds
the thresholds (``[health]`` in the config). ``transitions`` turns stored results into history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from waba_cli.domain import numbers as doctor
from waba_cli.domain import tokens

OK, WARNING, CRITICAL, UNKNOWN = "OK", "WARNING", "CRITICAL", "UNKNOWN"
STATUSES = (OK, WARNING, CRITICAL, UNKNOWN)
EXIT_CODES = {OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3}
SENDABLE_TEMPLATES = frozenset({"APPROVED", "FLAGGED", "REINSTATED"})
_SEVERITY = {CRITICAL: 3, WARNING: 2, UNKNOWN: 1, OK: 0}  # "worst wins", UNKNOWN below WARNING
_NEW_TEMPLATE_PROBLEMS = {"REJECTED": WARNING, "PAUSED": WARNING, "DISABLED": CRITICAL}
_META_LEVELS = {doctor.BLOCKED: CRITICAL, doctor.WARNING: WARNING}
# what a number's own findings are about (its status and Meta's verdict on it are weighed apart)
_NUMBER_ENTITY = "health-phone_number"
_QUALITY = {"quality-yellow": "quality_yellow", "quality-red": "quality_red"}
DETAIL_SHOWN = 3  # checks named in the first line


@dataclass(frozen=True)
class Policy:
    """The thresholds (``[health]`` in the config, documented in config.example.toml)."""

    max_age: timedelta = timedelta(minutes=10)
    request_timeout: float = 5.0
    token_warning_days: float = 7
    token_critical_days: float = 1
    quality_yellow: str = WARNING
    quality_red: str = CRITICAL
    number_warning: tuple[str, ...] = ("FLAGGED", "RATE_LIMITED", "PENDING", "UNVERIFIED")
    number_critical: tuple[str, ...] = ("RESTRICTED", "DISCONNECTED", "BANNED", "DELETED")
    ignore_numbers: tuple[str, ...] = ()
    unsubscribed: str = WARNING
    webhook_silence: timedelta | None = None
    delivery_window: timedelta = timedelta(hours=24)
    delivery_warning: float = 5.0
    delivery_critical: float = 20.0
    delivery_min_messages: int = 20
    limits_warning: float = 80.0
    limits_critical: float = 100.0
    canary_template: str | None = None
    canary_language: str | None = None
    canary_timeout: timedelta = timedelta(seconds=60)
    notify_url: str | None = None
    notify_attempts: int = 3
    keep: timedelta = timedelta(days=90)


@dataclass
class Check:
    """One named check of one account: its status, one line saying why, and what to remember."""

    name: str
    status: str
    detail: str
    value: float | None = None  # its measure, for perfdata and Prometheus (percent, days)
    unit: str = ""
    warn: float | None = None  # the measure's thresholds, when it has some
    crit: float | None = None
    data: dict[str, Any] = field(default_factory=dict)  # what the next run compares with
    cached_at: datetime | None = None  # decided from Graph answers fetched then (None: fresh)
    phone_number_id: str | None = None  # a number's check names it (its health log)


def worst(statuses: Iterable[str]) -> str:
    """CRITICAL if any is, else WARNING if any is, else UNKNOWN if any is, else OK."""
    found = OK
    for status in statuses:
        if _SEVERITY.get(status, 1) > _SEVERITY[found]:
            found = status if status in _SEVERITY else UNKNOWN
    return found


def exit_code(status: str) -> int:
    return EXIT_CODES.get(status, 3)


def unknown(name: str, reason: str, **extra: Any) -> Check:
    """A check that could not run."""
    return Check(name, UNKNOWN, reason, **extra)


# -- the token ------------------------------------------------------------------------------


def token_check(info: Mapping[str, Any], waba_id: str, now: datetime, policy: Policy) -> Check:
    """``debug_token`` (§5.3): valid, scoped to the WABA with the permissions, and not expiring soon."""
    problem = _token_problem(info, waba_id)
    if problem:
        return Check("token", CRITICAL, problem)
    kind = str(info.get("type") or "token")
    expires = int(info.get("expires_at") or 0)
    if not expires:
        return Check("token", OK, f"{kind} token valid, never expires")
    days = (expires - now.timestamp()) / 86400
    when = datetime.fromtimestamp(expires, now.tzinfo).strftime("%Y-%m-%d %H:%M UTC")
    left = f"{days:.1f} days" if days >= 1 else f"{days * 24:.1f} hours"
    if days <= 0:
        status, detail = CRITICAL, f"the access token expired on {when}"
    elif days < policy.token_critical_days:
        status, detail = CRITICAL, f"the access token expires in {left} ({when})"
    elif days < policy.token_warning_days:
        status, detail = WARNING, f"the access token expires in {left} ({when})"
    else:
        status, detail = OK, f"{kind} token valid until {when} ({left})"
    return Check(
        "token",
        status,
        detail,
        value=round(days, 2),
        unit="d",
        warn=policy.token_warning_days,
        crit=policy.token_critical_days,
    )


def _token_problem(info: Mapping[str, Any], waba_id: str) -> str | None:
    if not info.get("is_valid"):
        error = info.get("error") or {}
        reason = error.get("message") if isinstance(error, Mapping) else None
        return f"the access token is not valid: {reason or 'expired or revoked'}"
    missing = tokens.missing_scopes(str(s) for s in info.get("scopes") or [])
    if missing:
        return f"the access token lacks the permission(s) {', '.join(missing)}"
    for grant in info.get("granular_scopes") or []:
        if not isinstance(grant, Mapping):
            continue
        targets = [str(t) for t in (grant.get("target_ids") or [])]
        if grant.get("scope") in tokens.WABA_SCOPES and targets and waba_id not in targets:
            return f"the token's {grant.get('scope')} permission does not cover WABA {waba_id}"
    return None


# -- Meta's health_status -------------------------------------------------------------------


def meta_health(health: Any, *, only: str | None = None) -> tuple[str, list[str]]:
    """Meta's ``health_status`` (§5.6): AVAILABLE OK, LIMITED WARNING, BLOCKED CRITICAL, with the
    reasons the doctor reads from it (``additional_info``; ``error_code``, description and
    ``possible_solution``); ``only`` keeps one entity type's findings (e.g. ``waba``)."""
    if not isinstance(health, Mapping):
        return UNKNOWN, ["Meta gave no health_status"]
    kept = (f"health-{only}", "health-blocked")
    findings = [f for f in doctor.health_findings(dict(health)) if only is None or f.code in kept]
    reasons = [f.message + (f" -> {f.next}" if f.next else "") for f in findings]
    return worst(_META_LEVELS.get(f.severity, OK) for f in findings), reasons


def waba_check(waba: Mapping[str, Any]) -> Check:
    """The WABA's ``health_status`` and review: every entity Meta puts behind the WABA."""
    status, reasons = meta_health(waba.get("health_status"))
    review = str(waba.get("account_review_status") or "").upper()
    if review == "REJECTED":
        status, reasons = worst((status, CRITICAL)), [*reasons, "account review REJECTED"]
    elif review == "PENDING":
        status, reasons = worst((status, WARNING)), [*reasons, "account review PENDING"]
    verdict = (waba.get("health_status") or {}).get("can_send_message") if isinstance(waba, Mapping) else None
    if status == OK:
        return Check("waba", OK, f"can_send_message {verdict or 'AVAILABLE'}")
    if status == UNKNOWN and not reasons:
        reasons = ["Meta gave no health_status"]
    return Check("waba", status, "; ".join(reasons))


# -- numbers --------------------------------------------------------------------------------


def number_name(phone_number: str) -> str:
    return f"number:{phone_number}"


def number_check(diagnosis: doctor.Diagnosis, previous: Mapping[str, Any] | None, policy: Policy) -> Check:
    """One number: the doctor's findings weighed by the thresholds, plus a messaging-limit drop."""
    facts = diagnosis.facts
    label = facts.display_phone_number or facts.ref
    status_text = (facts.status or "").upper()
    onboarding = status_text in policy.number_warning
    levels: list[tuple[str, str]] = []
    for finding in diagnosis.findings:
        level = _number_level(finding, status_text, onboarding, policy)
        if level != OK:
            levels.append((level, finding.message + (f" -> {finding.next}" if finding.next else "")))
    limit = (facts.messaging_limit or "").upper() or None
    before = str(previous.get("messaging_limit") or "").upper() or None if previous else None
    if limit and before and _tier(limit) < _tier(before):
        levels.append((WARNING, f"messaging limit dropped {before} -> {limit}"))
    data = {"messaging_limit": limit, "status": facts.status, "quality_rating": facts.quality_rating}
    status = worst(level for level, _ in levels)
    if status == OK:
        parts = [facts.status or "status ?", f"quality {facts.quality_rating or '?'}", limit or "limit ?"]
        parts.append(facts.throughput_level or "throughput ?")
        if (facts.name_status or "").upper() not in ("", *doctor.NAME_READY):
            parts.append(f"name {facts.name_status}")
        detail = f"{label}: {', '.join(parts)}"
    else:
        detail = f"{label}: " + "; ".join(text for level, text in levels if level == status)
    return Check(number_name(facts.ref), status, detail, data=data, phone_number_id=facts.phone_number_id)


def _number_level(finding: doctor.Finding, status: str, onboarding: bool, policy: Policy) -> str:
    if finding.code in _QUALITY:
        return str(getattr(policy, _QUALITY[finding.code])).upper()
    if finding.code.startswith("health-") and finding.code not in (_NUMBER_ENTITY, "health-blocked"):
        return OK  # the WABA's, business's and app's entities are the waba check's
    if finding.code.startswith("status-"):
        if status in policy.number_critical:
            return CRITICAL
        if status in policy.number_warning:
            return WARNING
    level = {doctor.BLOCKED: CRITICAL, doctor.WARNING: WARNING}.get(finding.severity, OK)
    if status in policy.number_critical and finding.severity == doctor.BLOCKED:
        return CRITICAL
    # a number the operator's thresholds call only a WARNING (onboarding: PENDING, UNVERIFIED) does
    # not page for what follows from that status
    return WARNING if onboarding and level == CRITICAL else level


def _tier(limit: str) -> float:
    if limit not in doctor.LIMITS:
        return -1
    reach = doctor.LIMITS[limit]
    return float("inf") if reach is None and limit == "TIER_UNLIMITED" else float(reach or -1)


# -- webhooks, delivery, limits, templates, Flows --------------------------------------------


@dataclass(frozen=True)
class WebhookFacts:
    app_id: str
    subscribed_apps: list[Mapping[str, Any]] | None  # None: Meta could not be asked
    expected_url: str | None  # the account's webhook_url
    callbacks: Mapping[str, str]  # number label -> webhook_configuration.application
    last_delivery_at: datetime | None
    failed_recently: int  # deliveries that failed to apply in the last 24 h


def webhooks_check(facts: WebhookFacts, now: datetime, policy: Policy) -> Check:
    parts: list[tuple[str, str]] = []
    if facts.subscribed_apps is None:
        parts.append((UNKNOWN, "subscribed_apps could not be read"))
    else:
        ids = [str((a.get("whatsapp_business_api_data") or {}).get("id") or "") for a in facts.subscribed_apps]
        if facts.app_id not in ids:
            parts.append(
                (policy.unsubscribed, f"app {facts.app_id} is not in the WABA's subscribed_apps: no webhooks arrive")
            )
    if facts.expected_url:
        wrong = [label for label, url in facts.callbacks.items() if url and url != facts.expected_url]
        if wrong:
            parts.append((WARNING, f"{', '.join(wrong)} send webhooks elsewhere than {facts.expected_url}"))
    if policy.webhook_silence is not None:
        if facts.last_delivery_at is None:
            parts.append((WARNING, "no webhook delivery stored yet"))
        elif now - facts.last_delivery_at > policy.webhook_silence:
            ago = _ago(now - facts.last_delivery_at)
            parts.append((WARNING, f"the last webhook delivery arrived {ago} ago"))
    if facts.failed_recently:
        parts.append(
            (WARNING, f"{facts.failed_recently} delivery(ies) failed to apply in 24 h (waba events replay --failed)")
        )
    status = worst(level for level, _ in parts)
    if status == OK:
        last = f", last delivery {_ago(now - facts.last_delivery_at)} ago" if facts.last_delivery_at else ""
        return Check("webhooks", OK, f"app subscribed{last}", value=float(facts.failed_recently))
    detail = "; ".join(text for level, text in parts if level == status)
    return Check("webhooks", status, detail, value=float(facts.failed_recently))


def delivery_check(total: int, failed: int, top_codes: Sequence[tuple[int | None, int]], policy: Policy) -> Check:
    """The failed share of outbound messages in the window, against the thresholds."""
    window = _ago(policy.delivery_window)
    share = 100.0 * failed / total if total else 0.0
    if total < max(1, policy.delivery_min_messages):
        status, detail = OK, f"{total} outbound message(s) in {window}, {failed} failed (too few to judge)"
    else:
        codes = ", ".join(f"{code if code is not None else '?'} x{count}" for code, count in top_codes[:3])
        detail = f"{failed} of {total} outbound messages failed in {window} ({share:.1f} %)"
        detail += f"; top errors {codes}" if codes and failed else ""
        status = _against(share, policy.delivery_warning, policy.delivery_critical)
    check = Check("delivery", status, detail, data={"total": total, "failed": failed})
    return _measured(check, share, policy.delivery_warning, policy.delivery_critical)


def limits_check(
    today: int, month: int, daily: int | None, monthly: int | None, timezone: str, policy: Policy
) -> Check:
    """Messages sent today and this month (in the account's time zone) against its limits."""
    periods = (("daily", today, daily), ("monthly", month, monthly))
    used = [(what, count, limit) for what, count, limit in periods if limit]
    if not used:
        return Check("limits", OK, f"no daily or monthly limit set ({today} today, {month} this month)")
    shares = [(what, count, limit, 100.0 * count / limit) for what, count, limit in used]
    top = max(share for *_, share in shares)
    detail = ", ".join(f"{what} {count}/{limit} ({share:.0f} %)" for what, count, limit, share in shares)
    status = _against(top, policy.limits_warning, policy.limits_critical)
    check = Check("limits", status, f"{detail} in {timezone}")
    return _measured(check, top, policy.limits_warning, policy.limits_critical)


def _against(value: float, warning: float, critical: float) -> str:
    return CRITICAL if value >= critical else WARNING if value >= warning else OK


def _measured(check: Check, percent: float, warning: float, critical: float) -> Check:
    check.value, check.unit, check.warn, check.crit = round(percent, 2), "%", warning, critical
    return check


def templates_check(
    templates: Sequence[Mapping[str, Any]], previous: Mapping[str, str] | None, policy: Policy
) -> Check:
    """Templates that became REJECTED, PAUSED or DISABLED since the last run, paused ones, and
    sendable ones whose quality or Meta's ``health_status`` is not good. The first run takes the
    statuses it finds as the baseline."""
    found: list[tuple[str, str]] = []
    statuses: dict[str, str] = {}
    for template in templates:
        key = f"{template.get('name')} {template.get('language') or '?'}"
        status = str(template.get("status") or "?").upper()
        statuses[key] = status
        before = (previous or {}).get(key, status)
        if status != before and status in _NEW_TEMPLATE_PROBLEMS:
            found.append((_NEW_TEMPLATE_PROBLEMS[status], f"{key} {before} -> {status}"))
        elif status == "PAUSED":
            found.append((WARNING, f"{key} PAUSED (sends refused with 132015)"))
        if status not in SENDABLE_TEMPLATES:
            continue
        if status == "FLAGGED":
            found.append((WARNING, f"{key} FLAGGED: quality is low, it may be paused"))
        quality = template.get("quality_score")
        score = str((quality.get("score") if isinstance(quality, Mapping) else quality) or "").upper()
        if score in ("YELLOW", "RED"):
            level = policy.quality_yellow if score == "YELLOW" else policy.quality_red
            found.append((level.upper(), f"{key} quality {score}"))
        if "health_status" in template:
            level, reasons = meta_health(template.get("health_status"), only="message_template")
            if level in (WARNING, CRITICAL):
                found.append((level, f"{key}: {'; '.join(reasons)}"))
    status = worst(level for level, _ in found)
    data = {"statuses": statuses}
    problems = float(len([1 for level, _ in found if level != OK]))
    if status == OK:
        sendable = sum(1 for s in statuses.values() if s in SENDABLE_TEMPLATES)
        return Check("templates", OK, f"{sendable} of {len(statuses)} templates sendable", value=problems, data=data)
    detail = "; ".join(text for level, text in found if level == status)
    return Check("templates", status, detail, value=problems, data=data)


@dataclass(frozen=True)
class FlowEvent:
    at: datetime
    value: Mapping[str, Any]  # the flows webhook's value (§8.10)


def flows_check(events: Sequence[FlowEvent]) -> Check:
    """Flow alerts received by webhook (§8.10): an endpoint alert ACTIVATED and not DEACTIVATED
    since, a Flow BLOCKED or THROTTLED, or a Flow JSON version about to expire, is a WARNING."""
    latest: dict[tuple[str, str], FlowEvent] = {}
    for event in sorted(events, key=lambda e: e.at):
        flow = str(event.value.get("flow_id") or "?")
        kind = str(event.value.get("event") or "?").upper()
        latest[(flow, kind)] = event
    active: list[str] = []
    for (flow, kind), event in latest.items():
        value = event.value
        if kind == "FLOW_STATUS_CHANGE":
            if str(value.get("new_status") or "").upper() in ("BLOCKED", "THROTTLED"):
                active.append(f"flow {flow} {str(value.get('new_status')).upper()}")
        elif kind == "FLOW_VERSION_EXPIRY_WARNING" or str(value.get("alert_state") or "").upper() == "ACTIVATED":
            active.append(f"flow {flow} {kind}: {value.get('message') or 'alert active'}")
    if active:
        return Check("flows", WARNING, "; ".join(active), value=float(len(active)))
    return Check("flows", OK, "no Flow alert active" if events else "no Flow alert received", value=0.0)


# -- the whole run ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    account: str
    check: str
    before: str | None  # None: the check is new
    after: str
    detail: str


def changes(current: Iterable[tuple[str, Check]], previous: Mapping[tuple[str, str], str]) -> list[Change]:
    """Checks whose status differs from the previous run's; a new check counts unless it is OK."""
    found = []
    for account, check in current:
        before = previous.get((account, check.name))
        if before != check.status and not (before is None and check.status == OK):
            found.append(Change(account, check.name, before, check.status, check.detail))
    return found


def summary(status: str, checks: Sequence[tuple[str, Check]], accounts: int) -> str:
    """The first line a monitor reads: ``WABA WARNING - 1 warning: acme number:+1555… quality YELLOW``."""
    counts = {s: sum(1 for _, c in checks if c.status == s) for s in STATUSES}
    if status == OK:
        return f"WABA OK - {len(checks)} check(s) OK on {accounts} account(s)"
    words = {CRITICAL: "critical", WARNING: "warning", UNKNOWN: "unknown"}
    told = ", ".join(
        f"{counts[s]} {words[s]}" + ("s" if counts[s] > 1 and s == WARNING else "")
        for s in (CRITICAL, WARNING, UNKNOWN)
        if counts[s]
    )
    ranked = sorted((c for c in checks if c[1].status != OK), key=lambda item: -_SEVERITY[item[1].status])
    named = [
        f"{account} {headline(check)}" if accounts > 1 else headline(check) for account, check in ranked[:DETAIL_SHOWN]
    ]
    more = f" (+{len(ranked) - DETAIL_SHOWN} more)" if len(ranked) > DETAIL_SHOWN else ""
    return f"WABA {status} - {told}: {'; '.join(named)}{more}"


def headline(check: Check) -> str:
    """The first reason of a check's detail, without its next step: what the first line names."""
    return check.detail.split("; ")[0].split(" -> ")[0]


# -- history ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    account: str
    check: str
    at: datetime
    status: str
    detail: str | None


@dataclass(frozen=True)
class Transition:
    account: str
    check: str
    at: datetime
    before: str | None
    after: str
    detail: str | None
    lasted: timedelta  # until the next transition of the check, or until now
    current: bool  # the check is still in this state


def transitions(observations: Iterable[Observation], now: datetime) -> list[Transition]:
    """Status changes per (account, check), oldest first, with how long each state lasted; a
    repeat of the same status is not a change."""
    by_check: dict[tuple[str, str], list[Observation]] = {}
    for item in sorted(observations, key=lambda o: o.at):
        by_check.setdefault((item.account, item.check), []).append(item)
    found: list[Transition] = []
    for (account, check), items in by_check.items():
        starts: list[tuple[Observation, str | None]] = []
        before: str | None = None
        for item in items:
            if item.status != before:
                starts.append((item, before))
                before = item.status
        for index, (item, previous) in enumerate(starts):
            last = index == len(starts) - 1
            until = now if last else starts[index + 1][0].at
            found.append(Transition(account, check, item.at, previous, item.status, item.detail, until - item.at, last))
    return sorted(found, key=lambda t: (t.at, t.account, t.check))


def _ago(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 86400 == 0 and seconds >= 2 * 86400:
        return f"{seconds // 86400} d"
    if seconds >= 3600:
        return f"{seconds / 3600:.0f} h" if seconds % 3600 == 0 else f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def duration_text(delta: timedelta) -> str:
    """``3 d 4 h``, ``2 h 5 min``, ``40 s``: how long a state lasted."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{seconds} s"
