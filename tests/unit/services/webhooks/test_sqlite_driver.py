"""On SQLite the hot statements run on the driver's cursor: what they store must be what SQLAlchemy stores."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert

from tests.support.webhook import WEBHOOKS
from waba_cli.db import messages
from waba_cli.db.engine import open_database
from waba_cli.services.webhooks import apply, store
from waba_cli.services.webhooks.parse import Delivery, parse_body

JSON_COLUMNS = {"payload", "pricing", "conversation", "errors", "headers"}
KNOWN_WAMIDS = [
    "wamid.HBgLMTU1NTEyMzQ1NjcVAgARGBI1RjQyNUE3NEM5NEI0QkRFNjIA",
    "wamid.HBgLMTU1NTEyMzQ1NjcVAgARGBIyQjVCNzM0RDhBRjNEMTk1QTQA",
]


def _deliveries(now: datetime) -> list[Delivery]:
    bodies = [path.read_bytes() for path in sorted(WEBHOOKS.glob("*.json"))]
    # what orjson refuses and the standard library parses, beside unicode as written and as escapes
    bodies.append(
        b'{"entry":[{"id":"1","changes":[{"field":"messages","value":{"statuses":[{"id":"wamid.big",'
        b'"status":"failed","timestamp":"1750030073","errors":[{"code":123456789012345678901234567890}],'
        b'"pricing":{"note":"caf\\u00e9 \\ud83d\\ude00 \xe2\x82\xac"}}]}}]}]}'
    )
    return [
        Delivery(body=body, payload=parse_body(body), headers={"x-hub-signature-256": "sha256=0"}, received_at=now)
        for body in bodies
    ]


def _known_messages(conn: Connection, now: datetime) -> None:
    conn.execute(
        insert(apply.MESSAGE),
        [
            {"direction": "out", "wamid": w, "contact": "+15551234567", "type": "text", "status": "accepted"}
            | {"created_at": now, "updated_at": now}
            for w in [*KNOWN_WAMIDS, "wamid.big"]
        ],
    )


def _through_core(conn: Connection, work: Any, deliveries: list[Delivery]) -> None:
    conn.execute(insert(apply.MESSAGE), [work.inbound[k] for k in sorted(work.inbound)])
    conn.execute(insert(apply.MESSAGE_STATUS), [work.history[k] for k in sorted(work.history)])
    conn.execute(messages.status_update("wamid"), apply._update_rows(work))
    for item in work.items:  # business changes stay on Core in both paths; their notes go in the summary
        apply._apply_item(conn, work, item)
    rows = [store._event_row(d, o, work.now) for d, o in zip(deliveries, work.outcomes, strict=True)]
    conn.execute(insert(store.WEBHOOK_EVENT), rows)


def _through_driver(conn: Connection, work: Any, deliveries: list[Delivery]) -> None:
    apply.execute(conn, work)
    store._store(conn, deliveries, work.outcomes, work.now)


def _tables(path: Path) -> dict[str, list[dict[str, Any]]]:
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    found = {}
    for table, order in (("message", "wamid"), ("message_status", "wamid, status"), ("webhook_event", "body")):
        rows = []
        for row in db.execute(f"SELECT * FROM {table} ORDER BY {order}"):
            values = {k: row[k] for k in row.keys() if k != "id"}  # noqa: SIM118 - sqlite3.Row has no items()
            for column in JSON_COLUMNS & values.keys():
                # the text may differ (compact, unescaped); the value may not
                values[column] = None if values[column] is None else json.loads(values[column])
            rows.append(values)
        found[table] = rows
    db.close()
    return found


def test_deliveries_applied_on_sqlite_store_the_same_rows_as_sqlalchemy_core(tmp_path: Path) -> None:
    now = datetime(2026, 11, 30, 20, 15, 1, 234567, tzinfo=UTC)
    stored = {}
    for name, write in (("core", _through_core), ("driver", _through_driver)):
        path = tmp_path / f"{name}.db"
        db = open_database(f"sqlite:///{path}")
        deliveries = _deliveries(now)
        work = apply.plan(deliveries, apply.Directory(), now)
        with db.engine.connect() as conn, conn.begin():
            _known_messages(conn, now)
            write(conn, work, deliveries)
        db.dispose()
        stored[name] = _tables(path)

    core, driver = stored["core"], stored["driver"]
    assert [len(core[t]) for t in core] == [len(driver[t]) for t in driver]
    assert all(core[t] for t in core), "every table got rows"
    assert core == driver
    moved = [m for m in driver["message"] if m["wamid"] in KNOWN_WAMIDS or m["wamid"] == "wamid.big"]
    assert {m["status"] for m in moved} - {"accepted"}, "statuses moved known messages forward"
    assert driver["message"][0]["created_at"].count(":") == 2  # SQLAlchemy's text, not an epoch
