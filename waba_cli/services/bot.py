"""Auto-replies (the setup wizard's step 5): which answer an inbound message gets, and sending it once.

Precedence, for an account with ``enable_auto_reply``:

1. **out of hours**: with ``enable_business_hours``, a message written outside
   ``business_hours_start``-``business_hours_end`` in ``business_timezone`` gets the
   ``out_of_hours_message`` (a range like 22:00-06:00 spans midnight);
2. **greeting**: the contact's first message to that business number gets ``greeting_message``;
3. **knowledge base**: with ``use_knowledge_base``, the best answer from ``knowledge_base_path`` when
   its score reaches ``webhook.auto_reply_match_threshold`` (0-100, default 80);
4. **fallback**: ``fallback_message``.

A step whose message is not configured is passed over. Reactions, system notices and unsupported
messages get no reply (``webhooks.apply.REPLYABLE_TYPES``).

**Knowledge base files.** TOML::

    [[entry]]
    question = "What are your opening hours?"
    also = ["when are you open", "hours"]   # optional other phrasings
    answer = "Monday to Friday, 9:00 to 17:00."

or CSV with a header row ``question,answer`` (one phrasing per row; several rows may share an answer).

**Scoring.** The message and every phrasing are normalised by rapidfuzz's ``default_process``
(lower case, everything but letters and digits turned into spaces, trimmed) and compared with
``rapidfuzz.fuzz.WRatio`` (0-100): the plain edit-distance ratio, or for texts of different length
the best partial and token-order-insensitive ratios, scaled down the more the lengths differ (so
"opening hours?" finds "What are your opening hours?" at 90, but "yes" does not match a long
question that happens to contain it). An entry scores its best phrasing; the best entry answers
when its score reaches the threshold, ties going to the entry listed first.

**Once only.** The webhook intake inserts one ``auto_reply`` row per inbound message
(``inbound_wamid`` is unique) in the transaction that stores the message. ``send_pending_replies``
claims a row with a conditional UPDATE (``pending`` -> ``sending``), so of several instances on one
database exactly one sends it, and a repeated delivery finds the row already there. A process that
dies while sending leaves the row ``sending``: in doubt, and never sent again automatically.
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, func, or_, select, update

from waba_cli.db.models.accounts import Account
from waba_cli.db.models.base import table_of
from waba_cli.db.models.bot import AutoReply
from waba_cli.db.models.messages import Message
from waba_cli.db.timestamps import aware, utcnow
from waba_cli.domain.documents import loads_toml
from waba_cli.errors import ValidationError, WabaError
from waba_cli.files import read_bytes

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from waba_cli.services.context import CommandContext

OUT_OF_HOURS = "out_of_hours"
GREETING = "greeting"
KNOWLEDGE_BASE = "knowledge_base"
FALLBACK = "fallback"
WINDOW = timedelta(hours=24)
_AUTO_REPLY = table_of(AutoReply)
_MESSAGE = table_of(Message)


# -- business hours ----------------------------------------------------------------------------


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def within_business_hours(start: time | None, end: time | None, zone: str | None, at: datetime) -> bool:
    """True when ``at`` falls in [start, end) on the clock of ``zone``; a range past midnight wraps."""
    if start is None or end is None or start == end:
        return True
    local = at.astimezone(_zone(zone)).time().replace(tzinfo=None)
    if start < end:
        return start <= local < end
    return local >= start or local < end


# -- the knowledge base ------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    phrasings: tuple[str, ...]
    answer: str


@dataclass(frozen=True)
class Match:
    answer: str
    score: float
    question: str


class KnowledgeBase:
    """Questions and answers from a TOML or CSV file, matched as the module docstring says."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        from rapidfuzz.utils import default_process

        self.entries = list(entries)
        self._choices = [
            (index, phrasing, default_process(phrasing))
            for index, entry in enumerate(self.entries)
            for phrasing in entry.phrasings
        ]

    @classmethod
    def load(cls, path: Path) -> KnowledgeBase:
        """Read ``path`` (.toml or .csv); ValidationError naming the file when it cannot be used."""
        source = str(path)
        try:
            raw = read_bytes(path)
        except OSError as exc:
            raise ValidationError("knowledge_base_path", f"{path} cannot be read ({exc.strerror})") from None
        suffix = path.suffix.lower()
        if suffix == ".toml":
            entries = _toml_entries(raw, source)
        elif suffix == ".csv":
            entries = _csv_entries(raw, source)
        else:
            raise ValidationError("knowledge_base_path", f"{path} must be a .toml or .csv file")
        return cls(entries)

    def best(self, text: str) -> Match | None:
        """The best-scoring entry for ``text`` (whatever its score), or None when there is nothing to match."""
        from rapidfuzz import fuzz, process
        from rapidfuzz.utils import default_process

        query = default_process(text)
        if not query or not self._choices:
            return None
        found = process.extractOne(
            query, [c[2] for c in self._choices], scorer=fuzz.WRatio, processor=None, score_cutoff=0
        )
        if found is None:
            return None
        _, score, position = found
        index, phrasing, _ = self._choices[position]
        return Match(self.entries[index].answer, float(score), phrasing)


