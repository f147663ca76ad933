"""Before anything is sent: the request checked, the CSV scanned, and the plan (``--dry-run``) made.

Everything that does not depend on the rows is checked first (flags, account, sending number,
template or body, columns); then the scan. A campaign resumed must send what it was started with.
Nothing here writes: a dry run reads what an earlier run recorded to complete its plan.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from waba_cli.db.models.accounts import Account, PhoneNumber
from waba_cli.db.models.campaigns import Campaign
from waba_cli.errors import NotFoundError, UsageError, ValidationError
from waba_cli.services.campaigns import store
from waba_cli.services.campaigns.content import Content, Form, template_columns
from waba_cli.services.campaigns.csv_scan import Scratch, phone_column, read_header, scan
from waba_cli.services.campaigns.plan import (
    OUTSIDE_WINDOW,
    BulkRequest,
    Plan,
    RowProblem,
    campaign_name,
    default_concurrency,
)
from waba_cli.services.ratelimit import DEFAULT_THROUGHPUT, THROUGHPUT, throughput_of

if TYPE_CHECKING:
    from sqlmodel import Session

    from waba_cli.services.context import CommandContext

MAX_CONCURRENCY = 1000


@dataclass
class Prepared:
    """Everything checked and scanned; ``send`` runs it, ``plan`` is what ``--dry-run`` shows."""

    plan: Plan
    account: Account
    number: PhoneNumber
    content: Content
    request: BulkRequest
    csv_path: Path | None
    scratch: Scratch | None

    def require_recipients(self, *, listed: bool) -> None:
        """Exit 2 when the CSV has no valid row (and no earlier run left anything to send).

        ``listed``: the rows' problems were shown to the operator already (not with ``--json``).
        """
        p = self.plan
        if p.valid == 0 and not p.existing:
            if listed or not p.problems:
                hint = "fix the rows listed above" if p.problems else "add rows below the line naming the columns"
            else:
                first = p.problems[0]
                hint = (
                    f"fix the rows, e.g. line {first.line} ({first.phone or 'no number'}): {first.reason}; "
                    "without --json each row is listed"
                )
            raise UsageError(
                f"no valid recipient in {self.csv_path} "
                f"({p.total} row(s): {p.invalid} invalid, {p.duplicate} duplicate)",
                hint,
            )

    def close(self) -> None:
        if self.scratch is not None:
            self.scratch.close()
            self.scratch = None


def prepare(ctx: CommandContext, request: BulkRequest) -> Prepared:
    """Check the request and scan the CSV (exit 2 on anything wrong); nothing is written."""
    from waba_cli.services.messaging.rules import sender

    card = None
    if request.rate_card is not None:  # a card that cannot be read is the first thing refused
        from waba_cli.services.analytics.rates import read_rate_card

        card = read_rate_card(request.rate_card)
    _check_flags(request)
    account = ctx.account
    with ctx.db.session() as session:
        existing = store.find_campaign(session, request.campaign)
        if request.resume and request.campaign and existing is None:
            raise NotFoundError(f"no campaign {request.campaign!r} to resume", "start it without --resume")
        csv_path = request.csv_path or (Path(existing.csv_path) if existing and existing.csv_path else None)
        if csv_path is None:
            raise UsageError("--csv FILE is required", "or --resume --campaign NAME for a campaign started before")
        name = request.campaign
        if name is None:
            name = campaign_name(csv_path, request.template, request.body)
            existing = store.find_campaign(session, name)
        if request.resume and existing is None:
            raise NotFoundError(f"no campaign {name!r} to resume", "start it without --resume")
        number = sender(session, account, request.sender, ctx.settings.region)
        if existing is not None and request.sender is None:
            number = store.number_of(session, account, existing.phone_number_id) or number
        content = _content(session, account, request, existing)
        if existing is not None:
            _same_campaign(existing, account, number, content)
        session.expunge_all()
    rate, rate_reason, rate_capped = pacing(request.rate, account, number)
    plan = Plan(
        campaign=name,
        account=account.name,
        phone_number_id=number.phone_number_id,
        kind=content.kind,
        template=content.template.name if content.template else None,
        language=content.template.language if content.template else None,
        rate=rate,
        rate_reason=rate_reason,
        rate_capped=rate_capped,
        concurrency=request.concurrency or default_concurrency(rate),
        existing=existing is not None,
        rate_card=card,
    )
    # resuming by name alone, the CSV may be gone: then only what was imported before is sent
    rescan = request.csv_path is not None or existing is None or csv_path.exists()
    scratch = _scan_file(csv_path, content, ctx.settings.region, plan) if rescan else None
    return Prepared(plan, account, number, content, request, csv_path, scratch)


def pacing(asked: float | None, account: Account, number: PhoneNumber) -> tuple[float, str, bool]:
    """The pace of a run, where it comes from, and whether a limit chose it rather than ``--rate``.

    ``--rate`` if given (0: unpaced), else the number's throughput (reference §9.1: 20/s when it is
    shared with the WhatsApp Business app); the account's per-minute limit caps either.
    """
    level = (number.throughput_level or "").upper()
    if number.is_on_biz_app:
        tier = f"the number is shared with the WhatsApp Business app ({THROUGHPUT['COEXISTENCE']:g}/s)"
    elif level in THROUGHPUT:
        tier = f"the number's throughput ({level}: {THROUGHPUT[level]:g}/s)"
    else:
        tier = f"the number's throughput (unknown: Meta's standard {DEFAULT_THROUGHPUT:g}/s assumed)"
    throughput = throughput_of(number.throughput_level, coexistence=bool(number.is_on_biz_app))
    if asked is None:
        rate, reason, capped = throughput, tier, True
    elif asked == 0:
        rate, reason, capped = 0.0, "--rate 0 (unpaced)", False
    elif asked > throughput:
        rate, capped = asked, True
        reason = f"--rate {asked:g}, above {tier}: Meta's 130429 will slow it down"
    else:
        rate, reason, capped = asked, f"--rate {asked:g}", False
    if account.per_minute_limit:
        cap = account.per_minute_limit / 60
        if rate <= 0 or cap < rate:
            reason = (
                f"account {account.name}'s per-minute limit of {account.per_minute_limit} messages "
                f"({cap:.3g}/s), instead of {reason}"
            )
            rate, capped = cap, True
    return rate, reason, capped


@contextmanager
def prepared_run(
    ctx: CommandContext, request: BulkRequest, show_problems: Callable[[Plan], None] | None
) -> Iterator[Prepared]:
    """``prepare``, then exit 2 when the CSV has no valid row; the scratch file is closed at the end.

    ``show_problems`` shows the rows the scan skipped to the operator (not with ``--json``); the
    hint for a CSV without a valid row then points at them.
    """
    prepared = prepare(ctx, request)
    try:
        if show_problems is not None:
            show_problems(prepared.plan)
        prepared.require_recipients(listed=show_problems is not None)
        yield prepared
    finally:
        prepared.close()


def _check_flags(request: BulkRequest) -> None:
    if request.rate is not None and request.rate < 0:
        raise ValidationError("--rate", "must be 0 (unpaced) or more messages per second")
    if request.concurrency is not None and not 1 <= request.concurrency <= MAX_CONCURRENCY:
        raise ValidationError("--concurrency", f"must be between 1 and {MAX_CONCURRENCY}")
    if request.template and request.body is not None:
        raise UsageError("give --template NAME or --body TEXT, not both")
    if not request.template and request.body is None and not (request.resume and request.campaign):
        raise UsageError("give --template NAME or --body TEXT")


def _content(session: Session, account: Account, request: BulkRequest, existing: Campaign | None) -> Content:
    """The template (sendable) or text to send: from the flags, else from the campaign being resumed."""
    from waba_cli.domain import payloads
    from waba_cli.services.messaging.rules import template_for_send

    template_name, body = request.template, request.body
    if not template_name and body is None and existing is not None:
        template_name, body = existing.template_name, existing.body
    if template_name:
        from waba_cli.services.flows.store import find_flow

        language = request.language or (existing.language if existing else None)
        template = template_for_send(session, account, template_name, language)
        flow_ref = payloads.flow_button_flow(template)
        flow = find_flow(session, account, flow_ref) if flow_ref else None
        return Content(
            "template", template=template, flow=(flow_ref, flow.id if flow else None) if flow_ref is not None else None
        )
    text = body or ""
    payloads.text(text)
    return Content("text", body=text)


def _scan_file(csv_path: Path, content: Content, region: str | None, plan: Plan) -> Scratch:
    handle, reader, header, fmt = read_header(csv_path)
    plan.csv_read_as = fmt.described(csv_path)
    scratch: Scratch | None = None
    try:
        phone_at = phone_column(header, str(csv_path))
        if content.template is not None:
            content.columns = template_columns(content.template, header, str(csv_path))
            _check_template(content)
        scratch = Scratch()
        scan(csv_path, reader, phone_at, content, region, plan, scratch)
    except BaseException:
        if scratch is not None:
            scratch.close()
        raise
    finally:
        handle.close()
    return scratch


def _same_campaign(campaign: Campaign, account: Account, number: PhoneNumber, content: Content) -> None:
    """Refuse to continue a campaign with another message, account or number (exit 2)."""
    template = content.template.name if content.template else None
    language = content.template.language if content.template else None
    started = (campaign.account_id, campaign.phone_number_id, campaign.kind, campaign.template_name, campaign.body)
    now = (account.id, number.phone_number_id, content.kind, template, content.body)
    if started != now or (language and campaign.language and language != campaign.language):
        what = f"template {campaign.template_name}" if campaign.template_name else "a text body"
        raise UsageError(
            f"campaign {campaign.name!r} was started with {what} from number {campaign.phone_number_id}; "
            "this run would send something else",
            "give another --campaign NAME, or repeat the first command to resume it",
        )


def _check_template(content: Content) -> None:
    """Exit 2 when the template needs what a CSV row cannot give (a media header, a coupon ...); set the fast path."""
    from waba_cli.domain import payloads

    assert content.template is not None
    template = content.template
    try:
        form = Form(template)
    except ValidationError as exc:
        if exc.field != "--param":
            raise UsageError(f"template {template.name!r} cannot be sent in bulk: {exc.problem}", exc.hint) from None
        return  # the markers do not fit (a very short variable limit): every row takes the slow path
    sample = form.params([f"v{i}" for i in range(len(form.names))])
    slow = payloads.template_body(template, "+15550000000", sample)
    if form.request("+15550000000", sample) == slow and form.rendered_text(sample) == payloads.template_text(
        template, sample
    ):
        content.form = form


# -- the plan against an earlier run (dry run) ----------------------------------------------------


def dry_run(ctx: CommandContext, request: BulkRequest, *, show_problems: Callable[[Plan], None] | None = None) -> Plan:
    """``--dry-run``: the request checked, its CSV scanned and its plan made; nothing is written or sent."""
    with prepared_run(ctx, request, show_problems) as prepared:
        return _complete_plan(ctx, prepared)


def _complete_plan(ctx: CommandContext, prepared: Prepared) -> Plan:
    """Complete the plan: rows already sent or in doubt in an earlier run, contacts outside the window
    and, with a rate card, the messages to send per country and pricing category (counted batch by
    batch: a dict of a few hundred keys, whatever the size of the CSV)."""
    plan = prepared.plan
    if prepared.scratch is None:
        return plan
    category = pricing_category(prepared.content)
    with ctx.db.session() as session:
        campaign = store.find_campaign(session, plan.campaign)
        conn = session.connection()
        numbers = store.account_numbers(conn, prepared.account)
        for batch in prepared.scratch.batches(store.FETCH_BATCH):
            phones = [phone for _, phone, _ in batch]
            states = store.recipient_states(conn, campaign, phones) if campaign is not None else {}
            fresh = []
            for phone in phones:
                state = states.get(phone)
                if state in ("accepted", "failed"):
                    plan.already_sent += 1
                elif state in ("in_doubt", "sending") and not prepared.request.resend_in_doubt:
                    plan.in_doubt += 1
                else:
                    fresh.append(phone)
            lines = {phone: line for line, phone, _ in batch}
            if prepared.content.kind == "text" and not prepared.request.force:
                inside = store.inside_window(conn, prepared.number.phone_number_id, fresh, datetime.now(UTC))
                plan.outside_window += len(fresh) - len(inside)
                for phone in fresh:
                    if phone not in inside:
                        plan.problem(RowProblem(lines[phone], phone, OUTSIDE_WINDOW))
                fresh = [p for p in fresh if p in inside]
            plan.to_send += len(fresh)
            _count_costs(plan, fresh, category)
            for warning in store.likely_failures(conn, numbers, [(lines[p], p) for p in fresh]):
                plan.warn(warning)
            if plan.example is None and fresh:
                _line, phone, params = next(row for row in batch if row[1] == fresh[0])
                # the callback data is known once the recipient is stored: shown by its parts
                plan.example = prepared.content.request(phone, params, "waba-campaign:<id>:<recipient>:<attempt>")
    return plan


def _count_costs(plan: Plan, phones: list[str], category: str) -> None:
    """With a rate card: count ``phones`` by country (the number's region, as analytics finds it)."""
    if plan.rate_card is None:
        return
    counts: dict[str, int] = {}
    for phone in phones:
        country = _country_of_code(phone[:4])  # a calling code has at most three digits
        counts[country] = counts.get(country, 0) + 1
    for country, messages in counts.items():
        plan.count_cost(country, category, messages)


@functools.lru_cache(maxsize=1024)
def _country_of_code(prefix: str) -> str:
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

    from waba_cli.domain.analytics import country_of

    return country_of(prefix, COUNTRY_CODE_TO_REGION_CODE)


def pricing_category(content: Content) -> str:
    """What Meta bills a message of the campaign as: the template's category (marketing, utility,
    authentication); a free-form text, sent only inside the customer-service window, is service (free)."""
    if content.template is None:
        return "service"
    return content.template.category.strip().lower().replace("-", "_")


# -- as a run starts -------------------------------------------------------------------------------


def check_account_limits(session: Session, account: Account, planned: int) -> None:
    """Refuse (exit 2) a campaign that would pass the account's daily or monthly limit.

    The per-minute limit is kept by pacing instead (``prepare`` caps the rate).
    """
    from waba_cli.services.ratelimit import usage

    if not planned or not (account.daily_limit or account.monthly_limit):
        return
    current = usage(session, account)
    for used, limit, what in (
        (current.today, account.daily_limit, "daily"),
        (current.month, account.monthly_limit, "monthly"),
    ):
        if limit is not None and used + planned > limit:
            raise UsageError(
                f"account {account.name}: the campaign would pass the {what} limit of {limit} messages "
                f"({used} sent, {planned} to send)",
                f"send to fewer recipients, or raise it: waba account update {account.name} --set {what}_limit=N",
            )
