"""The one status write (db/messages.py): whatever order statuses arrive in, a message ends the same.

Meta delivers a message's statuses in any order, repeated, some with pricing or callback data, a
``failed`` with its error; the sender and campaign runs write theirs in between. Applied one by one
in any order, they must leave the row exactly as applying them in rank order does: at the furthest
status, with its time and its error, the pricing and callback data known, the wamid set.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from waba_cli.db.engine import Database
from waba_cli.db.messages import MESSAGE, Key, apply_statuses, status_change
from waba_cli.domain.statuses import STATUS_RANK, furthest, rank

REPORTED = ["accepted", "sent", "failed", "delivered", "read", "played"]
START = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
NOW = START + timedelta(days=1)
PRICING = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"}
CALLBACK = "order-8812"
ERROR = (131049, "This message was not delivered", "to maintain healthy ecosystem engagement")
NUMBERS = itertools.count()


@dataclass(frozen=True)
class Report:
    status: str
    at: datetime
    pricing: bool = False
    callback: bool = False


@st.composite
def reports(draw: st.DrawFn) -> list[Report]:
    """Statuses of one message (each once, with its own time), some repeated, in any order."""
    kinds = draw(st.lists(st.sampled_from(REPORTED), unique=True, max_size=len(REPORTED)))
    # Meta's timestamps usually follow the statuses' order, but devices and retries disagree
    made = [
        Report(
            kind,
            START + timedelta(seconds=draw(st.integers(0, 3600))),
            pricing=draw(st.booleans()),
            callback=draw(st.booleans()),
        )
        for kind in kinds
    ]
    repeats = draw(st.lists(st.sampled_from(made), max_size=3)) if made else []
    return draw(st.permutations(made + repeats))


def _change(key: Key, row: dict[str, Any], report: Report) -> dict[str, Any]:
    return status_change(
        row["id"] if key == "id" else row[_COLUMN[key]],
        report.status,
        report.at,
        NOW,
        wamid=row["wamid"],
        error_code=ERROR[0],  # every report names one: only a failed one may keep it
        error_title=ERROR[1],
        error_details=ERROR[2],
        pricing=PRICING if report.pricing else None,
        callback_data=CALLBACK if report.callback else None,
    )


_COLUMN = {"wamid": "wamid", "callback": "biz_opaque_callback_data"}


def _new_message(db: Database, key: Key) -> dict[str, Any]:
    number = next(NUMBERS)
    row = {
        "direction": "out",
        "contact": "+15551234567",
        "type": "text",
        "status": "queued",
        "status_at": START,
        "wamid": f"wamid.rule-{number}" if key == "wamid" else None,
        "biz_opaque_callback_data": f"waba-campaign:1:{number}:1" if key == "callback" else None,
        "created_at": START,
        "updated_at": START,
    }
    with db.engine.begin() as conn:
        row["id"] = conn.execute(insert(MESSAGE).values(row).returning(MESSAGE.c.id)).scalar_one()
    # the sender's and the campaign's rows learn their wamid from the first status change
    return row | {"wamid": row["wamid"] or f"wamid.rule-{number}"}


def _apply_one_by_one(db: Database, key: Key, row: dict[str, Any], arrived: list[Report]) -> None:
    for report in arrived:
        with db.engine.begin() as conn:
            apply_statuses(conn, key, [_change(key, row, report)])


def _stored(db: Database, row_id: int) -> dict[str, Any]:
    with db.engine.connect() as conn:
        found = conn.execute(select(MESSAGE).where(MESSAGE.c.id == row_id)).one()._asdict()
    at = found["status_at"]
    found["status_at"] = at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at
    return {k: v for k, v in found.items() if k not in {"id", "created_at", "updated_at"}}


def _expected(arrived: list[Report]) -> dict[str, Any]:
    """The rule, told without SQL: the furthest status, its time, its error; what is known of the rest."""
    last = furthest(arrived, lambda r: r.status)
    failed = last is not None and last.status == "failed"
    return {
        "status": last.status if last else "queued",
        "status_at": (last.at if last else START).replace(tzinfo=None),
        "error_code": ERROR[0] if failed else None,
        "error_title": ERROR[1] if failed else None,
        "error_details": ERROR[2] if failed else None,
        "pricing": PRICING if any(r.pricing for r in arrived) else None,
    }


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(["wamid", "id", "callback"]), arrived=reports())
@example(  # a late failed after read: no error on a read message
    key="wamid", arrived=[Report("read", START), Report("failed", START)]
)
@example(  # multi-device: failed, then delivered; the delivered message has no error
    key="id", arrived=[Report("failed", START, pricing=True, callback=True), Report("delivered", START)]
)
def test_any_order_of_statuses_ends_at_the_row_rank_order_gives(db: Database, key: Key, arrived: list[Report]) -> None:
    in_any_order, in_rank_order = _new_message(db, key), _new_message(db, key)

    _apply_one_by_one(db, key, in_any_order, arrived)
    _apply_one_by_one(db, key, in_rank_order, sorted(arrived, key=lambda r: rank(r.status)))

    stored, ranked = _stored(db, in_any_order["id"]), _stored(db, in_rank_order["id"])
    # each row keeps its own keys: the wamid (learnt from the first change), a campaign's callback data
    own = ["wamid", "biz_opaque_callback_data"] if key == "callback" else ["wamid"]
    assert [stored.pop(k) for k in own] == [
        in_any_order["wamid"] if arrived or key == "wamid" else None,
        *([in_any_order["biz_opaque_callback_data"]] if key == "callback" else []),
    ]
    for k in own:
        ranked.pop(k)
    assert stored == ranked
    assert {k: stored[k] for k in _expected(arrived)} == _expected(arrived)
    if key != "callback":
        assert stored["biz_opaque_callback_data"] == (CALLBACK if any(r.callback for r in arrived) else None)


def test_only_ranked_statuses_make_a_change() -> None:
    assert set(REPORTED) < set(STATUS_RANK)