def _toml_entries(raw: bytes, source: str) -> list[Entry]:
    try:
        data = loads_toml(raw.decode("utf-8"), source)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValidationError("knowledge_base_path", f"{source} is not valid TOML: {exc}") from None
    items = data.get("entry")
    if not isinstance(items, list):
        raise ValidationError(
            "knowledge_base_path", f"{source} has no [[entry]] tables", "each needs question = ... and answer = ..."
        )
    entries = []
    for number, item in enumerate(items, 1):
        question = item.get("question") if isinstance(item, dict) else None
        also = item.get("also", []) if isinstance(item, dict) else []
        answer = item.get("answer") if isinstance(item, dict) else None
        phrasings = [question, *(also if isinstance(also, list) else [also])]
        if not isinstance(answer, str) or not answer.strip() or not all(isinstance(p, str) and p for p in phrasings):
            raise ValidationError(
                "knowledge_base_path", f"{source}: entry {number} needs a question and an answer (strings)"
            )
        entries.append(Entry(tuple(cast("list[str]", phrasings)), answer.strip()))
    return entries


def _csv_entries(raw: bytes, source: str) -> list[Entry]:
    try:
        rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValidationError("knowledge_base_path", f"{source} is not a readable CSV file: {exc}") from None
    entries = []
    for number, row in enumerate(rows, 2):
        question, answer = (row.get("question") or "").strip(), (row.get("answer") or "").strip()
        if not question or not answer:
            raise ValidationError(
                "knowledge_base_path",
                f"{source} line {number}: needs a question and an answer",
                "header: question,answer",
            )
        entries.append(Entry((question,), answer))
    return entries


_KNOWLEDGE: dict[str, tuple[float, KnowledgeBase]] = {}


def knowledge_base(path: str) -> KnowledgeBase:
    """The knowledge base at ``path``, read again only when the file changed."""
    file = Path(path).expanduser()
    try:
        mtime = file.stat().st_mtime
    except OSError as exc:
        raise ValidationError("knowledge_base_path", f"{file} cannot be read ({exc.strerror})") from None
    cached = _KNOWLEDGE.get(path)
    if cached is None or cached[0] != mtime:
        cached = (mtime, KnowledgeBase.load(file))
        _KNOWLEDGE[path] = cached
    return cached[1]


# -- choosing the reply ------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    kind: str  # out_of_hours | greeting | knowledge_base | fallback
    text: str
    score: float | None = None


def choose_reply(
    account: Account, text: str | None, at: datetime, *, first_message: bool, threshold: float
) -> Reply | None:
    """The auto-reply ``account`` gives to a message with ``text`` written at ``at`` (None: none configured)."""
    if (
        account.enable_business_hours
        and account.out_of_hours_message
        and not within_business_hours(
            account.business_hours_start, account.business_hours_end, account.business_timezone, at
        )
    ):
        return Reply(OUT_OF_HOURS, account.out_of_hours_message)
    if first_message and account.greeting_message:
        return Reply(GREETING, account.greeting_message)
    if account.use_knowledge_base and account.knowledge_base_path and text:
        try:
            match = knowledge_base(account.knowledge_base_path).best(text)
        except ValidationError:  # a broken file must not leave the customer without an answer
            match = None
        if match is not None and match.score >= threshold:
            return Reply(KNOWLEDGE_BASE, match.answer, match.score)
    if account.fallback_message:
        return Reply(FALLBACK, account.fallback_message)
    return None


def is_first_message(conn: Connection, inbound: Any) -> bool:
    """No earlier inbound message from this contact to this business number is stored."""
    m = _MESSAGE.c
    earlier = conn.execute(
        select(func.count())
        .select_from(_MESSAGE)
        .where(
            m.phone_number_id == inbound.phone_number_id,
            m.contact == inbound.contact,
            m.direction == "in",
            or_(m.created_at < inbound.created_at, and_(m.created_at == inbound.created_at, m.id < inbound.id)),
        )
    ).scalar_one()
    return earlier == 0


# -- sending -----------------------------------------------------------------------------------


@dataclass
class ReplyResult:
    """What became of one pending auto-reply."""

    inbound_wamid: str
    status: str  # sent | skipped | failed
    kind: str | None = None
    detail: str = ""


@dataclass
class _Claimed:
    row_id: int
    inbound_wamid: str
    account: Account
    contact: str
    phone_number_id: str
    reply: Reply | None = None


