"""What a campaign became (`waba campaign list`, `campaign show`): read from what is stored, nothing written.

A run's summary can only say what Meta answered to each request; what happens next arrives by
webhook, often minutes later: delivered, read, or failed after all (131026: the phone cannot
receive it; 131049: Meta's marketing limits). Each recipient is counted here by its state in the
campaign and, once Meta accepted it, by the furthest status its message reached:

    sent        Meta accepted the request (a wamid), whatever came after; no_status_yet: no status
                webhook about it stored yet (is serve-webhook running?)
    delivered   reached the phone (delivered or read); read: read
    failed      refused when sent, or failed later by webhook; by code, with Meta's title
    in_doubt    its request may have reached Meta without an answer being recorded
    pending     not attempted yet (a stopped run); skipped: outside the 24-hour window

Invalid and duplicate CSV rows never become recipients: the run's summary reports them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select

from waba_cli.db.models.accounts import Account
from waba_cli.db.models.base import table_of
from waba_cli.db.models.campaigns import Campaign, CampaignRecipient
from waba_cli.db.models.messages import Message
from waba_cli.errors import NotFoundError, ValidationError
from waba_cli.services.campaigns.store import owner_alive

if TYPE_CHECKING:
    from waba_cli.services.context import CommandContext

CAMPAIGN = table_of(Campaign)
RECIPIENT = table_of(CampaignRecipient)
MESSAGE = table_of(Message)
ACCOUNT = table_of(Account)

DEFAULT_LIMIT = 20
DIED = "its last run ended without finishing (killed, or the machine stopped)"


@dataclass(frozen=True)
class FailedCode:
    """Recipients that failed with one error code (``None``: no code, e.g. a request that never left)."""

    code: int | None
    title: str | None  # Meta's title for the code, as it came with the failures
    count: int
    when_sent: int  # refused when the request was sent
    later: int  # failed after Meta accepted it (a status webhook)

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "count": self.count,
            "when_sent": self.when_sent,
            "later": self.later,
        }


@dataclass
class Counts:
    """A campaign's recipients counted by outcome (see the module docstring)."""

    total: int = 0
    sent: int = 0
    no_status_yet: int = 0  # sent, but no status webhook about it stored yet
    delivered: int = 0
    read: int = 0
    failed: int = 0
    in_doubt: int = 0
    sending: int = 0  # a run is sending them right now
    pending: int = 0
    skipped: int = 0
    failed_by_code: list[FailedCode] = field(default_factory=list)

    @property
    def failed_later(self) -> int:
        return sum(f.later for f in self.failed_by_code)


@dataclass
class CampaignReport:
    """One campaign: what it sends, how it was paced, when it ran, and its recipients' outcomes."""

    name: str
    account: str
    phone_number_id: str
    kind: str
    template: str | None
    language: str | None
    body: str | None
    status: str
    stop_reason: str | None
    rate: float | None
    rate_reason: str | None
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    counts: Counts

    def as_json(self) -> dict[str, Any]:
        c = self.counts
        return {
            "name": self.name,
            "account": self.account,
            "status": self.status,
            "stop_reason": self.stop_reason,
            "total": c.total,
            "sent": c.sent,
            "no_status_yet": c.no_status_yet,
            "delivered": c.delivered,
            "read": c.read,
            "failed": c.failed,
            "failed_later": c.failed_later,
            "failed_by_code": [f.as_json() for f in c.failed_by_code],
            "in_doubt": c.in_doubt,
            "sending": c.sending,
            "pending": c.pending,
            "skipped": c.skipped,
            "rate": self.rate,
            "rate_reason": self.rate_reason,
            "started_at": self.started_at,
            "updated_at": self.updated_at,
            "finished_at": self.finished_at,
            "phone_number_id": self.phone_number_id,
            "kind": self.kind,
            "template": self.template,
            "language": self.language,
            "body": self.body,
        }


@dataclass
class CampaignList:
    """``campaign list``: the newest campaigns first, and how many there are in all."""

    campaigns: list[CampaignReport]
    total: int


def list_campaigns(ctx: CommandContext, limit: int | None = DEFAULT_LIMIT) -> CampaignList:
    """The newest ``limit`` campaigns (all with None), of the account named, else of every account."""
    if limit is not None and limit < 1:
        raise ValidationError("--limit", "must be at least 1")
    account = ctx.named_account
    query = _campaigns_query()
    counting = select(func.count()).select_from(CAMPAIGN)
    if account is not None:
        query = query.where(CAMPAIGN.c.account_id == account.id)
        counting = counting.where(CAMPAIGN.c.account_id == account.id)
    query = query.order_by(CAMPAIGN.c.created_at.desc(), CAMPAIGN.c.id.desc())
    if limit is not None:
        query = query.limit(limit)
    with ctx.db.engine.connect() as conn:
        rows = conn.execute(query).all()
        total = len(rows) if limit is None or len(rows) < limit else int(conn.execute(counting).scalar_one())
        counts = _counts(conn, [row.id for row in rows])
    return CampaignList([_report(row, counts.get(row.id, Counts())) for row in rows], total)


