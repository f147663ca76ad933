"""The pure parts of analytics: countries, pricing, days across DST, response-time percentiles,
rate cards and CSV cells."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from waba_cli.domain import analytics as a


@pytest.mark.parametrize(
    ("contact", "country"),
    [("+16505550123", "US"), ("+447700900123", "GB"), ("+919876543210", "IN"), ("+3556912345", "AL"), ("US.1349", "")],
)
def test_country_of(contact: str, country: str) -> None:
    assert a.country_of(contact, COUNTRY_CODE_TO_REGION_CODE) == country


@pytest.mark.parametrize(
    ("pricing", "expected"),
    [
        ({"billable": True, "type": "regular", "category": "marketing"}, ("marketing", "regular", True)),
        (
            {"billable": False, "type": "free_entry_point", "category": "service"},
            ("service", "free_entry_point", False),
        ),
        (
            {"billable": True, "category": "authentication-international"},
            ("authentication_international", "regular", True),
        ),
        # the type decides: billable is to be deprecated and free_customer_service is free whatever it says
        (
            {"billable": True, "type": "free_customer_service", "category": "utility"},
            ("utility", "free_customer_service", False),
        ),
        (None, None),
        ({}, None),
    ],
)
def test_pricing_of(pricing: dict[str, object] | None, expected: tuple[str, str, bool] | None) -> None:
    assert a.pricing_of(pricing) == expected


def test_a_day_across_the_dst_change_has_23_hours() -> None:
    start, end = a.day_span(date(2026, 3, 8), ZoneInfo("America/New_York"))
    assert (end - start).total_seconds() == 23 * 3600
    assert a.local_day(datetime(2026, 3, 9, 3, 30, tzinfo=UTC), ZoneInfo("America/New_York")) == date(2026, 3, 8)


def test_runs_of_days() -> None:
    days = [date(2026, 3, d) for d in (9, 1, 2, 3, 7, 8)]
    assert a.runs_of(days) == [(date(2026, 3, 1), date(2026, 3, 3)), (date(2026, 3, 7), date(2026, 3, 9))]


@pytest.mark.parametrize("seconds", [0.5, 7, 120, 1800, 86_000])
def test_response_buckets_are_within_2_percent(seconds: float) -> None:
    assert a.bucket_seconds(a.bucket_of(seconds)) == pytest.approx(seconds, rel=0.02, abs=0.5)


def test_percentiles() -> None:
    buckets: dict[str, int] = {}
    for seconds in (10, 20, 30, 40, 1000):
        key = str(a.bucket_of(seconds))
        buckets[key] = buckets.get(key, 0) + 1
    assert a.percentile(buckets, 0.5) == pytest.approx(30, rel=0.02)
    assert a.percentile(buckets, 0.9) == pytest.approx(1000, rel=0.02)
    assert a.percentile({}, 0.5) is None


def test_cost_on_a_rate_card() -> None:
    card = a.RateCard("EUR", {("DE", "marketing"): 0.1, ("*", "utility"): 0.01})
    assert a.cost_of({"DE|marketing": 3, "FR|utility": 2, "FR|marketing": 1}, card) == (0.32, 1)
    assert a.cost_of({"DE|marketing": 3}, None) == (None, 3)


def test_volume_to_the_next_pricing_tier() -> None:
    points = [
        (date(2026, 2, 27), "IN|UTILITY|REGULAR|0:750000", 999),  # last month: not counted
        (date(2026, 3, 1), "IN|UTILITY|REGULAR|0:750000", 600),
        (date(2026, 3, 2), "IN|UTILITY|REGULAR|0:750000", 400),
        (date(2026, 3, 2), "US|MARKETING|REGULAR|0:MAX", 50),
    ]
    assert a.tiers_left(points) == [
        {"country": "IN", "category": "UTILITY", "volume": 1000, "tier": "0:750000", "to_next_tier": 749_001},
        {"country": "US", "category": "MARKETING", "volume": 50, "tier": "0:MAX", "to_next_tier": None},
    ]
