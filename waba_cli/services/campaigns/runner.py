"""Running a campaign: the campaign claimed, its recipients imported and reconciled, then the send loop.

A loop keeps ``concurrency`` requests in flight, each paced by the number's token bucket. Every
database write is batched: one transaction records the answers that came in (recipient
``accepted``/``failed``/``in_doubt``, its attempt's ``message`` row moved forward) and claims
exactly as many recipients as slots were freed: ``sending``, with a ``queued`` message row as
``messaging.send.deliver`` writes one, keyed by the attempt's callback data, before their requests
start. So at any committed moment at most ``concurrency`` recipients are ``sending``: a crash
leaves at most that many in doubt, and every other recipient is either untouched or recorded with
its outcome. A text's recipients outside the 24-hour window are skipped as they are claimed
(``outside_window``) and reported by CSV line like invalid rows.

Graph errors, per reference §1.6-§1.7: 130429 makes the bucket slow down (AIMD: halved at most
once a second, regained over seconds, see ``ratelimit.Pacer``) and retries the same recipient;
131056 hands the recipient back with a 4^X s backoff (others go on); 131048, and errors about the
token, the account, the sending number or the template rather than the recipient (190, 10,
200-299, 368, 131031, 133010, 132015 ...), stop the campaign (exit 1) with the recipients not yet
sent left pending for the next run; other retryable errors are retried with backoff. A request that
never wholly left this machine (no connection, broken while being written) is retried, and stops
the campaign if the network stays down; one that may have reached Meta without an answer is
``in_doubt``. Anything else is ``failed`` with Meta's code and title.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from waba_cli.db.timestamps import aware
from waba_cli.errors import OperationError, ValidationError
from waba_cli.services.campaigns import store
from waba_cli.services.campaigns.plan import (
    OUTSIDE_WINDOW,
    BulkRequest,
    Plan,
    Progress,
    RowProblem,
    Summary,
    pacing_burst,
)
from waba_cli.services.campaigns.prepare import Prepared, check_account_limits, prepared_run
from waba_cli.services.ratelimit import Pacer

if TYPE_CHECKING:
    from waba_cli.graph.api import GraphAPI
    from waba_cli.graph.client import CallRecord
    from waba_cli.graph.errors import GraphError
    from waba_cli.services.context import CommandContext


# s between batched writes while sending: ~50 transactions a second; at 10 ms each transaction's
# own cost (heartbeat, commit) was a tenth of an unpaced run's CPU
WRITE_INTERVAL = 0.02
MAX_ATTEMPTS = 6  # for retryable answers and requests that never left, per recipient and run
# 130429s of one recipient in a run: they say the number is sent to too fast, not that the recipient
# is a problem; while the rate settles after a cut a recipient may meet several
MAX_THROTTLED = 30
PAIR_BACKOFF_MAX = 4**4  # s: the 131056 backoff 1, 4, 16, 64, 256 s, then the recipient fails
THROTTLE_CODE = 130429
# 100 with subcode 33: the phone number id does not exist or the token may not use it (every send fails)
INVALID_PARAMETER_CODE = 100
UNKNOWN_OBJECT_SUBCODE = 33
PAIR_RATE_CODE = 131056
SPAM_CODE = 131048
# codes about the sending number or template as a whole rather than one recipient: every other
# recipient would fail the same way (reference §1.6), so the campaign stops with them still pending
NUMBER_OR_TEMPLATE_CODES = frozenset({33, 132001, 132015, 132016})

# seconds; tests make them small
RETRY_DELAY = 1.0  # first backoff for retryable answers: 1, 2, 4 ... s (capped at 60)
PAIR_BACKOFF_UNIT = 1.0  # 131056: 4^X units for the X-th time in a row
# what a run paces sends, schedules backoffs and waits by (tests put in a fake clock)
clock: Callable[[], float] = time.monotonic
sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

# an attempt claimed but never sent (Ctrl-C, or the campaign stopped while it waited for its slot)
_UNSENT = store.Failure(
    None, "not sent", "the run stopped before this request went out; the recipient is pending again"
)


@dataclass
class _Item:
    """A recipient in this run."""

    id: int
    line: int  # in the CSV
    phone: str
    params: list[str]
    attempts: int  # attempts recorded so far, this claim included once claimed
    pair_failures: int = 0
    body: dict[str, Any] | None = None
    status_mark: int = 0  # the highest message_status id when it was claimed
    in_request: bool = False  # a request is out: if the run ends now, the recipient is in doubt


@dataclass
class _Outcome:
    item: _Item
    kind: str  # accepted | failed | later | stop | doubt | unsent (the run stopped before it went out)
    wamid: str | None = None
    error: Exception | None = None
    delay: float = 0.0


class _Run:
    """The send loop of one campaign run; see the module docstring for the invariant it keeps."""

    def __init__(
        self,
        conn: Connection,
        api: GraphAPI,
        prepared: Prepared,
        campaign_id: int,
        calls: list[CallRecord],
        progress: Progress,
        on_progress: Callable[[Progress], None] | None,
    ) -> None:
        self.conn = conn
        self.api = api
        self.prepared = prepared
        self.campaign_id = campaign_id
        self.calls = calls
        self.progress = progress
        self.on_progress = on_progress
        plan = prepared.plan
        self.pacer = Pacer(plan.rate, burst=pacing_burst(plan.rate), clock=clock, sleep=sleep)
        self.concurrency = plan.concurrency
        self.check_window = prepared.content.kind == "text" and not prepared.request.force
        self.queue: list[_Item] = []
        self.queue_at = 0
        self.last_id = 0
        self.exhausted = False
        self.delayed: list[tuple[float, int, _Item]] = []
        self.inflight: dict[asyncio.Future[_Outcome], _Item] = {}
        self.results: list[_Outcome] = []
        self.wake = asyncio.Event()
        self.stopping = False
        self.crash: BaseException | None = None
        self.reason: str | None = None
        self.errors: dict[str, int] = {}
        self.outside_window = 0
        self.sqlite = conn.dialect.name == "sqlite"
        self.status_mark = 0  # the highest message_status id when the last write began

    # the loop --------------------------------------------------------------------------------
    async def run(self) -> None:
        try:
            await self._loop()
        except asyncio.CancelledError:  # Ctrl-C: let what is in flight come back and record it
            self._stop("interrupted")
            if self.inflight:
                await asyncio.wait(list(self.inflight), timeout=10)
            self._write([])
            raise
        except BaseException:
            # what is still in flight stays `sending`: the next run reports it in doubt
            self.stopping = True
            for task in self.inflight:
                task.cancel()
            with contextlib.suppress(Exception):
                self._write([])
            raise

    async def _loop(self) -> None:
        while True:
            if self.crash is not None:
                raise self.crash
            claims = [] if self.stopping else self._take(self.concurrency - len(self.inflight))
            if claims or self.results:
                for item in self._write(claims):
                    task = asyncio.ensure_future(self._deliver(item))
                    self.inflight[task] = item
                    task.add_done_callback(self._done)
                if self.on_progress is not None:
                    self.on_progress(self.progress)
            if not self.inflight:
                if self.stopping or (self.exhausted and self.queue_at >= len(self.queue) and not self.delayed):
                    return
                if not self._claimable():  # only recipients backing off (131056) are left
                    await sleep(max(0.0, self.delayed[0][0] - clock()))
                continue
            await self.wake.wait()
            self.wake.clear()
            await asyncio.sleep(WRITE_INTERVAL)

    def _done(self, task: asyncio.Future[_Outcome]) -> None:
        item = self.inflight.pop(task, None)
        if task.cancelled():
            # cancelled before it ever ran (a stop right after its claim): nothing went out
            if item is not None and not item.in_request:
                self.results.append(_Outcome(item, "unsent"))
                self.wake.set()
            return
        failure = task.exception()
        if failure is None:
            self.results.append(task.result())
        elif self.crash is None:
            self.crash = failure
        self.wake.set()

    def _claimable(self) -> bool:
        if self.delayed and self.delayed[0][0] <= clock():
            return True
        if self.queue_at < len(self.queue):
            return True
        return not self.exhausted

    def _take(self, free: int) -> list[_Item]:
        taken: list[_Item] = []
        now = clock()
        while len(taken) < free and self.delayed and self.delayed[0][0] <= now:
            taken.append(heapq.heappop(self.delayed)[2])
        while len(taken) < free:
            if self.queue_at >= len(self.queue):
                if self.exhausted:
                    break
                self._fetch()
                continue
            taken.append(self.queue[self.queue_at])
            self.queue_at += 1
        return taken

    def _fetch(self) -> None:
        rows = store.pending_recipients(self.conn, self.campaign_id, self.last_id)
        self.conn.commit()
        self.queue, self.queue_at = [], 0
        if not rows:
            self.exhausted = True
            return
        self.last_id = rows[-1].id
        now, wall = clock(), datetime.now(UTC)
        for row in rows:
            item = _Item(row.id, row.line, row.phone, list(row.params or []), row.attempts)
            if row.not_before is not None and aware(row.not_before) > wall:
                wait = (aware(row.not_before) - wall).total_seconds()
                heapq.heappush(self.delayed, (now + wait, item.id, item))
            else:
                self.queue.append(item)

    # one recipient -----------------------------------------------------------------------------
    def _stop(self, reason: str) -> None:
        """Send nothing more: senders not in a request give their recipient back (``unsent``) now."""
        if not self.stopping:
            self.stopping, self.reason = True, reason
        current = asyncio.current_task()
        for task, item in list(self.inflight.items()):
            if not item.in_request and task is not current:
                task.cancel()

    async def _deliver(self, item: _Item) -> _Outcome:
        try:
            return await self._attempts(item)
        except asyncio.CancelledError:
            if item.in_request:
                raise  # the request may have reached Meta: it stays `sending`, in doubt for the next run
            return _Outcome(item, "unsent")  # waiting for its slot or a retry: nothing went out

    async def _attempts(self, item: _Item) -> _Outcome:
        from waba_cli.graph.errors import GraphError, GraphNetworkError

        assert item.body is not None
        attempt = throttled = 0
        while True:
            if self.stopping:
                return _Outcome(item, "unsent")
            await self.pacer.acquire()
            if self.stopping:
                return _Outcome(item, "unsent")
            item.in_request = True  # left True if this is cancelled mid-request
            try:
                answer = await self.api.send_message(self.prepared.plan.phone_number_id, item.body, retry=False)
            except (GraphError, GraphNetworkError) as exc:
                item.in_request = False
                # 130429 is about the number's pace, not this recipient: counted apart, more allowed
                throttle = getattr(exc, "code", None) == THROTTLE_CODE
                outcome = self._after_error(item, exc, throttled if throttle else attempt)
                if outcome is not None:
                    return outcome
                if throttle:
                    throttled += 1
                    if self.pacer.rate > 0:
                        continue  # the slowed bucket is the wait
                else:
                    attempt += 1
                await sleep(min(60.0, RETRY_DELAY * 2 ** ((throttled if throttle else attempt) - 1)))
                continue
            item.in_request = False
            self.pacer.recover()
            messages = answer.get("messages") or [{}]
            wamid = messages[0].get("id") if isinstance(messages[0], dict) else None
            if not wamid:
                return _Outcome(item, "doubt", error=OperationError("Meta answered without a wamid"))
            return _Outcome(item, "accepted", wamid=str(wamid))

    def _after_error(self, item: _Item, exc: Exception, attempt: int) -> _Outcome | None:  # noqa: PLR0911 - per outcome
        """What a failed attempt comes to; None: try again. ``attempt``: earlier failures of this kind."""
        from waba_cli.graph.errors import GraphError, GraphNetworkError

        if isinstance(exc, GraphNetworkError):  # no answer from Meta
            if exc.request_sent:  # Meta may have sent the message: never sent again automatically
                return _Outcome(item, "doubt", error=exc)
            # it never (wholly) left: retried, and if the network stays down the campaign stops with
            # the recipient pending
            return None if attempt < MAX_ATTEMPTS else self._stopping_outcome(item, exc)
        assert isinstance(exc, GraphError)
        if exc.code == THROTTLE_CODE:
            self.pacer.slow_down()
            # still throttled after so many tries: the number's pace, not this recipient. Paced, the
            # slowed bucket is the wait (many short tries); unpaced, each try waits 1, 2, 4 ... s
            limit = MAX_THROTTLED if self.pacer.rate > 0 else MAX_ATTEMPTS
            return None if attempt < limit else self._stopping_outcome(item, exc)
        if exc.code == PAIR_RATE_CODE:
            item.pair_failures += 1
            delay = PAIR_BACKOFF_UNIT * 4 ** (item.pair_failures - 1)
            if delay > PAIR_BACKOFF_MAX * PAIR_BACKOFF_UNIT:
                return _Outcome(item, "failed", error=exc)
            return _Outcome(item, "later", error=exc, delay=delay)
        if exc.retryable and attempt < MAX_ATTEMPTS:
            return None
        # a retryable error that outlasted every retry (maintenance, an outage, the app's or the
        # account's rate limits) is not about this recipient: it would fail every one that follows
        if exc.retryable or exc.code == SPAM_CODE or _stops_campaign(exc):
            return self._stopping_outcome(item, exc)
        return _Outcome(item, "failed", error=exc)

    def _stopping_outcome(self, item: _Item, exc: Exception) -> _Outcome:
        """An error that concerns the whole campaign: stop at once (queued senders send nothing more)."""
        self._stop(str(exc))
        return _Outcome(item, "stop", error=exc)

    # the one write per loop -------------------------------------------------------------------
    def _write(self, claims: list[_Item]) -> list[_Item]:
        """Record what came back and claim ``claims`` in one transaction; returns the claims to send."""
        now = datetime.now(UTC)
        results, self.results = self.results, []
        calls, self.calls[:] = list(self.calls), []
        with self.conn.begin():
            # a write first: SQLite takes its write lock now (a deferred transaction that read first
            # could not upgrade if a webhook committed meanwhile), and the reads below see every
            # status committed before it (the watermark of store.catch_up)
            store.heartbeat(self.conn, self.campaign_id, now)
            if self.sqlite:
                self.status_mark = store.status_watermark(self.conn)
            if results:
                self._record(results, now)
            if self.stopping:
                claims = []
            if claims:
                claims = self._claim(claims, now)
            if calls:
                store.record_calls(self.conn, self.prepared.account, calls)
        return claims

    def _claim(self, items: list[_Item], now: datetime) -> list[_Item]:
        """Mark ``items`` ``sending`` (after the window check for texts); their message rows come with the outcome."""
        plan = self.prepared.plan
        if self.check_window:
            inside = store.inside_window(self.conn, plan.phone_number_id, [i.phone for i in items], now)
            outside = [i for i in items if i.phone not in inside]
            if outside:
                store.update_recipients(self.conn, [store.recipient_row(i.id, "outside_window", now) for i in outside])
                for i in outside:
                    plan.problem(RowProblem(i.line, i.phone, OUTSIDE_WINDOW))
                self.outside_window += len(outside)
                self.progress.skipped += len(outside)
                items = [i for i in items if i.phone in inside]
        claimed: list[_Item] = []
        refused: list[dict[str, Any]] = []
        for item in items:
            try:
                callback = store.callback_data(self.campaign_id, item.id, item.attempts + 1)
                item.body = self.prepared.content.request(item.phone, item.params, callback)
            except ValidationError as exc:  # only on the slow path: the scan checked the values already
                failure = store.Failure(None, exc.problem[:255], None)
                refused.append(store.recipient_row(item.id, "failed", now, failure=failure))
                self.progress.failed += 1
                self._count_error(failure)
                continue
            claimed.append(item)
        if refused:
            store.update_recipients(self.conn, refused)
        for item in claimed:
            item.status_mark = self.status_mark
            item.attempts += 1
        if claimed:
            messages = [self._message_row(i, now) for i in claimed]
            prepared = self.prepared
            tokens = (
                [
                    store.flow_token_row(prepared.plan, prepared.account, prepared.content, i.phone, i.body or {}, now)
                    for i in claimed
                ]
                if prepared.content.flow is not None
                else []
            )
            store.claim_recipients(self.conn, messages, [i.id for i in claimed], now, tokens)
        return claimed

    def _message_row(self, item: _Item, now: datetime) -> dict[str, Any]:
        prepared = self.prepared
        assert item.body is not None
        return store.message_row(
            prepared.plan, prepared.account, prepared.content, item.phone, item.params, item.body, now
        )

    def _record(self, results: list[_Outcome], now: datetime) -> None:
        """Each answer: the recipient's new state, and its attempt's message row moved forward."""
        recipients: list[dict[str, Any]] = []
        moves: list[dict[str, Any]] = []
        notes: list[dict[str, Any]] = []
        accepted: list[str] = []
        since = min((o.item.status_mark for o in results), default=0)
        for outcome in results:
            item, error = outcome.item, outcome.error
            failure = _failure_of(error)
            callback = store.callback_data(self.campaign_id, item.id, item.attempts)
            if outcome.kind == "accepted":
                recipients.append(store.recipient_row(item.id, "accepted", now, wamid=outcome.wamid))
                moves.append(store.move(callback, "accepted", now, now, wamid=outcome.wamid))
                accepted.append(str(outcome.wamid))
                self.progress.sent += 1
            elif outcome.kind == "doubt":
                recipients.append(store.recipient_row(item.id, "in_doubt", now, failure=failure))
                notes.append(store.note_row(callback, failure.error_details, now))
                self.progress.in_doubt += 1
                continue
            elif outcome.kind == "unsent":  # the run stopped before its request went out
                recipients.append(store.recipient_row(item.id, "pending", now))
                moves.append(store.move(callback, "failed", now, now, error=_UNSENT))
            else:  # Meta refused this attempt
                moves.append(store.move(callback, "failed", now, now, error=failure))
                recipients.append(self._refused(outcome, failure, now))
        store.record_answers(self.conn, recipients, moves, notes)
        # on SQLite ids follow commit order: no status newer than the claims, none to catch up with
        if accepted and not (self.sqlite and self.status_mark <= since):
            store.catch_up(self.conn, accepted, now)

    def _refused(self, outcome: _Outcome, failure: store.Failure, now: datetime) -> dict[str, Any]:
        """The recipient's row after Meta refused an attempt: failed, or pending again (131056, 131048)."""
        item = outcome.item
        if outcome.kind == "later":  # 131056: this recipient again after its backoff
            heapq.heappush(self.delayed, (clock() + outcome.delay, item.id, item))
            due = now + timedelta(seconds=outcome.delay)
            return store.recipient_row(item.id, "pending", now, failure=failure, not_before=due)
        if outcome.kind == "stop":  # 131048: not sent, left for the next run
            if not self.stopping:
                self.stopping, self.reason = True, str(outcome.error)
            return store.recipient_row(item.id, "pending", now, failure=failure)
        self.progress.failed += 1
        self._count_error(failure)
        return store.recipient_row(item.id, "failed", now, failure=failure)

    def _count_error(self, failure: store.Failure) -> None:
        key = f"{failure.error_code} {failure.error_title or ''}".strip()
        self.errors[key] = self.errors.get(key, 0) + 1


