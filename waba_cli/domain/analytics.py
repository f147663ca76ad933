"""What `waba analytics` counts, as pure computations: one day's figures from its messages, and a
report's groups and rates from those days.

A message counts on the day it was sent (or received), in the account's ``business_timezone``,
with the furthest status it reached (``domain.statuses``): a status that comes late or out of
order changes the figures of that day, never adds a second count. Of outbound messages only those
the API accepted (they have a wamid) count: ``sent``; ``delivered`` those that reached delivered,
read or played; ``read`` those that reached read or played; ``failed`` those whose furthest status
is failed (a failure overtaken by a later delivery is a delivery). Costs come from the ``pricing``
Meta put on the statuses: ``billable`` (type ``regular``) or free (``free_customer_service``,
``free_entry_point``), per pricing category and the recipient's country; a rate card prices them.

First-response time: for an inbound message that waits for an answer (the first since the business
last wrote to that contact on that number), the time until the business's next message to the
contact, if it comes within the 24-hour customer-service window. Response times are kept in
buckets 2 % wide, so a median or p90 is exact to within 2 %.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

# the groupings a report offers; "all" is the whole account on each day
DIMENSIONS = ("all", "template", "number", "campaign", "country", "category")
GROUPINGS = ("day", "week", "template", "number", "campaign", "country", "category")
REACHED_DELIVERED = frozenset({"delivered", "read", "played"})
REACHED_READ = frozenset({"read", "played"})
CLICK_TYPES = frozenset({"button", "interactive"})
RESPONSE_WINDOW = timedelta(hours=24)
_BUCKET_BASE = 1.02
COUNTERS = ("sent", "delivered", "read", "failed", "inbound", "replied", "clicks", "billable", "free", "contacts")


@dataclass(frozen=True)
class MessageFacts:
    """The columns of one message that analytics reads."""

    id: int
    direction: str
    wamid: str | None
    contact: str
    phone_number_id: str | None
    template_name: str | None
    campaign: str | None
    status: str
    error_code: int | None
    error_title: str | None
    pricing: Mapping[str, Any] | None
    context_wamid: str | None
    type: str
    created_at: datetime


@dataclass
class Figures:
    """The counters of one group (a day and a key, or a report row)."""

    sent: int = 0
    delivered: int = 0
    read: int = 0
    failed: int = 0
    inbound: int = 0
    replied: int = 0
    clicks: int = 0
    billable: int = 0
    free: int = 0
    contacts: int = 0
    # error code -> [count, title]; "country|category" -> billable count; "category|type" -> free count;
    # response-time bucket -> count
    errors: dict[str, list[Any]] = field(default_factory=dict)
    billed: dict[str, int] = field(default_factory=dict)
    freed: dict[str, int] = field(default_factory=dict)
    responses: dict[str, int] = field(default_factory=dict)

    def add(self, other: Figures) -> None:
        for name in COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.merge(other.details())

    def details(self) -> dict[str, Any] | None:
        """The mappings that hold something, as stored beside the counters (None: none does)."""
        found = {"errors": self.errors, "billed": self.billed, "freed": self.freed, "responses": self.responses}
        return {name: value for name, value in found.items() if value} or None

    def merge(self, details: Mapping[str, Any] | None) -> None:
        """Add stored details (``details()``) to these."""
        if not details:
            return
        for code, (count, title) in (details.get("errors") or {}).items():
            mine = self.errors.setdefault(code, [0, title])
            mine[0] += count
            mine[1] = mine[1] or title
        _add_counts(self.billed, details.get("billed") or {})
        _add_counts(self.freed, details.get("freed") or {})
        _add_counts(self.responses, details.get("responses") or {})

    @classmethod
    def of(cls, counters: Mapping[str, Any], details: Mapping[str, Any] | None) -> Figures:
        figures = cls()
        for name in COUNTERS:
            setattr(figures, name, int(counters[name] or 0))
        figures.merge(details)
        return figures


def _add_counts(mine: dict[str, int], theirs: Mapping[str, int]) -> None:
    for key, count in theirs.items():
        mine[key] = mine.get(key, 0) + count


# -- days in the account's time zone -----------------------------------------------------------


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    """The day ``moment`` falls on in ``zone``."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone).date()


