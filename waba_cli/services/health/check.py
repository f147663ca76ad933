"""`waba health check`: every named check of each account, one run stored, changes told.

The accounts are checked concurrently: Meta's answers for all of them are asked at once (each
read bounded by ``health.request_timeout``, none retried), then each account's checks are decided
from those answers and from the store. Numbers are stored as `waba number sync` stores them (their
changes go to the health log) and judged from the number doctor's findings. A check that cannot
run is UNKNOWN, and so are the checks that depend on an answer Meta did not give; nothing here
raises for Meta's or the network's sake. Bad arguments raise ``UsageError`` before anything is
asked (the command maps them to UNKNOWN too).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select

from waba_cli.db.models.accounts import Account
from waba_cli.db.timestamps import utcnow
from waba_cli.domain import health as rules
from waba_cli.domain import numbers as doctor
from waba_cli.domain import validators
from waba_cli.errors import UsageError, ValidationError, WabaError
from waba_cli.services.health import answers as meta
from waba_cli.services.health import facts, notify, store
from waba_cli.services.health.answers import Answer
from waba_cli.settings import parse_duration

if TYPE_CHECKING:
    from waba_cli.graph.client import Credentials
    from waba_cli.graph.notify import Delivery
    from waba_cli.services.context import CommandContext


@dataclass(frozen=True)
class CheckRequest:
    """What `health check` was asked: the flags, and the clock and sleep (tests inject theirs)."""

    all_accounts: bool = False
    max_age: str | None = None  # --max-age as given; None: health.max_age
    notify_url: str | None = None  # --notify; None: health.notify_url
    canary_to: str | None = None
    canary_template: str | None = None  # None: health.canary_template
    clock: Callable[[], datetime] = utcnow
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


@dataclass
class AccountHealth:
    account: str
    status: str
    checks: list[rules.Check]


@dataclass
class HealthReport:
    status: str
    line: str  # the first line a monitor reads
    accounts: list[AccountHealth]
    changes: list[rules.Change]
    at: datetime
    run_id: int | None = None
    notify_url: str | None = None
    notified: Delivery | None = None  # None: nothing to tell, or no URL
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return rules.exit_code(self.status)

    def as_dict(self) -> dict[str, Any]:
        """The `health check --json` document: ``{status, accounts: [{account, status, checks}]}`` and more."""
        return {
            "status": self.status,
            "summary": self.line,
            "at": self.at,
            "run_id": self.run_id,
            "accounts": [
                {
                    "account": account.account,
                    "status": account.status,
                    "checks": [_check_dict(check) for check in account.checks],
                }
                for account in self.accounts
            ],
            "changes": [
                {"account": c.account, "check": c.check, "from": c.before, "to": c.after, "detail": c.detail}
                for c in self.changes
            ],
        }


def _check_dict(check: rules.Check) -> dict[str, Any]:
    return {
        "name": check.name,
        "status": check.status,
        "detail": check.detail,
        "value": check.value,
        "unit": check.unit or None,
        "cached": check.cached_at is not None,
        "cached_at": check.cached_at,
    }


def check_health(ctx: CommandContext, request: CheckRequest) -> HealthReport:
    """`waba health check`: decide every check of the chosen accounts, store the run, tell of changes."""
    from waba_cli.services.context import run

    policy = ctx.settings.health
    max_age = _max_age(request.max_age, policy.max_age)
    wanted_url = request.notify_url or policy.notify_url
    url = notify.check_url(wanted_url) if wanted_url else None
    canary_to = _canary_to(request.canary_to, ctx.settings.region)
    accounts = _accounts(ctx, request.all_accounts)
    started = request.clock()
    with ctx.db.session() as session:
        previous = store.previous_results(session, accounts)
        kept = meta.kept_answers(session, [a.id for a in accounts if a.id is not None])
    credentials: dict[int, Credentials | Exception] = {}
    for account in accounts:
        assert account.id is not None
        try:
            credentials[account.id] = ctx.credentials(account)
        except WabaError as exc:
            credentials[account.id] = exc
    got = run(lambda: _ask_all(ctx, accounts, credentials, kept, max_age, request.clock))
    now = request.clock()
    with ctx.db.transaction() as session:
        for account in accounts:
            assert account.id is not None
            meta.keep_answers(session, account, got[account.id])
    results: list[tuple[Account, rules.Check]] = []
    for account in accounts:
        assert account.id is not None
        checks = _decide(ctx, account, got[account.id], previous, now)
        results += [(account, check) for check in checks]
    if canary_to is not None:
        results += _canaries(ctx, accounts, canary_to, request)
    status = rules.worst(check.status for _, check in results)
    changes = rules.changes(((a.name, c) for a, c in results), {k: p.status for k, p in previous.items()})
    line = rules.summary(status, [(a.name, c) for a, c in results], len(accounts))
    with ctx.db.transaction() as session:
        saved = store.save_run(session, started, status, results, changes)
        store.prune(session, started - policy.keep)
        run_id = saved.id
    report = HealthReport(status, line, _by_account(accounts, results), changes, started, run_id, url)
    if url is not None and changes:
        document = notify.message(line, changes, report.as_dict())
        report.notified = run(
            lambda: notify.send(
                url, document, attempts=policy.notify_attempts, timeout=policy.request_timeout, sleep=request.sleep
            )
        )
        _record_notification(ctx, run_id, report.notified, request.clock())
    return report


def _max_age(given: str | None, default: timedelta) -> timedelta:
    if given is None:
        return default
    try:
        age = timedelta(0) if given.strip() == "0" else parse_duration(given)
    except ValueError as exc:
        raise ValidationError("--max-age", str(exc)) from None
    if age is None:
        raise ValidationError("--max-age", f"{given!r} is not a duration like 30s, 10m or 1h (0: always ask Meta)")
    return age


def _canary_to(value: str | None, region: str | None) -> str | None:
    if value is None:
        return None
    try:
        return validators.phone_number(value, region)
    except ValueError as exc:
        raise ValidationError("--canary", str(exc)) from None


def _accounts(ctx: CommandContext, all_accounts: bool) -> list[Account]:
    if not all_accounts:
        return [ctx.account]
    if ctx.settings.account_from_flag:
        raise UsageError("give --account or --all, not both")
    with ctx.db.session() as session:
        accounts = list(session.exec(select(Account).order_by(col(Account.name))).all())
    if not accounts:
        raise UsageError("no account is set up", "run `waba account setup`")
    return accounts


async def _ask_all(
    ctx: CommandContext,
    accounts: Sequence[Account],
    credentials: Mapping[int, Credentials | Exception],
    kept: Mapping[int, Mapping[str, Any]],
    max_age: timedelta,
    clock: Callable[[], datetime],
) -> dict[int, dict[str, Answer]]:
    """Every account's answers, all accounts at once."""

    async def one(account: Account) -> dict[str, Answer]:
        assert account.id is not None
        given = credentials[account.id]
        if isinstance(given, Exception):
            return {call: Answer(error=given) for call in meta.CALLS}
        try:
            return await meta.ask(ctx, account, given, kept.get(account.id, {}), max_age, clock)
        except WabaError as exc:
            return {call: Answer(error=exc) for call in meta.CALLS}

    found = await asyncio.gather(*(one(account) for account in accounts))
    return {account.id: answers for account, answers in zip(accounts, found, strict=True) if account.id is not None}


