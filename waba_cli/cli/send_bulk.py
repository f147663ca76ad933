"""`waba send bulk`: a campaign from a CSV file (registered on the `send` group by cli/send.py)."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from waba_cli.cli.common import STATE, command, command_context, out

if TYPE_CHECKING:
    from waba_cli.services.campaigns.plan import Plan, Progress, RowProblem, Summary
    from waba_cli.ui.output import Output

PROBLEM_LINES = 20  # invalid and duplicate rows printed for humans; --json lists up to 1,000


def register(app: typer.Typer) -> None:
    command(app, "bulk", shared=("json", "account", "dry_run", "no_input"))(bulk)


def bulk(
    csv_file: Annotated[
        Path | None,
        typer.Option("--csv", metavar="FILE", help="Recipients: a phone column, then a column per template variable."),
    ] = None,
    template: Annotated[
        str | None, typer.Option("--template", metavar="NAME", help="Send this template (synced or submitted).")
    ] = None,
    body: Annotated[
        str | None, typer.Option("--body", metavar="TEXT", help="Send this text (only inside each contact's window).")
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", metavar="L", help="Template language (default: the approved one).")
    ] = None,
    campaign: Annotated[
        str | None,
        typer.Option("--campaign", metavar="NAME", help="Campaign name (default: from the CSV file and template)."),
    ] = None,
    from_number: Annotated[
        str | None,
        typer.Option(
            "--from", metavar="NUM", help="Sending number: phone-number id or E.164 (default: the account's one)."
        ),
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(
            "--rate", metavar="MPS", help="Messages per second; 0 = unpaced (default: the number's throughput)."
        ),
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", metavar="N", help="Requests in flight (default: from the rate).")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue a campaign started before (--campaign NAME is enough).")
    ] = False,
    resend_in_doubt: Annotated[
        bool,
        typer.Option("--resend-in-doubt", help="Send again to recipients whose request was in flight when a run died."),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="With --body: send even to contacts outside the 24-hour window.")
    ] = False,
    rate_card: Annotated[
        Path | None,
        typer.Option(
            "--rate-card",
            metavar="FILE",
            help="With --dry-run: estimate the cost from prices per country and category (CSV or TOML).",
        ),
    ] = None,
) -> None:
    """Send a template (or a text) to every row of a CSV file: paced, concurrent, resumable.

    The CSV has a phone column and one column per template variable: 1, 2, 3 ... in order, or
    the variable's name for named templates. Invalid numbers and duplicates are reported with
    their line numbers and skipped. A spreadsheet's export is read as it comes: a file that is not
    UTF-8 (Excel's Windows-1252) has its encoding detected, and the delimiter (, ; tab or |) is
    the one the first line uses; what was detected is said on stderr. The campaign and each
    recipient's state are stored: after a crash or Ctrl-C the same command sends only to
    recipients never attempted. Requests that were in flight when a run died are "in doubt" and
    are resent only with --resend-in-doubt.

    Pacing: the sending number's throughput (80/s when unknown, 20/s when shared with the
    WhatsApp Business app); --rate 0 sends unpaced. Meta's 130429 halves the pace, which then
    comes back over seconds. Contacts whose last message failed with 131050 or 131026 are listed
    as likely to fail (they are sent to all the same).
    With --dry-run, --rate-card FILE (the one `waba analytics report` reads: country, category,
    price, currency) estimates what the messages to send cost, per country and pricing category:
    the template's category; a text inside the window is service, free.
    A pace chosen by a limit (the number's throughput, the account's per-minute limit) is said
    once, with its reason, before sending starts. Deliveries, reads and failures that come later
    arrive by webhook: `waba campaign show NAME` counts them.
    Exit 0 when the campaign ran to the end, 1 when it stopped early (error 131048, or an error
    about the token or account such as 190: fix it, then run the same command), 2 on invalid input
    (nothing sent).

    \b
    Example:
        waba send bulk --csv customers.csv --template order_update --dry-run
        waba send bulk --csv excel-export.csv --template order_update --dry-run
        waba send bulk --csv customers.csv --template order_update --dry-run --rate-card rates.csv
        waba send bulk --csv customers.csv --template order_update --rate 40 --json
    """
    from waba_cli.errors import EXIT_INTERRUPTED, UsageError
    from waba_cli.services.campaigns import prepare, runner
    from waba_cli.services.campaigns.plan import BulkRequest, plan_json

    ctx = command_context()
    o = out()
    request = BulkRequest(
        csv_path=csv_file,
        template=template,
        language=language,
        body=body,
        campaign=campaign,
        sender=from_number,
        rate=rate,
        concurrency=concurrency,
        resume=resume,
        resend_in_doubt=resend_in_doubt,
        force=force,
        rate_card=rate_card,
    )
    if rate_card is not None and not STATE.dry_run:
        raise UsageError(
            "--rate-card estimates the cost of a planned campaign: add --dry-run",
            "what was sent: waba analytics report --rate-card FILE",
        )
    # the scan's skipped rows are shown as it ends; rows found later (outside the window) at the end
    problems = None if o.json_mode else _NewProblems(o)
    if STATE.dry_run:
        plan = prepare.dry_run(ctx, request, show_problems=problems)
        if plan.csv_read_as:
            o.note(plan.csv_read_as)
        if problems is None:
            o.json(plan_json(plan))
        else:
            problems(plan)
            _show_warnings(o, plan)
            _show_plan(o, plan)
        return
    bar = _Bar(o)

    def start(plan: "Plan") -> None:
        if plan.csv_read_as:
            o.note(plan.csv_read_as)
        if not o.json_mode:
            _show_warnings(o, plan)
            if plan.rate_capped and plan.to_send:
                o.note(f"pacing: {_pace(plan.rate)}: {plan.rate_reason}")
        bar.start(plan)

    try:
        summary = runner.run(ctx, request, show_problems=problems, on_start=start, on_progress=bar.update)
    finally:
        bar.stop()
    if problems is not None:
        problems(summary.plan)
    _show_summary(o, summary)
    if summary.interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)
    if summary.stopped:
        raise typer.Exit(1)


def _show_problems(o: "Output", problems: "list[RowProblem]", not_shown: int, what: str = "skipped") -> None:
    for problem in problems[:PROBLEM_LINES]:
        o.warn(f"line {problem.line}: {problem.phone or '(no number)'}: {problem.reason}")
    from waba_cli.services.campaigns.plan import PROBLEMS_SHOWN

    more = len(problems) - PROBLEM_LINES + not_shown
    if more > 0:
        o.note(f"... and {more} more row(s) {what} (--json lists up to {PROBLEMS_SHOWN:,})")


class _NewProblems:
    """Shows the plan's skipped rows not shown yet: the scan's first, then those found after it."""

    def __init__(self, o: "Output") -> None:
        self.o = o
        self.shown = 0
        self.not_shown = 0

    def __call__(self, plan: "Plan") -> None:
        _show_problems(self.o, plan.problems[self.shown :], plan.problems_not_shown - self.not_shown)
        self.shown, self.not_shown = len(plan.problems), plan.problems_not_shown


def _show_warnings(o: "Output", plan: "Plan") -> None:
    """Rows sent to all the same, whose contact's last failure (131050, 131026) says it will likely fail."""
    if plan.likely_to_fail:
        o.warn(f"{plan.likely_to_fail} recipient(s) will likely not get it: their last message failed")
        _show_problems(o, plan.warnings, plan.warnings_not_shown, "likely to fail")


