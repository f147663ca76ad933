"""`waba analytics ...`: delivery, engagement and cost reports from the local store, with charts."""

from pathlib import Path
from typing import Annotated

import typer

from waba_cli.cli.common import command, command_context, group, out

app = group("analytics", "Delivery, engagement and cost reports from the local store, with charts.")

_GROUPINGS = "day, week, template, number, campaign, country, category"


@command(app, "report", shared=("json", "account"))
def report(
    all_accounts: Annotated[bool, typer.Option("--all", help="Every account (default: the current one).")] = False,
    since: Annotated[
        str, typer.Option("--since", metavar="AGE|DATE", help="Start: 30d, 12h, 2w or a date (whole local days).")
    ] = "30d",
    until: Annotated[
        str | None, typer.Option("--until", metavar="AGE|DATE", help="End (default: now), its whole day included.")
    ] = None,
    by: Annotated[str, typer.Option("--by", metavar="GROUP", help=f"Rows per {_GROUPINGS}.")] = "day",
    csv_file: Annotated[
        Path | None, typer.Option("--csv", metavar="FILE", help="Also write the rows to FILE as CSV (mode 0600).")
    ] = None,
    rate_card: Annotated[
        Path | None,
        typer.Option("--rate-card", metavar="FILE", help="Prices per country and category (CSV or TOML): cost."),
    ] = None,
) -> None:
    """Report sent, delivered, read and failed messages, replies, response times and cost.

    Counted from the local database: outbound messages the API accepted, at the furthest status
    they reached (a late or out-of-order status changes the day the message was sent), inbound
    messages, replies and button clicks on sent messages, first-response times to customers,
    billable and free messages per pricing category (from the pricing on Meta's statuses), and
    their cost on a rate card. Days are whole days in the account's business_timezone.
    delivery_rate = delivered / sent, read_rate = read / delivered.

    \b
    Examples:
        waba analytics report --since 7d
        waba analytics report --all --since 90d --by template --json
        waba analytics report --by country --rate-card rates.csv --csv report.csv
    """
    from waba_cli.services.analytics.report import ReportRequest, analytics_report
    from waba_cli.ui import analytics as render

    request = ReportRequest(all_accounts=all_accounts, since=since, until=until, by=by, rate_card=rate_card)
    found = analytics_report(command_context(), request)
    document = found.as_dict()
    if csv_file is not None:
        render.write_csv(csv_file, document)
    o = out()
    if o.json_mode:
        o.json(document)
        return
    render.show_report(o, found, document)
    if csv_file is not None:
        o.note(f"wrote {len(document['rows'])} row(s) to {csv_file}")
