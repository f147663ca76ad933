"""`waba campaign ...`: what each campaign (`waba send bulk`) became, from the stored statuses."""

import shlex
from typing import TYPE_CHECKING, Annotated, Any

import typer

from waba_cli.cli.common import command, command_context, group, out

if TYPE_CHECKING:
    from waba_cli.services.campaigns.report import CampaignReport

WIDE_SENDS = 20  # characters left for what a campaign sends, else `campaign list` leaves out STARTED

app = group(
    "campaign",
    "What campaigns became: sent, delivered, read, failed by code, in doubt.",
    examples=("waba campaign list", "waba campaign show customers-order_update --json"),
)


@command(app, "list", shared=("json", "account", "no_input"))
def list_(
    limit: Annotated[int | None, typer.Option("--limit", "-n", metavar="N", help="At most N campaigns (20).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every campaign.")] = False,
) -> None:
    """List campaigns, newest first, with what their messages became.

    Sent counts what Meta accepted; delivered, read and failures that came later arrive by
    webhook (`waba serve-webhook`) and are counted as they are stored. With --account, only that
    account's campaigns.

    \b
    Example:
        waba campaign list
        waba campaign list --all --json
    """
    from waba_cli.errors import UsageError
    from waba_cli.services.campaigns.report import DEFAULT_LIMIT, list_campaigns

    if all_ and limit is not None:
        raise UsageError("give --limit N or --all, not both")
    found = list_campaigns(command_context(), None if all_ else (limit or DEFAULT_LIMIT))
    o = out()
    if o.json_mode:
        o.json([c.as_json() for c in found.campaigns])
        return
    if not found.campaigns:
        o.note("no campaigns yet: start one with `waba send bulk --csv FILE --template NAME`")
        return
    columns = ["NAME", "STATUS", "TOTAL", "SENT", "DELIVERED", "READ", "FAILED", "IN DOUBT", "PENDING"]
    rows = [
        [
            c.name,
            c.status,
            *(
                str(n)
                for n in (
                    c.counts.total,
                    c.counts.sent,
                    c.counts.delivered,
                    c.counts.read,
                    c.counts.failed,
                    c.counts.in_doubt,
                    c.counts.pending,
                )
            ),
            c.started_at.strftime("%Y-%m-%d %H:%M"),
        ]
        for c in found.campaigns
    ]
    sends = [_sends(c) for c in found.campaigns]
    if not o.is_tty:
        o.table([*columns, "STARTED", "SENDS"], [[*row, s] for row, s in zip(rows, sends, strict=True)])
    else:
        from waba_cli.ui.lines import fixed_width, print_lines

        if o.console.width - fixed_width([*columns, "STARTED"], rows) >= WIDE_SENDS:
            columns.append("STARTED")
        else:  # the start only when the terminal leaves room for what the campaign sends
            rows = [row[:-1] for row in rows]
        print_lines(
            o.console,
            [*columns, "SENDS"],
            [[*row, s] for row, s in zip(rows, sends, strict=True)],
            status_column="STATUS",
            color=o.color,
        )
    if len(found.campaigns) < found.total:
        o.note(f"{len(found.campaigns)} of {found.total} shown (--limit N / --all)")


@command(app, "show", shared=("json", "no_input"))
def show(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The campaign's name (see `campaign list`).")],
) -> None:
    """Show what a campaign became: sent, delivered, read, failed by error code, in doubt, pending.

    Counted from each recipient's state and the furthest status Meta reported for its message,
    so failures that arrive by webhook after the run (131026, 131049 ...) are here, with Meta's
    title for each code. Also the pace the last run used and why (--rate, the number's
    throughput, the account's per-minute limit), and when it started and finished.

    \b
    Example:
        waba campaign show customers-order_update
        waba campaign show customers-order_update --json
    """
    from waba_cli.services.campaigns.report import show_campaign

    report = show_campaign(command_context(), name)
    o = out()
    if o.json_mode:
        o.json(report.as_json())
        return
    _show(report)


def _sends(c: "CampaignReport") -> str:
    from waba_cli.domain.text import printable

    if c.template:
        return printable(f"template {c.template}" + (f" ({c.language})" if c.language else ""))
    return f"text: {printable(c.body or '')}"


def _show(c: "CampaignReport") -> None:
    from waba_cli.domain.text import printable

    o = out()
    n = c.counts
    pace = None if c.rate is None else ("unpaced" if c.rate <= 0 else f"{c.rate:.3g} messages/s")
    rows: list[tuple[str, Any]] = [
        ("status", c.status + (f" ({printable(c.stop_reason)})" if c.stop_reason else "")),
        ("account", f"{c.account}, number {c.phone_number_id}"),
        ("sends", _sends(c)),
        ("recipients", n.total),
        ("sent", n.sent),
        ("  no status yet", n.no_status_yet),
        ("  delivered", n.delivered),
        ("  read", n.read),
        ("failed", n.failed),
        ("  later, by webhook", n.failed_later),
        ("in doubt", n.in_doubt),
    ]
    if n.sending:
        rows.append(("sending now", n.sending))
    rows += [
        ("not sent yet", n.pending),
        ("skipped (outside the window)", n.skipped),
        ("pacing", pace and f"{pace}: {printable(c.rate_reason or '')}".rstrip(": ")),
        ("started", c.started_at),
        ("finished", c.finished_at),
    ]
    o.details(f"campaign {printable(c.name)}", [(label, value) for label, value in rows if value is not None])
    if n.failed_by_code:
        o.table(
            ["CODE", "TITLE", "FAILED", "WHEN SENT", "LATER"],
            [
                [f.code if f.code is not None else "-", printable(f.title or ""), f.count, f.when_sent, f.later]
                for f in n.failed_by_code
            ],
            title="failed by error code",
        )
    if n.sent and n.no_status_yet == n.sent:
        o.note(
            "no status webhook has arrived for this campaign yet: deliveries, reads and later failures "
            "are stored by `waba serve-webhook` (see `waba events list`)"
        )
    if n.in_doubt:
        o.note(
            f"{n.in_doubt} in doubt: tied to their wamid when a status webhook arrives, or resent with "
            f"`waba send bulk --resume --campaign {shlex.quote(c.name)} --resend-in-doubt`"
        )
    if n.pending and c.status != "running":
        o.note(f"to send the rest: waba send bulk --resume --campaign {shlex.quote(c.name)}")
