"""`analytics report --html FILE`: the report as one self-contained HTML page a manager can be mailed.

Charts are SVG drawn here, inline; the page loads nothing (its Content-Security-Policy forbids any
fetch), so it opens the same offline, in a mail client or a browser. Every text from outside
(template names, campaign names, error titles) is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from waba_cli.ui.analytics import percent, seconds_text

_WIDTH, _HEIGHT, _PAD = 760, 220, 36
_STYLE = """
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1d2733;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}.muted{color:#5d6b7a}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}.card{border:1px solid #d9e0e7;border-radius:8px;
padding:10px 14px;min-width:120px}.card b{display:block;font-size:22px}
table{border-collapse:collapse;margin:8px 0}td,th{border-bottom:1px solid #e3e8ee;padding:4px 10px;text-align:right}
td:first-child,th:first-child{text-align:left}th{background:#f3f6f9}svg{max-width:100%;height:auto}
"""


def _points(values: Sequence[float | None], top: float) -> list[tuple[float, float] | None]:
    n = max(1, len(values) - 1)
    inner_w, inner_h = _WIDTH - 2 * _PAD, _HEIGHT - 2 * _PAD
    found: list[tuple[float, float] | None] = []
    for index, value in enumerate(values):
        if value is None:
            found.append(None)
            continue
        x = _PAD + inner_w * index / n
        y = _HEIGHT - _PAD - (inner_h * value / top if top else 0)
        found.append((round(x, 1), round(y, 1)))
    return found


def _frame(labels: Sequence[str], top_label: str) -> list[str]:
    parts = [
        f'<line x1="{_PAD}" y1="{_HEIGHT - _PAD}" x2="{_WIDTH - _PAD}" y2="{_HEIGHT - _PAD}" stroke="#9aa7b4"/>',
        f'<line x1="{_PAD}" y1="{_PAD}" x2="{_PAD}" y2="{_HEIGHT - _PAD}" stroke="#9aa7b4"/>',
        (
            f'<text x="{_PAD - 4}" y="{_PAD + 4}" font-size="11" text-anchor="end" fill="#5d6b7a">'
            f"{escape(top_label)}</text>"
        ),
    ]
    if labels:
        for index in sorted({0, len(labels) // 2, len(labels) - 1}):
            x = _PAD + (_WIDTH - 2 * _PAD) * index / max(1, len(labels) - 1)
            parts.append(
                f'<text x="{x:.1f}" y="{_HEIGHT - _PAD + 16}" font-size="11" text-anchor="middle" '
                f'fill="#5d6b7a">{escape(labels[index])}</text>'
            )
    return parts


def bar_chart(title: str, labels: Sequence[str], series: Mapping[str, Sequence[float]]) -> str:
    """Grouped bars per label, one colour per series, as inline SVG."""
    colours = ["#2f6fdf", "#2aa876", "#8b5cf6", "#e4572e"]
    top = max((v for values in series.values() for v in values), default=0.0) or 1.0
    inner_w, inner_h = _WIDTH - 2 * _PAD, _HEIGHT - 2 * _PAD
    slot = inner_w / max(1, len(labels))
    width = max(1.0, slot * 0.8 / max(1, len(series)))
    parts = _frame([], f"{top:g}")
    for s, (name, values) in enumerate(series.items()):
        for index, value in enumerate(values):
            height = inner_h * value / top
            x = _PAD + slot * index + slot * 0.1 + width * s
            parts.append(
                f'<rect x="{x:.1f}" y="{_HEIGHT - _PAD - height:.1f}" width="{width:.1f}" height="{height:.1f}" '
                f'fill="{colours[s % len(colours)]}">'
                f"<title>{escape(labels[index])} {escape(name)}: {value:g}</title></rect>"
            )
    for index in sorted({0, len(labels) // 2, len(labels) - 1}) if labels else []:
        x = _PAD + slot * (index + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{_HEIGHT - _PAD + 16}" font-size="11" text-anchor="middle" '
            f'fill="#5d6b7a">{escape(labels[index])}</text>'
        )
    return _svg(title, parts, {name: colours[i % len(colours)] for i, name in enumerate(series)})


def line_chart(title: str, labels: Sequence[str], series: Mapping[str, Sequence[float | None]]) -> str:
    """Rates (0 to 1) per label as lines, as inline SVG."""
    colours = ["#2aa876", "#8b5cf6", "#e4572e"]
    parts = _frame(labels, "100%")
    for s, values in enumerate(series.values()):
        colour = colours[s % len(colours)]
        points = _points(values, 1.0)
        run: list[str] = []
        for point in [*points, None]:
            if point is None:
                if len(run) > 1:
                    parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(run)}"/>')
                run = []
            else:
                run.append(f"{point[0]},{point[1]}")
        for point in points:
            if point is not None:
                parts.append(f'<circle cx="{point[0]}" cy="{point[1]}" r="2.5" fill="{colour}"/>')
    return _svg(title, parts, {name: colours[i % len(colours)] for i, name in enumerate(series)})


def _svg(title: str, parts: list[str], legend: Mapping[str, str]) -> str:
    keys = []
    for index, (name, colour) in enumerate(legend.items()):
        x = _PAD + index * 120
        keys.append(f'<rect x="{x}" y="8" width="10" height="10" fill="{colour}"/>')
        keys.append(f'<text x="{x + 14}" y="17" font-size="12" fill="#1d2733">{escape(name)}</text>')
    body = "".join(keys + parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {_HEIGHT}" width="{_WIDTH}" '
        f'height="{_HEIGHT}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>{body}</svg>'
    )


def _table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def report_html(document: Mapping[str, Any], daily: Sequence[tuple[str, Mapping[str, int]]]) -> str:
    """The page: summary cards, daily volume and rates as charts, the rows, failures and categories."""
    summary = document["summary"]
    labels = [day for day, _ in daily]
    sent = [float(f["sent"]) for _, f in daily]
    delivered = [float(f["delivered"]) for _, f in daily]
    read = [float(f["read"]) for _, f in daily]
    delivery_rate = [f["delivered"] / f["sent"] if f["sent"] else None for _, f in daily]
    read_rate = [f["read"] / f["delivered"] if f["delivered"] else None for _, f in daily]
    cards = [
        ("sent", summary["sent"]),
        ("delivered", f"{summary['delivered']} ({percent(summary['delivery_rate'])})"),
        ("read", f"{summary['read']} ({percent(summary['read_rate'])})"),
        ("failed", f"{summary['failed']} ({percent(summary['failure_rate'])})"),
        ("inbound", summary["inbound"]),
        ("first response (median)", seconds_text(summary["response_median_s"])),
        ("billable / free", f"{summary['billable']} / {summary['free']}"),
    ]
    if document.get("currency"):
        cards.append((f"estimated cost ({document['currency']})", f"{summary['cost']:.2f}"))
    columns = ["key", "sent", "delivered", "read", "failed", "delivery", "read rate", "inbound", "replied", "billable"]
    rows = [
        [r["key"] or "-", r["sent"], r["delivered"], r["read"], r["failed"], percent(r["delivery_rate"]),
         percent(r["read_rate"]), r["inbound"], r["replied"], r["billable"]]
        for r in document["rows"]
    ]  # fmt: skip
    errors = [[e["code"], e["count"], e["title"] or ""] for e in summary["top_errors"]]
    categories = [[name, c["billable"], c["free"]] for name, c in summary["by_category"].items()]
    window = f"{document['first_day']} to {document['last_day']}, whole days in {', '.join(document['timezones'])}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>waba analytics: {escape(', '.join(document['accounts']))}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Messaging report: {escape(', '.join(document['accounts']))}</h1>",
        f'<div class="muted">{escape(window)}</div>',
        '<div class="cards">' + "".join(_card(k, v) for k, v in cards) + "</div>",
        "<h2>Volume per day</h2>",
        bar_chart("Volume per day", labels, {"sent": sent, "delivered": delivered, "read": read}),
        "<h2>Delivery and read rates per day</h2>",
        line_chart("Rates per day", labels, {"delivery rate": delivery_rate, "read rate": read_rate}),
        f"<h2>By {escape(document['by'])}</h2>",
        _table(columns, rows),
    ]
    if errors:
        parts += ["<h2>Failure reasons</h2>", _table(["code", "failed", "title"], errors)]
    if categories:
        parts += ["<h2>Pricing categories</h2>", _table(["category", "billable", "free"], categories)]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _card(label: str, value: Any) -> str:
    return f'<div class="card"><span class="muted">{escape(label)}</span><b>{escape(str(value))}</b></div>'
