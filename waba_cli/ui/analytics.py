"""`waba analytics` for people: the report as a summary, charts and a table; its CSV file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from waba_cli.domain.text import printable
from waba_cli.ui import tables

if TYPE_CHECKING:
    from waba_cli.services.analytics.report import Report
    from waba_cli.ui.output import Output

CSV_COLUMNS = (
    "key",
    "sent",
    "delivered",
    "read",
    "failed",
    "delivery_rate",
    "read_rate",
    "failure_rate",
    "inbound",
    "replied",
    "clicks",
    "contacts",
    "billable",
    "free",
    "cost",
    "response_median_s",
    "response_p90_s",
    "top_error",
)


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def seconds_text(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 120:
        return f"{value:.0f}s"
    if value < 7200:
        return f"{value / 60:.1f}m"
    return f"{value / 3600:.1f}h"


def csv_rows(document: Mapping[str, Any]) -> list[list[Any]]:
    """The report's rows in the order of ``CSV_COLUMNS`` (``ui.tables`` neutralises formulas)."""
    rows: list[list[Any]] = []
    for row in document["rows"]:
        errors = row.get("top_errors") or []
        top = f"{errors[0]['code']} {errors[0]['title'] or ''}".strip() if errors else ""
        values = {**row, "top_error": top}
        rows.append([values.get(column) for column in CSV_COLUMNS])
    return rows


def write_csv(path: Path, document: Mapping[str, Any]) -> None:
    tables.write_csv(path, CSV_COLUMNS, csv_rows(document))


def show_report(o: Output, report: Report, document: Mapping[str, Any]) -> None:
    """The report on a terminal (charts only there) or as tab-separated lines in a pipe."""
    summary = document["summary"]
    where = ", ".join(report.accounts)
    o.details(
        f"analytics of {printable(where)} ({', '.join(report.timezones)})",
        [
            ("days", f"{document['first_day']} to {document['last_day']} (whole days in the account's time zone)"),
            ("sent", summary["sent"]),
            ("delivered", f"{summary['delivered']} ({percent(summary['delivery_rate'])})"),
            ("read", f"{summary['read']} ({percent(summary['read_rate'])} of delivered)"),
            ("failed", f"{summary['failed']} ({percent(summary['failure_rate'])})"),
            ("inbound", summary["inbound"]),
            ("replied / clicks", f"{summary['replied']} / {summary['clicks']}"),
            (
                "first response",
                f"median {seconds_text(summary['response_median_s'])}, p90 {seconds_text(summary['response_p90_s'])}",
            ),
            ("billable / free", f"{summary['billable']} / {summary['free']}"),
            *_cost_lines(summary, document.get("currency")),
        ],
    )
    if o.is_tty and report.daily:
        _charts(o, report)
    columns = ["KEY", "SENT", "DELIVERED", "READ", "FAILED", "DELIV%", "READ%", "INBOUND", "REPLIED", "BILLABLE"]
    if document.get("currency"):
        columns.append(f"COST {document['currency']}")
    rows = []
    for row in document["rows"]:
        cells: list[Any] = [
            printable(row["key"] or "-"),
            row["sent"],
            row["delivered"],
            row["read"],
            row["failed"],
            percent(row["delivery_rate"]),
            percent(row["read_rate"]),
            row["inbound"],
            row["replied"],
            row["billable"],
        ]
        if document.get("currency"):
            cells.append("-" if row["cost"] is None else f"{row['cost']:.2f}")
        rows.append(cells)
    o.table(columns, rows, title=f"by {report.by}", empty="no messages in this window")
    errors = summary["top_errors"]
    if errors:
        o.table(
            ["CODE", "FAILED", "TITLE"],
            [[e["code"], e["count"], printable(e["title"] or "")] for e in errors],
            title="failure reasons",
        )
    if document.get("meta") is not None:
        show_meta(o, document["meta"])
    categories = summary["by_category"]
    if categories:
        o.table(
            ["CATEGORY", "BILLABLE", "FREE"],
            [[printable(name), c["billable"], c["free"]] for name, c in categories.items()],
            title="pricing categories",
        )