def _stops_campaign(error: GraphError) -> bool:
    """Whether ``error`` concerns the token, the account, the number or the template rather than one
    recipient (190 expired token, 10 and 200-299 permissions, 368 and 131031 account blocked or locked,
    133010 number not registered, 132015 template paused ...): then no other recipient can be sent to."""
    from waba_cli.graph.errors import AccountError, AuthError, PermissionDenied, PhoneNumberError

    return (
        isinstance(error, AuthError | PermissionDenied | AccountError | PhoneNumberError)
        or error.code in NUMBER_OR_TEMPLATE_CODES
        or (error.code == INVALID_PARAMETER_CODE and error.subcode == UNKNOWN_OBJECT_SUBCODE)
    )


def _failure_of(error: Exception | None) -> store.Failure:
    from waba_cli.graph.errors import GraphError, GraphNetworkError

    if isinstance(error, GraphError):
        return store.Failure(error.code, error.graph_message[:255], (error.details or "")[:1000] or None)
    if isinstance(error, GraphNetworkError) and not error.request_sent:
        return store.Failure(None, None, f"not sent: {error}"[:1000])
    if error is not None:
        return store.Failure(None, None, f"in doubt: {error}"[:1000])
    return store.Failure(None, None, None)


# -- a whole run -----------------------------------------------------------------------------------


