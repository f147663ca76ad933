"""Analytics (§5.4): the WABA's ``analytics``, ``pricing_analytics`` and ``conversation_analytics``
fields and its ``template_analytics`` edge, counted from the messages the sandbox saw."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from waba_cli.sandbox.auth import MANAGEMENT, require_scope
from waba_cli.sandbox.errors import bad_param, missing
from waba_cli.sandbox.params import parse_list
from waba_cli.sandbox.rules.pricing import PRICES

if TYPE_CHECKING:
    from waba_cli.sandbox.runtime import Call, Runtime
    from waba_cli.sandbox.state import Message, Waba


def _messages_of(sandbox: Runtime, waba: Waba, start: int, end: int, numbers: list[str] | None) -> list[Message]:
    ids = {n.id for n in sandbox.state.numbers_of(waba.id) if not numbers or n.digits in numbers}
    return [m for m in sandbox.state.messages.values() if m.phone_number_id in ids and start <= m.created_at < end]


def analytics(sandbox: Runtime, waba: Waba, modifiers: dict[str, str]) -> dict[str, Any]:
    start, end = _span(modifiers)
    granularity = modifiers.get("granularity", "")
    if granularity not in ("HALF_HOUR", "DAY", "MONTH"):
        raise bad_param("Param granularity must be one of {HALF_HOUR, DAY, MONTH}.")
    numbers = parse_list(modifiers["phone_numbers"]) if "phone_numbers" in modifiers else []
    products = parse_list(modifiers.get("product_types", "[0,2]"))
    countries = parse_list(modifiers["country_codes"]) if "country_codes" in modifiers else []
    points: dict[int, dict[str, Any]] = {}
    for bucket_start, bucket_end in _buckets(start, end, granularity):
        points[bucket_start] = {"start": bucket_start, "end": bucket_end, "sent": 0, "delivered": 0}
    for message in _messages_of(sandbox, waba, start, end, numbers):
        product = "100" if message.direction == "in" else ("0" if message.type == "template" else "2")
        if product not in products or (countries and message.country not in countries):
            continue
        bucket = _bucket_of(message.created_at, granularity)
        point = points.get(bucket)
        if point is None:
            point = {"start": bucket, "end": _bucket_end(bucket, granularity), "sent": 0, "delivered": 0}
            points[bucket] = point
        point["sent"] += 1
        if message.status in ("delivered", "read", "received"):
            point["delivered"] += 1
    result: dict[str, Any] = {
        "phone_numbers": numbers or [n.digits for n in sandbox.state.numbers_of(waba.id)],
        "granularity": granularity,
        "data_points": sorted(points.values(), key=lambda p: p["start"]),
    }
    if countries:
        result["country_codes"] = countries
    return result


def pricing_analytics(  # noqa: PLR0912 - one branch per dimension
    sandbox: Runtime, waba: Waba, modifiers: dict[str, str], *, conversation: bool
) -> dict[str, Any]:
    start, end = _span(modifiers)
    granularity = modifiers.get("granularity", "")
    allowed = ("HALF_HOUR", "DAILY", "MONTHLY")
    if granularity not in allowed:
        raise bad_param(f"Param granularity must be one of {{{', '.join(allowed)}}}.")
    step = {"HALF_HOUR": "HALF_HOUR", "DAILY": "DAY", "MONTHLY": "MONTH"}[granularity]
    numbers = parse_list(modifiers["phone_numbers"]) if "phone_numbers" in modifiers else []
    dimensions = {d.upper() for d in parse_list(modifiers.get("dimensions", "[]"))}
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for message in _messages_of(sandbox, waba, start, end, numbers):
        if message.direction != "out" or message.status == "failed":
            continue
        bucket = _bucket_of(message.created_at, step)
        bucket_end = _bucket_end(bucket, step)
        category = (message.category or "service").upper()
        pricing_type = (message.pricing_type or "regular").upper()
        point: dict[str, Any] = {"start": bucket, "end": bucket_end}
        number = sandbox.state.phone_numbers[message.phone_number_id]
        if "COUNTRY" in dimensions:
            point["country"] = message.country
        if "PHONE" in dimensions:
            point["phone_number"] = number.digits
        if conversation:
            if "CONVERSATION_CATEGORY" in dimensions:
                point["conversation_category"] = category
            if "CONVERSATION_TYPE" in dimensions:
                point["conversation_type"] = "FREE_TIER" if pricing_type != "REGULAR" else "REGULAR"
            if "CONVERSATION_DIRECTION" in dimensions:
                point["conversation_direction"] = (
                    "BUSINESS_INITIATED" if message.type == "template" else "USER_INITIATED"
                )
        else:
            if "PRICING_CATEGORY" in dimensions:
                point["pricing_category"] = category
            if "PRICING_TYPE" in dimensions:
                point["pricing_type"] = pricing_type
            if "TIER" in dimensions and pricing_type == "REGULAR":
                point["tier"] = "0:MAX" if category == "MARKETING" else "0:750000"
        key = tuple(sorted(point.items()))
        group = groups.setdefault(key, {**point, ("conversation" if conversation else "volume"): 0, "cost": 0.0})
        group["conversation" if conversation else "volume"] += 1
        price = PRICES.get(category.lower(), 0.0) if pricing_type == "REGULAR" else 0.0
        group["cost"] = round(group["cost"] + price, 4)
    return {"data": [{"data_points": sorted(groups.values(), key=lambda p: p["start"])}]}


async def template_analytics(sandbox: Runtime, call: Call) -> dict[str, Any]:  # noqa: PLR0912 - one per metric
    require_scope(call, MANAGEMENT)
    waba: Waba = call.obj
    if not waba.is_enabled_for_insights:
        raise bad_param("Template analytics are not enabled: POST /{waba-id}?is_enabled_for_insights=true first.")
    params = call.params
    start, end = _day_or_unix(params.get("start"), "start"), _day_or_unix(params.get("end"), "end")
    if params.get("granularity", "DAILY") != "DAILY":
        raise bad_param("Param granularity must be DAILY.")
    ids = parse_list(str(params.get("template_ids") or ""))
    if not ids:
        raise missing("template_ids")
    if len(ids) > 10:
        raise bad_param("Param template_ids takes at most 10 template ids.")
    metrics = {m.upper() for m in parse_list(str(params.get("metric_types") or "SENT,DELIVERED,READ"))}
    points: list[dict[str, Any]] = []
    by_key: dict[tuple[str, int], dict[str, Any]] = {}
    for message in _messages_of(sandbox, waba, start, end, None):
        if message.template_id not in ids:
            continue
        day = _bucket_of(message.created_at, "DAY")
        point = by_key.get((message.template_id, day))
        if point is None:
            point = {"template_id": message.template_id, "start": day, "end": day + 86400}
            for metric in ("SENT", "DELIVERED", "READ"):
                if metric in metrics:
                    point[metric.lower()] = 0
            if "CLICKED" in metrics:
                point["clicked"] = []
            if "COST" in metrics:
                point["cost"] = [{"type": "amount_spent", "value": 0.0}]
            by_key[(message.template_id, day)] = point
            points.append(point)
        reached = {"SENT": message.status != "failed", "DELIVERED": message.status in ("delivered", "read")}
        reached["READ"] = message.status == "read"
        for metric, hit in reached.items():
            if hit and metric in metrics:
                point[metric.lower()] += 1
        if "COST" in metrics and message.pricing_type == "regular" and message.status != "failed":
            point["cost"][0]["value"] = round(point["cost"][0]["value"] + PRICES.get(message.category or "", 0.0), 4)
    return {
        "data": [{"granularity": "DAILY", "product_type": "cloud_api", "data_points": points}],
        "paging": {"cursors": {"before": "MAZDZD", "after": "MjQZD"}},
    }


def _span(modifiers: dict[str, str]) -> tuple[int, int]:
    try:
        start, end = int(modifiers["start"]), int(modifiers["end"])
    except KeyError as exc:
        raise missing(str(exc.args[0])) from None
    except ValueError:
        raise bad_param("Params start and end must be unix timestamps.") from None
    if end <= start:
        raise bad_param("Param end must be after start.")
    return start, end


def _day_or_unix(value: Any, name: str) -> int:
    if value is None or value == "":
        raise missing(name)
    text = str(value)
    if text.isdigit():
        return int(text)
    try:
        return int(datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC).timestamp())
    except ValueError:
        raise bad_param(f"Param {name} must be a unix timestamp or YYYY-MM-DD.") from None


def _bucket_of(at: float, granularity: str) -> int:
    if granularity == "HALF_HOUR":
        return int(at) // 1800 * 1800
    if granularity == "DAY":
        return int(at) // 86400 * 86400
    day = datetime.fromtimestamp(at, UTC)
    return int(datetime(day.year, day.month, 1, tzinfo=UTC).timestamp())


def _bucket_end(start: int, granularity: str) -> int:
    if granularity == "HALF_HOUR":
        return start + 1800
    if granularity == "DAY":
        return start + 86400
    first = datetime.fromtimestamp(start, UTC)
    year, month = (first.year + 1, 1) if first.month == 12 else (first.year, first.month + 1)
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp())


def _buckets(start: int, end: int, granularity: str) -> list[tuple[int, int]]:
    """The periods between start and end (at most 1,000: longer spans list only periods with data)."""
    buckets: list[tuple[int, int]] = []
    current = _bucket_of(start, granularity)
    while current < end and len(buckets) < 1000:
        following = _bucket_end(current, granularity)
        buckets.append((current, following))
        current = following
    return buckets