def _cost_lines(summary: Mapping[str, Any], currency: str | None) -> list[tuple[str, Any]]:
    if not currency:
        return []
    lines: list[tuple[str, Any]] = [("estimated cost", f"{summary['cost']:.2f} {currency}")]
    if summary.get("unpriced"):
        lines.append(("not on the rate card", f"{summary['unpriced']} billable message(s)"))
    return lines


def _charts(o: Output, report: Report) -> None:
    from rich.console import Group
    from rich.text import Text

    from waba_cli.ui import charts

    days = [day for day, _ in report.daily]
    sent = [float(f.sent) for _, f in report.daily]
    delivery = [f.delivered / f.sent if f.sent else None for _, f in report.daily]
    reads = [f.read / f.delivered if f.delivered else None for _, f in report.daily]
    labels = [f"{day:%a %d %b}" for day in days]
    shown: list[Any] = []
    if len(days) <= 31:
        shown.append(charts.bars("sent per day", labels, sent))
    else:
        shown.append(Text(f"sent per day      {charts.sparkline(sent)}  (max {max(sent):g})"))
    shown.append(Text(f"delivery rate     {charts.sparkline(delivery)}"))
    shown.append(Text(f"read rate         {charts.sparkline(reads)}"))
    o.render(Group(*shown))


def _change(value: float | None) -> str:
    if value is None:
        return ""
    arrow = "▲" if value > 0 else "▼" if value < 0 else "="
    return f" {arrow}{abs(value) * 100:.1f}"


def dashboard_rows(document: Mapping[str, Any]) -> list[list[Any]]:
    """One row per account: health, today against the limit, 7- and 30-day rates with their trend."""
    rows: list[list[Any]] = []
    for board in document["accounts"]:
        limit = board["today"]["daily_limit"]
        today = board["today"]["sent"]
        week, month = board["rates"]["7d"], board["rates"]["30d"]
        campaigns = ", ".join(
            f"{c['name']} ({c['status']}{', ' + str(c['in_doubt']) + ' in doubt' if c['in_doubt'] else ''})"
            for c in board["campaigns"]
        )
        failing = ", ".join(f"{t['template'] or '-'} {t['failed']}" for t in board["failing_templates"])
        rows.append(
            [
                printable(board["account"]),
                board["health"]["status"] or "-",
                f"{today} of {limit}" if limit else str(today),
                percent(week["delivery_rate"]) + _change(week["delivery_change"]),
                percent(week["read_rate"]) + _change(week["read_change"]),
                percent(month["delivery_rate"]) + _change(month["delivery_change"]),
                percent(month["read_rate"]) + _change(month["read_change"]),
                printable(failing) or "-",
                printable(campaigns) or "-",
            ]
        )
    return rows


DASHBOARD_COLUMNS = [
    "ACCOUNT",
    "HEALTH",
    "TODAY",
    "DELIV 7D",
    "READ 7D",
    "DELIV 30D",
    "READ 30D",
    "FAILING TEMPLATES 7D",
    "CAMPAIGNS",
]


def webhook_line(document: Mapping[str, Any]) -> str:
    age = document["webhook"]["age_seconds"]
    if age is None:
        return "webhooks: no delivery received yet"
    return f"webhooks: last delivery {seconds_text(float(age))} ago"