def day_span(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC start and end of ``day`` in ``zone`` (23 or 25 hours on a DST change)."""
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def week_of(day: date) -> date:
    """The Monday that starts ``day``'s week."""
    return day - timedelta(days=day.weekday())


def runs_of(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) runs, in order."""
    runs: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


# -- who, where, what it cost ------------------------------------------------------------------


def country_of(contact: str, regions: Mapping[int, Sequence[str]]) -> str:
    """The ISO region of an E.164 contact by its country calling code ("" when unknown).

    ``regions`` maps calling codes to regions (``phonenumbers.COUNTRY_CODE_TO_REGION_CODE``); a
    code shared by several regions (+1) gives its main one.
    """
    if not contact.startswith("+"):
        return ""  # a business-scoped user id: no number, no country
    digits = contact[1:4]
    for length in (1, 2, 3):
        found = regions.get(int(digits[:length])) if digits[:length].isdigit() else None
        if found:
            return found[0] if found[0] != "001" else ""
    return ""


def pricing_of(pricing: Mapping[str, Any] | None) -> tuple[str, str, bool] | None:
    """(category, type, billable) of a status's pricing; None when Meta sent none."""
    if not isinstance(pricing, Mapping) or not pricing:
        return None
    category = str(pricing.get("category") or "").lower().replace("-", "_")
    kind = str(pricing.get("type") or "").lower()
    billable = kind == "regular" if kind else bool(pricing.get("billable"))
    return category, kind or ("regular" if billable else "free"), billable


def bucket_of(seconds: float) -> int:
    """The response-time bucket of ``seconds`` (2 % wide)."""
    return math.floor(math.log1p(max(0.0, seconds)) / math.log(_BUCKET_BASE))


def bucket_seconds(bucket: int) -> float:
    """The middle of a bucket, in seconds."""
    low = _BUCKET_BASE**bucket - 1
    high = _BUCKET_BASE ** (bucket + 1) - 1
    return (low + high) / 2


def percentile(buckets: Mapping[str, int], share: float) -> float | None:
    """The ``share`` percentile (0.5: median) of the response times in ``buckets``; None when empty."""
    total = sum(buckets.values())
    if not total:
        return None
    rank = max(1, math.ceil(share * total))
    seen = 0
    for bucket in sorted(buckets, key=int):
        seen += buckets[bucket]
        if seen >= rank:
            return round(bucket_seconds(int(bucket)), 1)
    return None  # pragma: no cover - the loop always reaches rank


# -- one day's figures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """An inbound message answering (quoting) an outbound one: its context."""

    context_wamid: str
    type: str


def day_figures(
    day: date,
    zone: ZoneInfo,
    messages: Sequence[MessageFacts],
    replies: Iterable[Reply],
    regions: Mapping[int, Sequence[str]],
) -> dict[tuple[str, str], Figures]:
    """The figures of ``day`` per (dimension, key).

    ``messages`` are the account's messages in time order from 24 hours before the day to 24 hours
    after it (the neighbours first-response times need); only the day's own are counted.
    ``replies`` are the inbound messages, of any day, whose context is one of the day's outbound
    messages: ``replied`` counts the messages that got one, ``clicks`` the button answers.
    """
    start, end = day_span(day, zone)
    groups: dict[tuple[str, str], Figures] = {}
    contacts: dict[tuple[str, str], set[str]] = {}
    countries: dict[str, str] = {}

    def country(contact: str) -> str:
        found = countries.get(contact)
        if found is None:
            found = countries[contact] = country_of(contact, regions)
        return found

    def keys(message: MessageFacts) -> list[tuple[str, str]]:
        found = [("all", ""), ("number", message.phone_number_id or ""), ("country", country(message.contact))]
        if message.direction == "out":
            category = pricing_of(message.pricing)
            found += [
                ("template", message.template_name or ""),
                ("campaign", message.campaign or ""),
                ("category", category[0] if category else ""),
            ]
        return found

    outbound_keys: dict[str, list[tuple[str, str]]] = {}
    for message in messages:
        if not start <= message.created_at < end:
            continue
        if message.direction == "out" and not message.wamid:
            continue  # never accepted by the API: not sent
        for key in keys(message):
            figures = groups.get(key)
            if figures is None:
                figures = groups[key] = Figures()
            contacts.setdefault(key, set()).add(message.contact)
            _count(figures, message, country(message.contact))
        if message.direction == "out" and message.wamid:
            outbound_keys[message.wamid] = keys(message)
    _count_replies(groups, outbound_keys, replies)
    _count_responses(groups, messages, start, end, keys)
    for key, seen in contacts.items():
        groups[key].contacts = len(seen)
    return groups


def _count(figures: Figures, message: MessageFacts, country: str) -> None:
    if message.direction == "in":
        figures.inbound += 1
        return
    figures.sent += 1
    if message.status in REACHED_DELIVERED:
        figures.delivered += 1
    if message.status in REACHED_READ:
        figures.read += 1
    if message.status == "failed":
        figures.failed += 1
        code = str(message.error_code or 0)
        entry = figures.errors.setdefault(code, [0, message.error_title])
        entry[0] += 1
        entry[1] = entry[1] or message.error_title
    priced = pricing_of(message.pricing)
    if priced is not None:
        category, kind, billable = priced
        if billable:
            figures.billable += 1
            slot = f"{country}|{category}"
            figures.billed[slot] = figures.billed.get(slot, 0) + 1
        else:
            figures.free += 1
            slot = f"{category}|{kind}"
            figures.freed[slot] = figures.freed.get(slot, 0) + 1


def _count_replies(
    groups: dict[tuple[str, str], Figures], outbound_keys: Mapping[str, list[tuple[str, str]]], replies: Iterable[Reply]
) -> None:
    answered: set[str] = set()
    for reply in replies:
        keys = outbound_keys.get(reply.context_wamid)
        if keys is None:
            continue
        first = reply.context_wamid not in answered
        answered.add(reply.context_wamid)
        for key in keys:
            figures = groups[key]
            if first:
                figures.replied += 1
            if reply.type in CLICK_TYPES:
                figures.clicks += 1


def _count_responses(
    groups: dict[tuple[str, str], Figures],
    messages: Sequence[MessageFacts],
    start: datetime,
    end: datetime,
    keys_of: Any,
) -> None:
    """First-response times of the day's waiting inbound messages (see the module docstring)."""
    waiting: dict[tuple[str | None, str], MessageFacts] = {}
    for message in messages:
        thread = (message.phone_number_id, message.contact)
        if message.direction == "in":
            waiting.setdefault(thread, message)
            continue
        if not message.wamid:
            continue  # refused by the API: the contact got nothing
        asked = waiting.pop(thread, None)
        if asked is None or not start <= asked.created_at < end:
            continue
        waited = message.created_at - asked.created_at
        if waited > RESPONSE_WINDOW:
            continue
        bucket = str(bucket_of(waited.total_seconds()))
        for key in keys_of(asked):
            figures = groups.get(key)
            if figures is not None:
                figures.responses[bucket] = figures.responses.get(bucket, 0) + 1


# -- a report from days --------------------------------------------------------------------------


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` to four places; None when ``whole`` is 0."""
    return round(part / whole, 4) if whole else None


def group_key(grouping: str, dimension_key: str, day: date) -> str:
    """The report row a stored (day, key) belongs to under ``grouping``."""
    if grouping == "day":
        return day.isoformat()
    if grouping == "week":
        return week_of(day).isoformat()
    return dimension_key


def dimension_for(grouping: str) -> str:
    """The stored dimension a grouping reads (days and weeks read the whole account's)."""
    return "all" if grouping in ("day", "week") else grouping


@dataclass(frozen=True)
class RateCard:
    """Prices per message: (market, category) -> price, in one currency; "*" is any market."""

    currency: str
    prices: Mapping[tuple[str, str], float]

    def price(self, country: str, category: str) -> float | None:
        for key in ((country, category), ("*", category)):
            if key in self.prices:
                return self.prices[key]
        return None


def cost_of(billed: Mapping[str, int], card: RateCard | None) -> tuple[float | None, int]:
    """What billable messages cost on ``card``, and how many it has no price for."""
    if card is None:
        return None, sum(billed.values())
    total = 0.0
    unpriced = 0
    for slot, count in billed.items():
        country, _, category = slot.partition("|")
        price = card.price(country, category)
        if price is None:
            unpriced += count
        else:
            total += price * count
    return round(total, 4), unpriced


FREE_CATEGORIES = frozenset({"service"})  # free-form messages inside the customer-service window


def cost_estimate(planned: Mapping[str, int], card: RateCard) -> dict[str, Any]:
    """What messages still to send would cost on ``card``, per country and pricing category.

    ``planned`` maps "country|category" to messages, as ``Figures.billed`` does; a ``service``
    message (free-form text inside the window) is free. ``unpriced``: messages the card has no
    price for, left out of ``total``.
    """
    billable = {slot: n for slot, n in planned.items() if slot.partition("|")[2] not in FREE_CATEGORIES}
    total, unpriced = cost_of(billable, card)
    by = []
    for slot in sorted(planned):
        country, _, category = slot.partition("|")
        price = 0.0 if category in FREE_CATEGORIES else card.price(country, category)
        messages = planned[slot]
        cost = None if price is None else round(price * messages, 4)
        by.append(
            {"country": country or None, "category": category, "messages": messages, "price": price, "cost": cost}
        )
    return {
        "currency": card.currency,
        "total": total,
        "priced": sum(planned.values()) - unpriced,
        "unpriced": unpriced,
        "by": by,
    }


def by_category(billed: Mapping[str, int], freed: Mapping[str, int]) -> dict[str, dict[str, int]]:
    """Billable and free messages per pricing category."""
    result: dict[str, dict[str, int]] = {}
    for slot, count in billed.items():
        category = slot.partition("|")[2] or "unknown"
        result.setdefault(category, {"billable": 0, "free": 0})["billable"] += count
    for slot, count in freed.items():
        category = slot.partition("|")[0] or "unknown"
        result.setdefault(category, {"billable": 0, "free": 0})["free"] += count
    return dict(sorted(result.items()))


def top_errors(errors: Mapping[str, Sequence[Any]], limit: int = 5) -> list[dict[str, Any]]:
    """The most frequent error codes, with their titles."""
    ranked = sorted(errors.items(), key=lambda item: (-int(item[1][0]), item[0]))[:limit]
    return [{"code": int(code), "title": title, "count": int(count)} for code, (count, title) in ranked]


def tiers_left(points: Iterable[tuple[date, str, int]]) -> list[dict[str, Any]]:
    """Per country and pricing category, the volume of the latest month Meta reported tiers for,
    its current tier (bounds inclusive, "0:MAX" has no next) and how many messages to the next one.

    ``points``: (day, "country|category|type|tier", volume) of ``pricing_analytics``.
    """
    latest = max(((day.year, day.month) for day, _, _ in points), default=None)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for day, key, volume in points:
        if (day.year, day.month) != latest:
            continue
        country, category, _, tier = key.split("|")
        entry = found.setdefault((country, category), {"country": country, "category": category, "volume": 0})
        entry["volume"] += volume
        entry["tier"] = tier
    for entry in found.values():
        upper = entry["tier"].partition(":")[2]
        entry["to_next_tier"] = max(0, int(upper) + 1 - entry["volume"]) if upper.isdigit() else None
    return [found[key] for key in sorted(found)]
