"""`waba analytics ...`: delivery, engagement and cost reports from the local store, with charts."""

from pathlib import Path
from typing import Annotated

import typer

from waba_cli.cli.common import command, command_context, group, out

app = group(
    "analytics",
    "Delivery, engagement and cost reports from the local store, with charts.",
    examples=(
        "waba analytics report --since 7d --by day",
        "waba analytics dashboard",
    ),
)

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
    html_file: Annotated[
        Path | None,
        typer.Option("--html", metavar="FILE", help="Also write a self-contained HTML report with charts (0600)."),
    ] = None,
    source: Annotated[
        str,
        typer.Option("--source", metavar="local|meta", help="meta: Meta's synced figures beside the local ones."),
    ] = "local",
) -> None:
    """Report sent, delivered, read and failed messages, replies, response times and cost.

    Counted from the local database: outbound messages the API accepted, at the furthest status
    they reached (a late or out-of-order status changes the day the message was sent), inbound
    messages, replies and button clicks on sent messages, first-response times to customers,
    billable and free messages per pricing category (from the pricing on Meta's statuses), and
    their cost on a rate card. Days are whole days in the account's business_timezone.
    delivery_rate = delivered / sent, read_rate = read / delivered. --source meta adds Meta's
    figures stored by `waba analytics sync` and where they differ from waba's.

    \b
    Examples:
        waba analytics report --since 7d
        waba analytics report --all --since 90d --by template --json
        waba analytics report --by country --rate-card rates.csv --csv report.csv
        waba analytics report --since 30d --source meta
        waba analytics report --all --since 30d --html report.html
    """
    from waba_cli.errors import ValidationError
    from waba_cli.services.analytics.report import ReportRequest, analytics_report
    from waba_cli.ui import analytics as render

    for option, target in (("--csv", csv_file), ("--html", html_file)):
        if target is not None and not target.expanduser().parent.is_dir():
            raise ValidationError(option, f"the folder of {target} does not exist")
    request = ReportRequest(
        all_accounts=all_accounts, since=since, until=until, by=by, rate_card=rate_card, source=source
    )
    found = analytics_report(command_context(), request)
    document = found.as_dict()
    if csv_file is not None:
        render.write_csv(csv_file, document)
    if html_file is not None:
        from waba_cli.ui.analytics_html import report_html
        from waba_cli.ui.tables import write_private

        daily = [
            (day.isoformat(), {"sent": f.sent, "delivered": f.delivered, "read": f.read}) for day, f in found.daily
        ]
        write_private(html_file, report_html(document, daily))
    o = out()
    if o.json_mode:
        o.json(document)
        return
    render.show_report(o, found, document)
    if csv_file is not None:
        o.note(f"wrote {len(document['rows'])} row(s) to {csv_file}")
    if html_file is not None:
        o.note(f"wrote the HTML report to {html_file}")


@command(app, "dashboard", shared=("json", "account"))
def dashboard(
    all_accounts: Annotated[bool, typer.Option("--all", help="Every account (default: the current one).")] = False,
    watch: Annotated[bool, typer.Option("--watch", help="Refresh in place until Ctrl-C.")] = False,
    interval: Annotated[
        float, typer.Option("--interval", metavar="SECONDS", min=1.0, help="--watch: seconds between refreshes.")
    ] = 5.0,
) -> None:
    """Show one screen for the accounts: health, today against the limit, rates and their trend.

    Per account: the last `waba health check` status, today's accepted messages against the daily
    limit (as `waba usage` counts them), delivery and read rates of the last 7 and 30 days with the
    change from the 7 and 30 days before (in points), the templates that failed most in the last
    7 days, campaigns running or with recipients in doubt, and a sparkline of 30 days' volume;
    below, how long ago the last webhook delivery came.

    \b
    Examples:
        waba analytics dashboard --all
        waba analytics dashboard --all --watch --interval 10
    """
    from waba_cli.services.analytics.dashboard import analytics_dashboard
    from waba_cli.ui import analytics as render

    ctx = command_context()
    o = out()
    if watch and not o.json_mode:
        import time

        from rich.live import Live

        with Live(console=o.console, auto_refresh=False, screen=False) as live:
            while True:
                live.update(
                    render.dashboard_view(analytics_dashboard(ctx, all_accounts=all_accounts).as_dict()), refresh=True
                )
                time.sleep(interval)
    document = analytics_dashboard(ctx, all_accounts=all_accounts).as_dict()
    if o.json_mode:
        o.json(document)
    elif o.is_tty:
        o.render(render.dashboard_view(document))
    else:
        o.table(render.DASHBOARD_COLUMNS, render.dashboard_rows(document))
        o.line(render.webhook_line(document))


@command(app, "sync", shared=("json", "account"))
def sync(
    all_accounts: Annotated[bool, typer.Option("--all", help="Every account (default: the current one).")] = False,
    since: Annotated[
        str, typer.Option("--since", metavar="AGE|DATE", help="From this UTC day: 30d, 2w, a date.")
    ] = "30d",
) -> None:
    """Fetch Meta's own figures: messages sent and delivered, volume and cost, template metrics.

    Reads the WABA's analytics (sent, delivered per day), pricing_analytics (volume and cost per
    day, country, pricing category, type and tier) and template_analytics (sent, delivered, read,
    clicked, cost per template and day; the last 90 days, 10 templates per call, every page) into
    the local database, replacing what an earlier sync stored for those days. Costs are in the
    WABA's currency. `waba analytics report --source meta` then compares them with waba's own.

    \b
    Examples:
        waba analytics sync --since 30d
        waba analytics sync --all --since 90d --json
    """
    from waba_cli.services.analytics.sync import analytics_sync

    found = analytics_sync(command_context(), since, all_accounts=all_accounts)
    o = out()
    if o.json_mode:
        o.json(
            [
                {
                    "account": s.account,
                    "currency": s.currency,
                    "days": s.days,
                    "messages": s.messages,
                    "pricing": s.pricing,
                    "templates": s.templates,
                }
                for s in found
            ]
        )
        return
    o.table(
        ["ACCOUNT", "CURRENCY", "DAYS", "MESSAGE POINTS", "PRICING POINTS", "TEMPLATE POINTS"],
        [[s.account, s.currency or "-", s.days, s.messages, s.pricing, s.templates] for s in found],
    )