def show_campaign(ctx: CommandContext, name: str) -> CampaignReport:
    """The campaign called ``name`` (exit 2 with the names to choose from when there is none)."""
    with ctx.db.engine.connect() as conn:
        row = conn.execute(_campaigns_query().where(CAMPAIGN.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"no campaign {name!r}", "see `waba campaign list`")
        counts = _counts(conn, [row.id])
    return _report(row, counts.get(row.id, Counts()))


def _campaigns_query() -> Any:
    c = CAMPAIGN.c
    return select(
        c.id,
        c.name,
        ACCOUNT.c.name.label("account"),
        c.phone_number_id,
        c.kind,
        c.template_name,
        c.language,
        c.body,
        c.status,
        c.stop_reason,
        c.owner,
        c.heartbeat_at,
        c.rate,
        c.rate_reason,
        c.created_at,
        c.updated_at,
        c.finished_at,
    ).join(ACCOUNT, ACCOUNT.c.id == c.account_id)


def _running(row: Any) -> bool:
    """A run is sending the campaign right now (its process is alive, or its heartbeat is recent)."""
    return bool(row.status == "running" and owner_alive(row.owner, row.heartbeat_at, datetime.now(UTC)))


def _report(row: Any, counts: Counts) -> CampaignReport:
    died = row.status == "running" and not _running(row)
    return CampaignReport(
        name=row.name,
        account=row.account,
        phone_number_id=row.phone_number_id,
        kind=row.kind,
        template=row.template_name,
        language=row.language,
        body=row.body,
        status="stopped" if died else row.status,
        stop_reason=DIED if died else row.stop_reason,
        rate=row.rate,
        rate_reason=row.rate_reason,
        started_at=row.created_at,
        updated_at=row.updated_at,
        finished_at=row.finished_at,
        counts=counts,
    )


def _counts(conn: Connection, campaign_ids: list[int]) -> dict[int, Counts]:
    """Each campaign's recipients counted by state and their message's furthest status: one grouped query."""
    if not campaign_ids:
        return {}
    r, m = RECIPIENT.c, MESSAGE.c
    code = func.coalesce(m.error_code, r.error_code)
    title = func.coalesce(m.error_title, r.error_title)
    query = (
        select(r.campaign_id, r.state, m.status, code, title, func.count())
        .select_from(RECIPIENT.outerjoin(MESSAGE, m.wamid == r.wamid))
        .where(r.campaign_id.in_(campaign_ids))
        .group_by(r.campaign_id, r.state, m.status, code, title)
    )
    running = {
        row.id
        for row in conn.execute(
            select(CAMPAIGN.c.id, CAMPAIGN.c.status, CAMPAIGN.c.owner, CAMPAIGN.c.heartbeat_at).where(
                CAMPAIGN.c.id.in_(campaign_ids)
            )
        )
        if _running(row)
    }
    found: dict[int, Counts] = {}
    failures: dict[int, dict[int | None, tuple[Counter[str], list[int]]]] = {}
    for campaign_id, state, status, error_code, error_title, count in conn.execute(query):
        counts = found.setdefault(campaign_id, Counts())
        counts.total += count
        failed_when = _tally(counts, state, status, count, campaign_id in running)
        if failed_when is not None:
            titles, split = failures.setdefault(campaign_id, {}).setdefault(error_code, (Counter(), [0, 0]))
            if error_title:
                titles[error_title] += count
            split[failed_when] += count
    for campaign_id, by_code in failures.items():
        found[campaign_id].failed_by_code = sorted(
            (
                FailedCode(
                    code=error_code,
                    title=titles.most_common(1)[0][0] if titles else None,
                    count=split[0] + split[1],
                    when_sent=split[0],
                    later=split[1],
                )
                for error_code, (titles, split) in by_code.items()
            ),
            key=lambda f: (-f.count, f.code or 0),
        )
    return found


def _tally(counts: Counts, state: str, status: str | None, count: int, running: bool) -> int | None:
    """Count ``count`` recipients; a failure returns 0 (refused when sent) or 1 (failed later), else None."""
    if state == "accepted":
        counts.sent += count
        if status in (None, "queued", "accepted"):
            counts.no_status_yet += count
        if status in ("delivered", "read"):
            counts.delivered += count
        if status == "read":
            counts.read += count
        if status == "failed":
            counts.failed += count
            return 1
    elif state == "failed":
        counts.failed += count
        return 0
    elif state == "in_doubt" or (state == "sending" and not running):
        counts.in_doubt += count  # a run that died left it sending: the next run reports it in doubt
    elif state == "sending":
        counts.sending += count
    elif state == "outside_window":
        counts.skipped += count
    else:
        counts.pending += count
    return None