def _show_plan(o: "Output", plan: "Plan") -> None:
    import json

    o.note("dry run: nothing was sent")
    what = f"template {plan.template} ({plan.language})" if plan.template else "text"
    o.details(
        f"campaign {plan.campaign}" + (" (resumed)" if plan.existing else ""),
        [
            ("sends", f"{what} from {plan.phone_number_id} ({plan.account})"),
            ("rows", plan.total),
            ("valid", plan.valid),
            ("invalid", plan.invalid),
            ("duplicate", plan.duplicate),
            ("already sent", plan.already_sent),
            ("in doubt", plan.in_doubt),
            ("outside the window", plan.outside_window),
            ("to send", plan.to_send),
            ("  likely to fail", plan.likely_to_fail),
            ("pacing", f"{_pace(plan.rate)}, {plan.concurrency} in flight"),
            ("  why", plan.rate_reason),
        ],
    )
    cost = plan.cost()
    if cost is not None:
        o.line(cost_line(cost))
    if plan.example is not None:
        o.line("first request: POST /" + plan.phone_number_id + "/messages")
        o.line(json.dumps(plan.example, indent=2, ensure_ascii=False))


def _pace(rate: float) -> str:
    return "unpaced" if rate <= 0 else f"{rate:.3g} messages/s"


