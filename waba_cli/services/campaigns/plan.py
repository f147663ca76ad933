"""What a campaign run is asked, plans and ends with: the request, the plan, progress and the summary.

``--dry-run`` shows the plan and every run starts from it; the summary is the run's last word
(``--json`` keys included). With them, the pure rules that name a campaign and size its pace and
concurrency. Nothing here reads or writes anything.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from waba_cli.domain.analytics import RateCard, cost_estimate

PROBLEMS_SHOWN = 1000  # invalid / duplicate / outside-window rows listed one by one; beyond that only counted
OUTSIDE_WINDOW = "outside the 24-hour customer-service window; send an approved template instead, or --force"


@dataclass(frozen=True)
class BulkRequest:
    """What the operator asked for (``waba send bulk`` flags)."""

    csv_path: Path | None
    template: str | None = None
    language: str | None = None
    body: str | None = None
    campaign: str | None = None
    sender: str | None = None  # --from: phone-number id or E.164
    rate: float | None = None  # None: the number's throughput; 0: unpaced
    concurrency: int | None = None
    resume: bool = False
    resend_in_doubt: bool = False
    force: bool = False  # --body to contacts outside the 24-hour window
    rate_card: Path | None = None  # with --dry-run: estimate what the messages to send cost


@dataclass(frozen=True)
class RowProblem:
    """An invalid or duplicate row of the CSV."""

    line: int
    phone: str
    reason: str
    first_line: int | None = None  # duplicates: where the number first appeared


@dataclass
class Plan:
    """What a run will do (all of ``--dry-run``'s output; the start of every run)."""

    campaign: str
    account: str
    phone_number_id: str
    kind: str
    template: str | None
    language: str | None
    rate: float
    concurrency: int
    rate_reason: str | None = None  # where the pace comes from (--rate, the number, the account's limit)
    rate_capped: bool = False  # a limit chose the pace rather than --rate: the run says so as it starts
    total: int = 0  # data rows in the CSV
    valid: int = 0
    invalid: int = 0
    duplicate: int = 0
    already_sent: int = 0  # accepted or failed in an earlier run
    in_doubt: int = 0
    outside_window: int = 0
    to_send: int = 0
    # to send, though their last failure was 131050 or 131026 (as `waba send` warns): likely to fail
    likely_to_fail: int = 0
    problems: list[RowProblem] = field(default_factory=list)  # rows skipped
    problems_not_shown: int = 0
    warnings: list[RowProblem] = field(default_factory=list)  # rows sent to all the same (likely_to_fail)
    warnings_not_shown: int = 0
    example: dict[str, Any] | None = None  # the first request body it would send
    existing: bool = False  # the campaign was started before
    csv_read_as: str | None = None  # the CSV's encoding or delimiter, when detected (not UTF-8 with commas)
    rate_card: RateCard | None = None  # prices the messages to send (``cost``)
    # with a rate card: messages to send per "country|pricing category" (a few hundred keys at most)
    priced_slots: dict[str, int] = field(default_factory=dict)

    def problem(self, item: RowProblem) -> None:
        if len(self.problems) < PROBLEMS_SHOWN:
            self.problems.append(item)
        else:
            self.problems_not_shown += 1

    def warn(self, item: RowProblem) -> None:
        self.likely_to_fail += 1
        if len(self.warnings) < PROBLEMS_SHOWN:
            self.warnings.append(item)
        else:
            self.warnings_not_shown += 1

    def count_cost(self, country: str, category: str, messages: int = 1) -> None:
        """``messages`` to send to ``country`` in pricing ``category`` (only kept with a rate card)."""
        if self.rate_card is not None:
            slot = f"{country}|{category}"
            self.priced_slots[slot] = self.priced_slots.get(slot, 0) + messages

    def cost(self) -> dict[str, Any] | None:
        """The estimated cost of the messages to send (``domain.analytics.cost_estimate``); None without a card."""
        return None if self.rate_card is None else cost_estimate(self.priced_slots, self.rate_card)


@dataclass
class Progress:
    """Counts while sending, for a progress bar."""

    to_send: int
    sent: int = 0
    failed: int = 0
    skipped: int = 0  # outside the window, found while sending
    in_doubt: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.skipped + self.in_doubt

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.sent / elapsed if elapsed > 0 else 0.0


@dataclass
class Summary:
    """The end of a run; ``as_json`` has the spec's keys first."""

    plan: Plan
    sent: int = 0
    failed: int = 0
    in_doubt: int = 0
    reconciled: int = 0
    pending: int = 0  # not attempted: the campaign stopped early
    outside_window: int = 0
    stopped: bool = False
    reason: str | None = None
    elapsed: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)  # "code title" -> count
    interrupted: bool = False  # Ctrl-C: stopped, and the command exits 130

    @property
    def skipped(self) -> int:
        p = self.plan
        return p.already_sent + p.duplicate + p.invalid + self.outside_window

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed if self.elapsed > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        p = self.plan
        return {
            "campaign": p.campaign,
            "total": p.total,
            "sent": self.sent,
            "failed": self.failed,
            "skipped": self.skipped,
            "in_doubt": self.in_doubt,
            "stopped": self.stopped,
            "reason": self.reason,
            "pending": self.pending,
            "reconciled": self.reconciled,
            "already_sent": p.already_sent,
            "duplicate": p.duplicate,
            "invalid": p.invalid,
            "outside_window": self.outside_window,
            "account": p.account,
            "phone_number_id": p.phone_number_id,
            "template": p.template,
            "rate_limit": p.rate,
            "rate_reason": p.rate_reason,
            "concurrency": p.concurrency,
            "elapsed_seconds": round(self.elapsed, 3),
            "messages_per_second": round(self.rate, 1),
            "errors": self.errors,
            "problems": [_problem_json(x) for x in p.problems],
            "problems_not_shown": p.problems_not_shown,
            "likely_to_fail": p.likely_to_fail,
            "warnings": [_problem_json(x) for x in p.warnings],
            "warnings_not_shown": p.warnings_not_shown,
        }