def _claim(conn: Connection, row_id: int, now: datetime) -> bool:
    a = _AUTO_REPLY.c
    with conn.begin():
        claimed = conn.execute(
            update(_AUTO_REPLY).where(a.id == row_id, a.status == "pending").values(status="sending", updated_at=now)
        )
    return claimed.rowcount == 1


def _finish(conn: Connection, row_id: int, status: str, now: datetime, **values: Any) -> None:
    with conn.begin():
        conn.execute(
            update(_AUTO_REPLY).where(_AUTO_REPLY.c.id == row_id).values(status=status, updated_at=now, **values)
        )


def _prepare(
    conn: Connection, row: Any, context: CommandContext, now: datetime
) -> tuple[_Claimed | None, ReplyResult | None]:
    """Decide the reply for a claimed row; a ReplyResult when it is skipped instead."""
    from sqlmodel import Session

    from waba_cli.services.ratelimit import check_limits

    with Session(bind=conn) as session:
        account = session.get(Account, row.account_id)
        inbound = conn.execute(select(_MESSAGE).where(_MESSAGE.c.wamid == row.inbound_wamid)).first()
        if account is None or inbound is None or not account.enable_auto_reply:
            return None, ReplyResult(row.inbound_wamid, "skipped", detail="auto-replies are off for this account")
        written = aware(inbound.created_at)
        if now - written >= WINDOW:
            return None, ReplyResult(row.inbound_wamid, "skipped", detail="the 24-hour window has closed")
        if not row.contact.startswith("+"):
            return None, ReplyResult(row.inbound_wamid, "skipped", detail="the contact's phone number is withheld")
        reply = choose_reply(
            account,
            inbound.text if inbound.type in ("text", "button", "interactive") else None,
            written,
            first_message=is_first_message(conn, inbound),
            threshold=context.settings.auto_reply_match_threshold,
        )
        if reply is None:
            return None, ReplyResult(row.inbound_wamid, "skipped", detail="no reply message is configured")
        check_limits(session, account)
        session.expunge(account)
    return _Claimed(row.id, row.inbound_wamid, account, row.contact, row.phone_number_id, reply), None


async def send_pending_replies(
    context: CommandContext, *, limit: int = 100, now: datetime | None = None
) -> list[ReplyResult]:
    """Claim and send the pending auto-replies (at most ``limit``), each exactly once."""
    from waba_cli.domain import payloads
    from waba_cli.services.messaging.send import Outgoing, deliver

    a = _AUTO_REPLY.c
    results: list[ReplyResult] = []
    with context.db.engine.connect() as conn:
        with conn.begin():
            pending = conn.execute(
                select(a.id, a.inbound_wamid, a.account_id, a.contact, a.phone_number_id)
                .where(a.status == "pending")
                .order_by(a.id)
                .limit(limit)
            ).all()
        for row in pending:
            moment = now or utcnow()
            if not _claim(conn, row.id, moment):
                continue  # another instance took it
            try:
                with conn.begin():
                    claimed, skipped = _prepare(conn, row, context, moment)
            except WabaError as exc:
                claimed, skipped = None, ReplyResult(row.inbound_wamid, "skipped", detail=str(exc))
            if skipped is not None:
                _finish(conn, row.id, "skipped", moment, error=skipped.detail[:500])
                results.append(skipped)
                continue
            assert claimed is not None
            assert claimed.reply is not None
            reply = claimed.reply
            outgoing = Outgoing(
                account_id=cast("int", claimed.account.id),
                account_name=claimed.account.name,
                phone_number_id=claimed.phone_number_id,
                to=claimed.contact,
                body=payloads.envelope(claimed.contact, "text", payloads.text(reply.text)),
                type="text",
                text=reply.text,
            )
            result = ReplyResult(claimed.inbound_wamid, "failed", reply.kind)
            try:
                credentials = context.credentials(claimed.account)
                async with context.graph(credentials, claimed.account.id) as api:
                    sent = await deliver(context.db, api, outgoing, raise_errors=False)
            except Exception as exc:  # noqa: BLE001 - in doubt: recorded, never sent again automatically
                result.detail = f"{type(exc).__name__}: {exc}"[:500]
                _finish(conn, row.id, "failed", moment, kind=reply.kind, text=reply.text, error=result.detail)
            else:
                if sent.status == "accepted":
                    result.status, result.detail = "sent", f"{reply.kind}: {sent.wamid}"
                    _finish(conn, row.id, "sent", moment, kind=reply.kind, text=reply.text, reply_wamid=sent.wamid)
                else:
                    result.detail = f"{sent.error_code} {sent.error_title or ''}".strip()
                    _finish(conn, row.id, "failed", moment, kind=reply.kind, text=reply.text, error=result.detail)
            results.append(result)
    return results
