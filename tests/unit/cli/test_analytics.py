"""`waba analytics report` as a command: the spec's JSON keys, --csv round-trips (formulas
neutralised, mode 0600), bad arguments are exit 2, outside text is printed escaped."""

from __future__ import annotations

import csv
import stat
from pathlib import Path
from typing import Any

from sqlmodel import select

from tests.support import analytics as week
from waba_cli.db.engine import Database
from waba_cli.db.models.messages import Message

WINDOW = ("--since", "2026-03-07", "--until", "2026-03-10")


def _built(db: Database) -> None:
    week.build(db)
    week.webhook_statuses(db)
    week.late_status(db)


def test_json_has_the_spec_keys(waba: Any, account: Any, db: Database) -> None:
    _built(db)
    result = waba("analytics", "report", *WINDOW, "--json")
    assert result.code == 0, result.err
    document = result.json()
    assert {"since", "until", "totals", "delivery_rate", "read_rate", "rows"} <= set(document)
    assert document["totals"] == week.EXPECTED_TOTALS
    assert [row["key"] for row in document["rows"]] == list(week.EXPECTED_DAYS)


def test_csv_round_trips_with_formulas_neutralised(waba: Any, account: Any, db: Database, tmp_path: Path) -> None:
    _built(db)
    with db.transaction() as session:
        for message in session.exec(select(Message).where(Message.campaign == "spring")):
            message.campaign = '=HYPERLINK("http://evil.example")'
            session.add(message)
    target = tmp_path / "report.csv"
    result = waba("analytics", "report", *WINDOW, "--by", "campaign", "--csv", str(target), "--json")
    assert result.code == 0, result.err
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    expected = result.json()["rows"]
    assert [row["key"] for row in rows] == ["'" + r["key"] if r["key"].startswith("=") else r["key"] for r in expected]
    for row, wanted in zip(rows, expected, strict=True):
        for column in ("sent", "delivered", "read", "failed", "inbound", "billable", "free"):
            assert int(row[column]) == wanted[column]
        assert (float(row["delivery_rate"]) if row["delivery_rate"] else None) == wanted["delivery_rate"]


def test_text_output_escapes_outside_text(waba: Any, account: Any, db: Database) -> None:
    _built(db)
    with db.transaction() as session:
        for message in session.exec(select(Message).where(Message.template_name == "promo")):
            message.template_name = "promo\x1b[2J"
            session.add(message)
    result = waba("analytics", "report", *WINDOW, "--by", "template")
    assert result.code == 0, result.err
    assert "\x1b" not in result.out
    assert "promo\\x1b[2J" in result.out


def test_bad_arguments_are_exit_2(waba: Any, account: Any, tmp_path: Path) -> None:
    assert waba("analytics", "report", "--by", "colour").code == 2
    assert waba("analytics", "report", "--since", "last tuesday").code == 2
    assert waba("analytics", "report", "--all", "--account", account["name"]).code == 2
    assert waba("analytics", "report", "--csv", str(tmp_path / "missing" / "r.csv")).code == 2
    assert waba("analytics", "report", "--html", str(tmp_path / "missing" / "r.html")).code == 2
    bad = tmp_path / "rates.csv"
    bad.write_text("country,category,price,currency\nUS,marketing,cheap,USD\n")
    result = waba("analytics", "report", "--rate-card", str(bad))
    assert result.code == 2 and "line 2" in result.err


def test_an_empty_window_is_a_report_of_zeros(waba: Any, account: Any) -> None:
    result = waba("analytics", "report", "--since", "3d", "--json")
    assert result.code == 0, result.err
    document = result.json()
    assert document["totals"] == {"sent": 0, "delivered": 0, "read": 0, "failed": 0, "inbound": 0}
    assert document["delivery_rate"] is None
    assert len(document["rows"]) in (3, 4)