def _decide(
    ctx: CommandContext,
    account: Account,
    got: dict[str, Answer],
    previous: Mapping[tuple[str, str], store.Previous],
    now: datetime,
) -> list[rules.Check]:
    """One account's checks, in the order they are shown."""
    from waba_cli.services import ratelimit
    from waba_cli.services.numbers.sync import store_numbers

    policy = ctx.settings.health
    refused = next((a.error for call, a in got.items() if call != "token" and _refused(a.error)), None)
    token = got["token"]
    if token.ok:
        checks = [_from(token, rules.token_check(token.value, account.waba_id, now, policy))]
    elif _refused(token.error):
        message = getattr(token.error, "message", token.error)
        checks = [rules.unknown("token", f"Meta refused the app id and secret for debug_token ({message})")]
    else:
        checks = [rules.unknown("token", f"debug_token failed: {_why(token.error)}")]
    if refused is not None and checks[0].status != rules.CRITICAL:
        checks[0] = rules.Check("token", rules.CRITICAL, f"Meta refused the access token: {_why(refused)}")
    waba = got["waba"]
    checks.append(_from(waba, rules.waba_check(waba.value)) if waba.ok else _skipped("waba", waba))
    numbers = got["numbers"]
    if numbers.ok and not numbers.cached:
        store_numbers(ctx, account, numbers.value)
    checks += _number_checks(ctx, account, numbers, previous, now)
    with ctx.db.session() as session:
        apps = got["subscribed_apps"]
        webhook_facts = rules.WebhookFacts(
            app_id=account.app_id,
            subscribed_apps=apps.value if apps.ok else None,
            expected_url=account.webhook_url,
            callbacks=_callbacks(numbers.value) if numbers.ok else {},
            last_delivery_at=facts.last_delivery_at(session, account),
            failed_recently=facts.failed_deliveries(session, account, now),
        )
        webhooks = rules.webhooks_check(webhook_facts, now, policy)
        if not apps.ok and webhooks.status == rules.UNKNOWN:
            webhooks.detail = f"subscribed_apps: {_why(apps.error)}"
        checks.append(_from(apps, webhooks))
        total, failed, codes = facts.outbound(session, account, now - policy.delivery_window)
        checks.append(rules.delivery_check(total, failed, codes, policy))
        templates = got["templates"]
        before = previous.get((account.name, "templates"))
        statuses = before.data.get("statuses") if before is not None else None
        checks.append(
            _from(templates, rules.templates_check(templates.value, statuses, policy))
            if templates.ok
            else _skipped("templates", templates)
        )
        usage = ratelimit.usage(session, account, now)
        checks.append(
            rules.limits_check(usage.today, usage.month, usage.daily_limit, usage.monthly_limit, usage.timezone, policy)
        )
        checks.append(rules.flows_check(facts.flow_events(session, account, now)))
    return checks