def cost_line(cost: dict[str, Any]) -> str:
    """``estimated cost: 12.34 EUR for 1,000 messages (3 with no price on the card: BR marketing)``."""
    messages = cost["priced"] + cost["unpriced"]
    line = f"estimated cost: {cost['total']:,.2f} {cost['currency']} for {messages:,} message(s)"
    if cost["unpriced"]:
        missing = ", ".join(
            f"{e['country'] or 'unknown country'} {e['category']}" for e in cost["by"] if e["price"] is None
        )
        line += f" ({cost['unpriced']:,} with no price on the card: {missing})"
    return line


def _show_summary(o: "Output", summary: "Summary") -> None:
    if o.json_mode:
        o.json(summary.as_json())
    else:
        plan = summary.plan
        rows: list[tuple[str, Any]] = [
            ("rows", plan.total),
            ("sent", summary.sent),
            ("failed when sent", summary.failed),
            ("skipped", summary.skipped),
            ("  already sent", plan.already_sent),
            ("  duplicate", plan.duplicate),
            ("  invalid", plan.invalid),
            ("  outside the window", summary.outside_window),
            ("in doubt", summary.in_doubt),
        ]
        if summary.reconciled:
            rows.append(("  tied to a wamid", summary.reconciled))
        if summary.pending:
            rows.append(("not sent yet", summary.pending))
        rows.append(("time", f"{summary.elapsed:.1f} s ({summary.rate:.0f} sent/s)"))
        for error, count in sorted(summary.errors.items(), key=lambda kv: -kv[1])[:5]:
            rows.append((f"error {error}", count))
        o.details(f"campaign {plan.campaign}", rows)
    if summary.in_doubt:
        o.warn(
            f"{summary.in_doubt} recipient(s) in doubt: their request was in flight when a run ended; "
            "they are tied to a wamid when a status webhook arrives, or resent with --resend-in-doubt"
        )
    if summary.stopped:
        o.warn(f"campaign stopped: {summary.reason}; run the same command again to resume")
    if summary.sent and not o.json_mode:
        import shlex

        o.note(
            "delivered, read and later failures (such as 131026) arrive by webhook: "
            f"waba campaign show {shlex.quote(summary.plan.campaign)}"
        )


class _Bar:
    """A Rich progress bar on stderr (sent, failed, rate, ETA), only when stderr is a terminal."""

    def __init__(self, o: "Output") -> None:
        self.enabled = o.stderr.isatty()
        self.o = o
        self.progress: Any = None
        self.task: Any = None

    def start(self, plan: "Plan") -> None:
        if not self.enabled or plan.to_send == 0:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("sent {task.fields[sent]} · failed {task.fields[failed]} · {task.fields[rate]}/s"),
            TimeRemainingColumn(),
            console=Console(file=self.o.stderr),
            transient=True,
        )
        self.task = self.progress.add_task(plan.campaign, total=plan.to_send, sent=0, failed=0, rate=0)
        self.progress.start()

    def update(self, progress: "Progress") -> None:
        if self.progress is None:
            return
        self.progress.update(
            self.task,
            completed=progress.done,
            sent=progress.sent,
            failed=progress.failed,
            rate=f"{progress.rate:.0f}",
        )

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