def plan_json(plan: Plan) -> dict[str, Any]:
    """``--dry-run --json``: the plan, with the summary keys as they would start."""
    return {
        "campaign": plan.campaign,
        "dry_run": True,
        "total": plan.total,
        "sent": 0,
        "failed": 0,
        "skipped": plan.invalid + plan.duplicate + plan.already_sent + plan.outside_window,
        "in_doubt": plan.in_doubt,
        "valid": plan.valid,
        "invalid": plan.invalid,
        "duplicate": plan.duplicate,
        "already_sent": plan.already_sent,
        "outside_window": plan.outside_window,
        "to_send": plan.to_send,
        "account": plan.account,
        "phone_number_id": plan.phone_number_id,
        "template": plan.template,
        "language": plan.language,
        "rate_limit": plan.rate,
        "rate_reason": plan.rate_reason,
        "concurrency": plan.concurrency,
        "example_request": plan.example,
        "problems": [_problem_json(x) for x in plan.problems],
        "problems_not_shown": plan.problems_not_shown,
        "likely_to_fail": plan.likely_to_fail,
        "warnings": [_problem_json(x) for x in plan.warnings],
        "warnings_not_shown": plan.warnings_not_shown,
        "cost": plan.cost(),
    }


def _problem_json(item: RowProblem) -> dict[str, Any]:
    data: dict[str, Any] = {"line": item.line, "phone": item.phone, "reason": item.reason}
    if item.first_line is not None:
        data["first_line"] = item.first_line
    return data


def campaign_name(csv_path: Path, template: str | None, body: str | None) -> str:
    """The name of a campaign started without ``--campaign``: the same command gets the same name."""
    if template:
        return f"{csv_path.stem}-{template}"[:255]
    digest = hashlib.sha256((body or "").encode()).hexdigest()[:8]
    return f"{csv_path.stem}-text-{digest}"[:255]


def default_concurrency(rate: float) -> int:
    """Requests in flight: half a second's worth at the rate (16-512), so that round trips of up to
    half a second never hold the pace back; 128 unpaced (what keeps the sandbox's loopback busy
    while answers wait up to ``runner.WRITE_INTERVAL`` to be recorded)."""
    if rate <= 0:
        return 128
    return max(16, min(512, math.ceil(rate / 2)))


def pacing_burst(rate: float) -> int:
    """Sends the bucket may save up: 50 ms worth, so a short stall (a slow write, a busy CPU) is made
    up for instead of lowering the average rate."""
    return max(1, round(rate / 20))