def dashboard_view(document: Mapping[str, Any]) -> Any:
    """The dashboard as one Rich renderable (for a terminal and for Live)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from waba_cli.ui import charts
    from waba_cli.ui.output import STATUS_STYLES

    table = Table(header_style="bold", title=Text(f"waba dashboard  {document['at']:%Y-%m-%d %H:%M:%S} UTC"))
    for column in DASHBOARD_COLUMNS:
        table.add_column(Text(column))
    for row in dashboard_rows(document):
        cells = [Text(str(cell)) for cell in row]
        cells[1].stylize(STATUS_STYLES.get(cells[1].plain, ""))
        table.add_row(*cells)

    volumes = []
    for board in document["accounts"]:
        line = charts.sparkline([float(v) for v in board["volume"]])
        volumes.append(Text(f"{printable(board['account'])}: sent per day over 30 days  {line}"))
    return Group(table, Text(webhook_line(document)), *volumes)


def show_meta(o: Output, meta: Mapping[str, Any]) -> None:
    """Meta's figures beside waba's, differences marked (``!``)."""
    if not meta["synced"]:
        o.warn("no figures from Meta for this window: run `waba analytics sync` first")
        return
    rows = []
    for day in meta["days"]:
        differs = bool(day["meta_only"] or day["local_only"])
        rows.append(
            [
                day["day"],
                day["sent"],
                "-" if day["meta_sent"] is None else day["meta_sent"],
                day["delivered"],
                "-" if day["meta_delivered"] is None else day["meta_delivered"],
                day["meta_only"] if day["meta_only"] is not None else "-",
                day["local_only"] if day["local_only"] is not None else "-",
                "!" if differs else "",
            ]
        )
    o.table(
        ["DAY", "SENT", "META SENT", "DELIVERED", "META DELIVERED", "ONLY AT META", "ONLY IN WABA", ""],
        rows,
        title="waba and Meta (Meta's days are UTC)",
    )
    currency = meta["currency"] or ""
    o.table(
        ["CATEGORY", "BILLABLE", "FREE", "META VOLUME", f"META COST {currency}".strip(), "ESTIMATED"],
        [
            [
                printable(name),
                c.get("billable", 0),
                c.get("free", 0),
                c["volume"],
                "-" if c["cost"] is None else f"{c['cost']:.2f}",
                "-" if c.get("estimated_cost") is None else f"{c['estimated_cost']:.2f}",
            ]
            for name, c in meta["by_category"].items()
        ],
        title="cost per pricing category",
    )
    _show_meta_templates(o, meta.get("templates") or [])
    tiers = [t for t in meta.get("tiers") or [] if t["to_next_tier"] is not None]
    if tiers:
        o.table(
            ["COUNTRY", "CATEGORY", "TIER", "VOLUME THIS MONTH", "TO THE NEXT TIER"],
            [
                [printable(t["country"]), printable(t["category"]), t["tier"], t["volume"], t["to_next_tier"]]
                for t in tiers
            ],
            title="pricing tiers (Meta's)",
        )
    if meta["meta_only"] or meta["local_only"]:
        o.warn(
            f"{meta['meta_only']} message(s) Meta counted that waba has no record of; "
            f"{meta['local_only']} waba sent that Meta has not counted"
        )


def _show_meta_templates(o: Output, templates: list[Mapping[str, Any]]) -> None:
    """Per template, waba's figures beside Meta's ``template_analytics``; ``!`` where the sent differ."""
    if not templates:
        return

    def theirs(value: int | None) -> Any:
        return "-" if value is None else value

    o.table(
        [
            "TEMPLATE",
            "SENT",
            "META SENT",
            "DELIVERED",
            "META DELIVERED",
            "READ",
            "META READ",
            "CLICKS",
            "META CLICKED",
            "",
        ],
        [
            [
                printable(t["template"]),
                t["sent"],
                theirs(t["meta_sent"]),
                t["delivered"],
                theirs(t["meta_delivered"]),
                t["read"],
                theirs(t["meta_read"]),
                t["clicks"],
                theirs(t["meta_clicked"]),
                "!" if t["meta_sent"] is not None and t["meta_sent"] != t["sent"] else "",
            ]
            for t in templates
        ],
        title="templates: waba and Meta (Meta's days are UTC)",
    )
