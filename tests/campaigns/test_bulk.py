"""`waba send bulk`: a campaign from a CSV, told as the operator lives it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.campaigns.world import (
    FakeMeta,
    account_id,
    db,
    meta,
    outbound,
    phones,
    quick_backoff,
    recipients,
    templates,
    write_csv,
)
from waba_cli.db.engine import Database

__all__ = ["account_id", "db", "meta", "quick_backoff", "templates"]  # fixtures


def test_bulk_template_sends_one_request_per_row_and_records_each(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path
) -> None:
    numbers = phones(5)
    csv_path = write_csv(tmp_path / "customers.csv", "phone,1,2", [f"{n},Ana{i},88{i}" for i, n in enumerate(numbers)])

    result = waba("send", "bulk", "--csv", str(csv_path), "--template", "order_update", "--rate", "0", "--json")

    assert result.code == 0, result.err
    summary = result.json()
    assert {k: summary[k] for k in ("campaign", "total", "sent", "failed", "skipped", "in_doubt")} == {
        "campaign": "customers-order_update",
        "total": 5,
        "sent": 5,
        "failed": 0,
        "skipped": 0,
        "in_doubt": 0,
    }
    assert sorted(meta.to()) == numbers
    first = next(r for r in meta.requests if r["to"] == numbers[0])
    assert first["template"] == {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana0"}, {"type": "text", "text": "880"}]}],
    }
    assert first["biz_opaque_callback_data"].startswith("waba-campaign:")
    rows = recipients(db, "customers-order_update")
    assert [r.state for r in rows] == ["accepted"] * 5
    messages = outbound(db)
    assert {m.status for m in messages} == {"accepted"}
    assert {m.campaign for m in messages} == {"customers-order_update"}
    assert sorted(m.wamid or "" for m in messages) == sorted(r.wamid or "" for r in rows)
