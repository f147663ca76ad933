"""The forward-only status rule on its own: ranks, the decision, the furthest of several."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from waba_cli.domain.statuses import (
    MESSAGE_STATUSES,
    RECEIVED,
    STATUS_RANK,
    UNRANKED,
    carries_error,
    furthest,
    may_replace,
    rank,
)

ORDER = ["queued", "accepted", "sent", "failed", "delivered", "read", "played"]


def test_statuses_rank_in_the_order_a_message_goes_through_them() -> None:
    assert sorted(STATUS_RANK, key=rank) == ORDER
    assert len(set(STATUS_RANK.values())) == len(STATUS_RANK)


def test_a_message_is_one_of_the_ranked_statuses_or_received() -> None:
    assert {*ORDER, RECEIVED} == MESSAGE_STATUSES


@pytest.mark.parametrize("status", [None, RECEIVED, "deleted", "warning", ""])
def test_no_status_received_and_unknown_statuses_rank_below_every_status(status: str | None) -> None:
    assert rank(status) == UNRANKED
    assert all(may_replace(status, new) for new in ORDER)


@pytest.mark.parametrize(
    ("current", "new", "moves"),
    [
        ("accepted", "sent", True),
        ("sent", "failed", True),  # failed replaces accepted and sent
        ("failed", "delivered", True),  # multi-device: a later delivered wins over failed
        ("read", "sent", False),  # a late sent changes nothing
        ("read", "failed", False),
        ("delivered", "delivered", False),  # a repeat neither
        ("queued", "accepted", True),
        ("accepted", "deleted", False),  # statuses waba does not know move nothing
        ("sent", RECEIVED, False),
    ],
)
def test_a_status_replaces_only_a_lower_one(current: str, new: str, moves: bool) -> None:
    assert may_replace(current, new) is moves


def test_only_failed_carries_an_error() -> None:
    assert [s for s in ORDER if carries_error(s)] == ["failed"]


def test_furthest_picks_the_highest_ranked_item_and_ignores_unknown_statuses() -> None:
    rows = [SimpleNamespace(status=s, n=i) for i, s in enumerate(["sent", "deleted", "read", "delivered", "read"])]
    best = furthest(rows, lambda r: r.status)
    assert best is not None
    assert (best.status, best.n) == ("read", 2)  # the first of equals
    assert furthest([SimpleNamespace(status="deleted")], lambda r: r.status) is None
    assert furthest([], lambda r: r) is None
