"""Live checks of an account with Meta: the token, its expiry and scopes, the WABA, each number, and
the app's subscription to the WABA.

Public trackers are full of accounts that looked set up and were not: a 24-hour dashboard token
saved as if permanent, a token without one of the two WhatsApp permissions, a number of another
WABA, an app never subscribed to the WABA (so no message ever arrives although the App Dashboard
shows the callback "verified"). ``check_live`` asks Meta about each in the order an operator fixes
them and returns one ``Check`` per question: ok, warning or failed, with what to do. A check that
needs a failed one is skipped. `account verify` prints them as a table, the wizard after step 3,
and `account setup --from-file` refuses the first failure before anything is saved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from waba_cli.db.timestamps import utcnow
from waba_cli.domain import numbers as rules
from waba_cli.domain.tokens import MANAGE_EVENTS, MANAGEMENT, MESSAGING, WABA_SCOPES, missing_scopes
from waba_cli.errors import OperationError, ValidationError

if TYPE_CHECKING:
    from waba_cli.db.models.accounts import Account, PhoneNumber
    from waba_cli.graph.api import GraphAPI
    from waba_cli.services.context import CommandContext

OK, WARNING, FAILED, SKIPPED = "ok", "warning", "failed", "skipped"
# the App Dashboard's temporary token lives 24 hours (reference §1.2)
DASHBOARD_TOKEN_LIFE = timedelta(hours=24)
SYSTEM_USER_TOKEN = (
    "make a System User token that never expires: Business Settings > Users > System users > Add (Admin), "
    "Assign assets > your WhatsApp account (full control), then Generate new token for your app with "
    f"{MANAGEMENT} and {MESSAGING}, token expiration Never"
)
_NOT_FOUND_CODES = (10, 100)


@dataclass
class Check:
    """One question asked of Meta and its answer."""

    name: str  # token, expiry, scopes, waba, number +1555..., subscription
    status: str  # ok | warning | failed | skipped
    detail: str
    hint: str | None = None
    key: str | None = None  # the setup key to fix, when one is at fault
    error: Exception | None = field(default=None, repr=False)  # Meta's own error, when it answered one

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "hint": self.hint}


@dataclass
class LiveReport:
    """Every check, and what Meta said on the way (the token, the WABA, the WABA's numbers)."""

    checks: list[Check] = field(default_factory=list)
    token: dict[str, Any] = field(default_factory=dict)
    waba: dict[str, Any] = field(default_factory=dict)
    numbers: dict[str, dict[str, Any]] = field(default_factory=dict)  # phone-number id -> Meta's fields
    subscribed: bool | None = None

    @property
    def ok(self) -> bool:
        return not any(c.status == FAILED for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.status == FAILED]

    @property
    def token_valid(self) -> bool:
        return any(c.name == "token" and c.status == OK for c in self.checks)

    @property
    def token_expires_at(self) -> datetime | None:
        expires = int(self.token.get("expires_at") or 0)
        return datetime.fromtimestamp(expires, UTC) if expires else None

    @property
    def scopes(self) -> list[str]:
        return [str(s) for s in self.token.get("scopes", [])]

    def of(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)


async def check_live(
    api: GraphAPI,
    *,
    app_id: str,
    app_secret: str,
    access_token: str,
    waba_id: str,
    phone_number_ids: list[str],
    now: datetime | None = None,
    subscription: bool = True,
) -> LiveReport:
    """Ask Meta about the token, the WABA, the numbers and (unless not ``subscription``) the app's
    subscription; network failures propagate, Meta's answers become checks."""
    from waba_cli.graph.errors import AuthError

    now = now or utcnow()
    report = LiveReport()
    try:
        report.token = dict(await api.debug_token(access_token, app_id=app_id, app_secret=app_secret))
    except AuthError as exc:
        report.checks.append(
            Check(
                "token",
                FAILED,
                f"Meta rejected the app id and secret ({exc.message})",
                "check app_id and app_secret under App Dashboard > App settings > Basic",
                "app_secret",
                exc,
            )
        )
        return _skip_rest(report, phone_number_ids, subscription)
    report.checks.append(_token_check(report.token, app_id))
    if not report.token_valid:
        return _skip_rest(report, phone_number_ids, subscription)
    report.checks.append(_expiry_check(report.token, now))
    report.checks.append(_scopes_check(report.token, waba_id))
    await _waba_checks(api, report, waba_id, phone_number_ids, now)
    if subscription:
        report.checks.append(await _subscription_check(api, report, app_id, waba_id))
    return report


def _skip_rest(report: LiveReport, phone_number_ids: list[str], subscription: bool) -> LiveReport:
    names = ["expiry", "scopes", "waba", *(f"number {n}" for n in phone_number_ids)]
    if subscription:
        names.append("subscription")
    report.checks += [Check(name, SKIPPED, "needs a valid token") for name in names]
    return report


def _token_check(token: dict[str, Any], app_id: str) -> Check:
    if not token.get("is_valid"):
        reason = (token.get("error") or {}).get("message", "expired or revoked")
        return Check(
            "token",
            FAILED,
            f"Meta says the token is not valid: {reason}",
            f"create a new token; {SYSTEM_USER_TOKEN}",
            "access_token",
        )
    owner = str(token.get("app_id", app_id))
    if owner != app_id:
        return Check(
            "token",
            FAILED,
            f"the token belongs to app {owner}, not to {app_id}",
            "use a token of this app, or the app_id and app_secret of the token's app",
            "access_token",
        )
    kind = token.get("type") or "token"
    return Check("token", OK, f"valid {kind} token of app {token.get('application') or app_id}")


def _expiry_check(token: dict[str, Any], now: datetime) -> Check:
    expires = int(token.get("expires_at") or 0)
    if not expires:
        return Check("expiry", OK, "never expires")
    at = datetime.fromtimestamp(expires, UTC)
    left = at - now
    when = f"{at:%Y-%m-%d %H:%M} UTC"
    if left <= timedelta(0):
        return Check("expiry", FAILED, f"expired at {when}", SYSTEM_USER_TOKEN, "access_token")
    if left <= DASHBOARD_TOKEN_LIFE:
        what = f"EXPIRES IN {_duration(left)} ({when}): the App Dashboard's temporary token, not one to keep"
    else:
        what = f"expires in {_duration(left)} ({when}): waba stops working then"
    return Check("expiry", WARNING, what, SYSTEM_USER_TOKEN, "access_token")


def _duration(left: timedelta) -> str:
    hours = int(left.total_seconds() // 3600)
    if hours >= 48:
        return f"{hours // 24} days"
    if hours >= 1:
        return f"{hours} h"
    return f"{max(1, int(left.total_seconds() // 60))} min"


def _scopes_check(token: dict[str, Any], waba_id: str) -> Check:
    scopes = {str(s) for s in token.get("scopes", [])}
    missing = missing_scopes(scopes)
    if missing:
        return Check(
            "scopes",
            FAILED,
            f"the token lacks the permission(s) {', '.join(missing)}",
            f"generate the token again with {MANAGEMENT} and {MESSAGING}",
            "access_token",
        )
    for grant in token.get("granular_scopes", []):
        targets = [str(t) for t in grant.get("target_ids") or []]
        if grant.get("scope") in WABA_SCOPES and targets and waba_id not in targets:
            return Check(
                "scopes",
                FAILED,
                f"the token's {grant['scope']} permission does not cover WABA {waba_id} "
                f"(it covers {', '.join(targets)})",
                "assign the WABA to the system user (Business Settings > System users > Assign assets), "
                "or choose one of the WABAs it covers",
                "waba_id",
            )
    if MANAGEMENT not in scopes:
        return Check(
            "scopes",
            WARNING,
            f"{MANAGE_EVENTS} (Meta's newer event scope, from Embedded Signup) in place of {MANAGEMENT}: "
            "accepted; templates and number settings may be refused",
            f"a token with {MANAGEMENT} manages everything",
        )
    return Check("scopes", OK, f"{MANAGEMENT} and {MESSAGING} for WABA {waba_id}")


async def _waba_checks(
    api: GraphAPI, report: LiveReport, waba_id: str, phone_number_ids: list[str], now: datetime
) -> None:
    from waba_cli.graph.errors import GraphError
    from waba_cli.services.numbers.store import read_numbers

    try:
        report.waba = dict(await api.get_waba(waba_id))
        numbers = [dict(n) for n in await read_numbers(api, waba_id)]
    except GraphError as exc:
        if exc.code in _NOT_FOUND_CODES or (exc.code is not None and 200 <= exc.code <= 299):
            check = Check(
                "waba",
                FAILED,
                f"Meta cannot find WABA {waba_id} for this token ({exc.message})",
                "check the WABA id (App Dashboard > WhatsApp > API Setup) and that the token's user has it",
                "waba_id",
                exc,
            )
        else:
            check = Check("waba", FAILED, str(exc.message), exc.hint, None, exc)
        report.checks.append(check)
        report.checks += [Check(f"number {n}", SKIPPED, "needs the WABA") for n in phone_number_ids]
        return
    waba = report.waba
    review = waba.get("account_review_status")
    detail = f"{waba.get('name') or waba_id} ({waba.get('status') or 'status unknown'}"
    detail += f", review {review})" if review else ")"
    blocked = str(waba.get("status") or "").upper() in ("BANNED", "DISABLED") or str(review or "").upper() == "REJECTED"
    report.checks.append(Check("waba", WARNING if blocked else OK, detail))
    report.numbers = {str(n.get("id")): n for n in numbers}
    for phone_number_id in phone_number_ids:
        report.checks.append(_number_check(report, waba_id, phone_number_id, now))


def _number_check(report: LiveReport, waba_id: str, phone_number_id: str, now: datetime) -> Check:
    from waba_cli.services.numbers.store import facts_from_meta

    data = report.numbers.get(phone_number_id)
    name = f"number {phone_number_id}"
    if data is None:
        known = ", ".join(report.numbers) or "none"
        return Check(
            name,
            FAILED,
            f"{phone_number_id} is not a number of WABA {waba_id} (it has: {known})",
            "take the phone number id from App Dashboard > WhatsApp > API Setup, or `waba number sync`",
            "phone_number_id",
        )
    diagnosis = rules.diagnose(facts_from_meta(data, now), now)
    name = f"number {data.get('display_phone_number') or phone_number_id}"
    shown = ", ".join(str(v) for v in (data.get("verified_name"), data.get("quality_rating"), data.get("status")) if v)
    problems = [f for f in diagnosis.findings if f.severity != rules.INFO]
    if not problems:
        return Check(name, OK, shown or "in the WABA")
    first = problems[0]
    verdict = "cannot send" if not diagnosis.can_send else "sends"
    return Check(name, WARNING, f"{verdict}: {first.message}", first.next)


async def _subscription_check(api: GraphAPI, report: LiveReport, app_id: str, waba_id: str) -> Check:
    from waba_cli.graph.errors import GraphError

    try:
        apps = await api.list_subscribed_apps(waba_id)
    except GraphError as exc:
        return Check("subscription", FAILED, str(exc.message), exc.hint, None, exc)
    ours = [a for a in apps if str((a.get("whatsapp_business_api_data") or {}).get("id")) == app_id]
    report.subscribed = bool(ours)
    if ours:
        override = ours[0].get("override_callback_uri")
        detail = f"app {app_id} receives WABA {waba_id}'s webhooks"
        return Check("subscription", OK, detail + (f" at the override {override}" if override else ""))
    others = [str((a.get("whatsapp_business_api_data") or {}).get("name") or "?") for a in apps]
    return Check(
        "subscription",
        FAILED,
        f"app {app_id} is not subscribed to WABA {waba_id}: no webhook arrives, although the App Dashboard "
        "shows the callback as verified" + (f" (subscribed: {', '.join(others)})" if others else ""),
        "`waba account subscribe ACC` subscribes it",
    )


# -- for commands ------------------------------------------------------------------------------


def check_setup(ctx: CommandContext, setup: dict[str, Any], *, subscription: bool = True) -> LiveReport:
    """The live checks for setup values not saved yet (the wizard, `account setup --from-file`)."""
    from waba_cli.graph.client import Credentials
    from waba_cli.services.context import run

    async def ask() -> LiveReport:
        async with ctx.graph(Credentials(setup["access_token"], setup["app_id"], setup["app_secret"])) as api:
            return await check_live(
                api,
                app_id=setup["app_id"],
                app_secret=setup["app_secret"],
                access_token=setup["access_token"],
                waba_id=setup["waba_id"],
                phone_number_ids=[setup["phone_number_id"]],
                subscription=subscription,
            )

    return run(ask)


def check_credentials(
    ctx: CommandContext, account: Account, app_id: str, app_secret: str, access_token: str
) -> LiveReport:
    """The token checks (valid, this app's, expiry, scopes, the WABA) for new credentials of a saved
    account, before they are stored (`account update`); the numbers and the subscription are not asked."""
    from waba_cli.graph.client import Credentials
    from waba_cli.services.context import run

    async def ask() -> LiveReport:
        async with ctx.graph(Credentials(access_token, app_id, app_secret), account.id) as api:
            return await check_live(
                api,
                app_id=app_id,
                app_secret=app_secret,
                access_token=access_token,
                waba_id=account.waba_id,
                phone_number_ids=[],
                subscription=False,
            )

    return run(ask)


def require_passing(report: LiveReport, source: str | None = None, *, unless: tuple[str, ...] = ()) -> None:
    """Raise the first failed check not named in ``unless``: a ``ValidationError`` naming the setup key
    at fault (exit 2), else Meta's own error or an ``OperationError`` (exit 1)."""
    for check in report.failures:
        if check.name in unless:
            continue
        if check.key is not None:
            raise ValidationError(check.key, check.detail, check.hint, source=source)
        if check.error is not None:
            raise check.error
        raise OperationError(check.detail, check.hint)


def check_account(ctx: CommandContext) -> tuple[Account, list[PhoneNumber], LiveReport]:
    """`waba account verify`: the live checks of a saved account (every number not gone), and what
    Meta said recorded on the account and its numbers in one transaction."""
    from waba_cli.services.accounts.setup import apply_report
    from waba_cli.services.accounts.store import numbers_of, reload
    from waba_cli.services.numbers.store import apply_fields, log_change
    from waba_cli.services.numbers.store import reload as reload_number

    account = ctx.account
    with ctx.db.session() as session:
        numbers = [n for n in numbers_of(session, account) if n.gone_at is None]
    credentials = ctx.credentials(account)

    async def ask(api: GraphAPI) -> LiveReport:
        return await check_live(
            api,
            app_id=account.app_id,
            app_secret=credentials.app_secret or "",
            access_token=credentials.access_token,
            waba_id=account.waba_id,
            phone_number_ids=[n.phone_number_id for n in numbers],
        )

    report = ctx.run_graph(account, ask)
    now = utcnow()
    with ctx.db.transaction() as session:
        fresh = reload(session, account)
        if report.token_valid:
            apply_report(fresh, report)
            session.add(fresh)
        stored = []
        for number in numbers:
            row = reload_number(session, number)
            data = report.numbers.get(row.phone_number_id)
            if data is not None:
                for change in apply_fields(row, data, now):  # type: ignore[arg-type]
                    log_change(session, fresh, row, change, now)
                session.add(row)
            stored.append(row)
    return fresh, stored, report


def diagnosis_of(report: LiveReport, phone_number_id: str) -> rules.Diagnosis | None:
    """The number doctor's diagnosis of a number the report read from Meta (None: not in the WABA)."""
    from waba_cli.services.numbers.store import facts_from_meta

    data = report.numbers.get(phone_number_id)
    if data is None:
        return None
    now = utcnow()
    return rules.diagnose(facts_from_meta(data, now), now)


# what stands between a number and registering it now (reference §4.4's prerequisites)
WAITING_CODES = frozenset({"code-not-verified", "name-pending", "name-declined", "name-expired", "name-missing"})


def may_register_now(diagnosis: rules.Diagnosis) -> bool:
    """The number needs registering and nothing Meta checks first is missing."""
    codes = {f.code for f in diagnosis.findings}
    return "not-registered" in codes and not codes & WAITING_CODES