def run(
    ctx: CommandContext,
    request: BulkRequest,
    *,
    show_problems: Callable[[Plan], None] | None = None,
    on_start: Callable[[Plan], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> Summary:
    """A campaign run, first or resumed: checked and scanned (``prepare.prepared_run``), then ``send``
    in an event loop of its own: uvloop's where installed (less CPU per request)."""
    with prepared_run(ctx, request, show_problems) as prepared:
        coroutine = send(ctx, prepared, on_start=on_start, on_progress=on_progress)
        try:
            import uvloop
        except ImportError:
            return asyncio.run(coroutine)
        return uvloop.run(coroutine)


async def send(
    ctx: CommandContext,
    prepared: Prepared,
    *,
    on_start: Callable[[Plan], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> Summary:
    """Import, reconcile and send; returns the summary (``stopped`` when it ended early)."""
    from sqlmodel import Session as ORMSession

    from waba_cli.graph.api import GraphAPI
    from waba_cli.graph.client import GraphClient
    from waba_cli.graph.transport import AiohttpTransport
    from waba_cli.services.context import CommandContext as CommandContextClass

    plan = prepared.plan
    started = time.monotonic()
    now = datetime.now(UTC)
    credentials = ctx.credentials(prepared.account)
    with ctx.db.engine.connect() as conn:
        with conn.begin():
            store.take_write_lock(conn, plan.campaign)
            campaign_id, took_over = store.claim_campaign(
                conn, plan, prepared.account, prepared.content, prepared.csv_path, now
            )
            if took_over:
                store.mark_in_doubt(conn, campaign_id, now)
            if prepared.scratch is not None:
                store.import_recipients(conn, campaign_id, prepared.scratch, now)
            reconciled = store.reconcile(conn, campaign_id, now)
            if prepared.request.resend_in_doubt:
                store.resend_in_doubt(conn, campaign_id, now)
            counts = store.state_counts(conn, campaign_id)
            with ORMSession(bind=conn) as session:
                check_account_limits(session, prepared.account, counts.get("pending", 0))
        # a read, outside the write transaction above: SQLite's write lock is not held while it scans
        store.warn_likely_failures(conn, plan, prepared.account, campaign_id)
        conn.commit()
        plan.already_sent = counts.get("accepted", 0) + counts.get("failed", 0)
        plan.in_doubt = counts.get("in_doubt", 0)
        plan.to_send = counts.get("pending", 0) + counts.get("outside_window", 0)
        if prepared.scratch is None:
            plan.total = sum(counts.values())
            plan.valid = plan.total
        if on_start is not None:
            on_start(plan)
        progress = Progress(plan.to_send)
        calls: list[CallRecord] = []
        transport = CommandContextClass.transport or AiohttpTransport(max_connections=plan.concurrency)
        client = GraphClient.from_settings(
            ctx.settings, credentials, transport=transport, on_call=calls.append, max_connections=plan.concurrency
        )
        run = _Run(conn, GraphAPI(client), prepared, campaign_id, calls, progress, on_progress)
        # pending rows come back as outside_window or sent; outside_window ones are checked again
        store.recheck_outside_window(conn, campaign_id)
        conn.commit()
        try:
            interrupted = await _until_done(client, run)
        finally:
            _finish(conn, campaign_id, run)
        counts = store.state_counts(conn, campaign_id)
        conn.commit()
    return Summary(
        interrupted=interrupted,
        plan=plan,
        sent=progress.sent,
        failed=progress.failed,
        in_doubt=counts.get("in_doubt", 0),
        reconciled=reconciled,
        pending=counts.get("pending", 0),
        outside_window=run.outside_window,
        stopped=run.stopping,
        reason=run.reason,
        elapsed=time.monotonic() - started,
        errors=run.errors,
    )


async def _until_done(client: Any, run: _Run) -> bool:
    """Run the send loop; True when Ctrl-C ended it (it recorded what came back; exit 130 follows).

    asyncio turns Ctrl-C into one cancellation of this, the top task: taken back here, the run
    still returns its summary (``--json`` gets its document) instead of dying of KeyboardInterrupt.
    """
    try:
        async with client:
            await run.run()
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is None or task.cancelling() != 1:
            raise
        task.uncancel()
        return True
    return False


def _finish(conn: Connection, campaign_id: int, run: _Run) -> None:
    now = datetime.now(UTC)
    if conn.in_transaction():
        conn.rollback()
    with conn.begin():
        store.finish_campaign(conn, campaign_id, stopped=run.stopping, reason=run.reason, now=now)