def _number_checks(
    ctx: CommandContext,
    account: Account,
    numbers: Answer,
    previous: Mapping[tuple[str, str], store.Previous],
    now: datetime,
) -> list[rules.Check]:
    """Each number Meta lists (as stored), but those in ``health.ignore_numbers``."""
    from waba_cli.services.numbers.store import facts_of, numbers_of, shown

    ignored = set(ctx.settings.health.ignore_numbers)
    with ctx.db.session() as session:
        rows = [
            n
            for n in numbers_of(session, account)
            if n.gone_at is None and n.phone_number not in ignored and n.phone_number_id not in ignored
        ]
    checks = []
    for number in rows:
        name = rules.number_name(number.phone_number)
        if not numbers.ok:
            reason = f"{shown(number)}: {_why(numbers.error)}"
            checks.append(rules.unknown(name, reason, phone_number_id=number.phone_number_id))
            continue
        before = previous.get((account.name, name))
        diagnosis = doctor.diagnose(facts_of(number), now)
        checks.append(
            _from(numbers, rules.number_check(diagnosis, before.data if before else None, ctx.settings.health))
        )
    return checks


def _callbacks(listed: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    found = {}
    for number in listed:
        configuration = number.get("webhook_configuration")
        if isinstance(configuration, Mapping) and configuration.get("application"):
            found[str(number.get("display_phone_number") or number.get("id"))] = str(configuration["application"])
    return found


def _canaries(
    ctx: CommandContext, accounts: Sequence[Account], to: str, request: CheckRequest
) -> list[tuple[Account, rules.Check]]:
    from waba_cli.services.context import run
    from waba_cli.services.health.canary import canary

    policy = ctx.settings.health
    found = []
    for account in accounts:
        check = run(
            lambda account=account: canary(  # type: ignore[misc]
                ctx,
                account,
                to,
                template=request.canary_template or policy.canary_template,
                language=policy.canary_language,
                timeout=policy.canary_timeout,
                clock=request.clock,
                sleep=request.sleep,
            )
        )
        found.append((account, check))
    return found


def _from(answer: Answer, check: rules.Check) -> rules.Check:
    """``check``, marked as decided from a kept answer when it was."""
    if answer.cached:
        check.cached_at = answer.fetched_at
    return check


def _skipped(name: str, answer: Answer) -> rules.Check:
    return rules.unknown(name, _why(answer.error))


def _refused(error: Exception | None) -> bool:
    from waba_cli.graph.errors import AuthError

    return isinstance(error, AuthError)


def _why(error: Exception | None) -> str:
    """Why an answer is missing, in one line."""
    from waba_cli.graph.errors import GraphNetworkError

    if error is None:
        return "no answer"
    if _refused(error):
        return f"skipped: Meta refused the access token ({getattr(error, 'message', error)})"
    if isinstance(error, GraphNetworkError):
        return f"the Graph API did not answer: {error.message}"
    if isinstance(error, WabaError):
        return error.message
    return f"{type(error).__name__}: {error}"


def _by_account(accounts: Sequence[Account], results: Sequence[tuple[Account, rules.Check]]) -> list[AccountHealth]:
    found = []
    for account in accounts:
        checks = [check for owner, check in results if owner.id == account.id]
        found.append(AccountHealth(account.name, rules.worst(c.status for c in checks), checks))
    return found


def _record_notification(ctx: CommandContext, run_id: int | None, delivery: Delivery, at: datetime) -> None:
    from waba_cli.db.models.health import HealthRun

    with ctx.db.transaction() as session:
        row = session.get(HealthRun, run_id)
        if row is None:
            return
        if delivery.ok:
            row.notified_at = at
        else:
            row.notify_error = delivery.error
        session.add(row)
