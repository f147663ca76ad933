"""`waba flow metrics`: an endpoint flow's health figures, one row per period.

Meta keeps five endpoint metrics per flow (§6), each its own call: requests, errors by kind, error
rate (a *string* decimal), latency as counts per whole-second bucket, availability as succeeded /
failed. ``combine`` lines them up by timestamp into one row per period with the figures an
operator reads: requests, errors, error rate, median and p90 latency, availability. Only flows
with an endpoint have metrics: a flow known to have none is refused before any call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from waba_cli.errors import UsageError, ValidationError
from waba_cli.services.flows.lifecycle import with_api
from waba_cli.services.flows.store import require_flow
from waba_cli.services.messages import since as since_moment

if TYPE_CHECKING:
    from waba_cli.graph.api import GraphAPI
    from waba_cli.services.context import CommandContext

# short name -> Meta's metric name
METRICS = {
    "requests": "ENDPOINT_REQUEST_COUNT",
    "errors": "ENDPOINT_REQUEST_ERROR",
    "error_rate": "ENDPOINT_REQUEST_ERROR_RATE",
    "latency": "ENDPOINT_REQUEST_LATENCY_SECONDS_CEIL",
    "availability": "ENDPOINT_AVAILABILITY",
}
GRANULARITIES = ("DAY", "HOUR", "LIFETIME")
LOOKBACK = {"DAY": timedelta(days=90), "HOUR": timedelta(days=30)}


@dataclass
class MetricRow:
    """One period's figures (None: that metric was not asked for, or Meta had no point)."""

    at: str
    requests: int | None = None
    errors: int | None = None
    error_rate: float | None = None
    latency_p50: int | None = None  # seconds, the ceiling of the bucket
    latency_p90: int | None = None
    availability: float | None = None  # succeeded / (succeeded + failed)
    errors_by_kind: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "requests": self.requests,
            "errors": self.errors,
            "error_rate": self.error_rate,
            "latency_p50_s": self.latency_p50,
            "latency_p90_s": self.latency_p90,
            "availability": self.availability,
            "errors_by_kind": self.errors_by_kind,
        }


@dataclass
class FlowMetrics:
    flow: str
    granularity: str
    metrics: list[str]
    rows: list[MetricRow]

    def as_json(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "granularity": self.granularity,
            "metrics": self.metrics,
            "rows": [r.as_json() for r in self.rows],
        }


def metric_names(chosen: Sequence[str]) -> list[str]:
    """Meta's names of the metrics asked for (short or Meta's own names); all of them by default."""
    names = []
    for item in chosen or list(METRICS):
        key = item.strip().lower()
        meta = METRICS.get(key) or (item.strip().upper() if item.strip().upper() in METRICS.values() else None)
        if meta is None:
            raise ValidationError("--metric", f"unknown metric {item!r}: one of {', '.join(METRICS)}")
        if meta not in names:
            names.append(meta)
    return names


def flow_metrics(
    context: CommandContext,
    ref: str,
    *,
    metrics: Sequence[str] = (),
    granularity: str = "DAY",
    since: str | None = None,
    until: str | None = None,
) -> FlowMetrics:
    """`waba flow metrics`: the chosen metrics of an endpoint flow, one row per period."""
    names = metric_names(metrics)
    granularity = granularity.upper()
    if granularity not in GRANULARITIES:
        raise ValidationError("--granularity", f"must be one of {', '.join(GRANULARITIES)}")
    now = datetime.now(UTC)
    start = since_moment(since, now) if since else None
    end = since_moment(until, now) if until else None
    if start is not None and granularity in LOOKBACK and start < now - LOOKBACK[granularity]:
        days = LOOKBACK[granularity].days
        raise ValidationError("--since", f"{granularity} metrics go back {days} days at most")
    account = context.account
    with context.db.session() as session:
        flow = require_flow(session, account, ref)
        flow_id, name = str(flow.flow_id), flow.name
        known = flow.synced_at is not None or flow.flow_json is not None
        no_endpoint = known and not flow.endpoint_uri and not flow.data_api_version
    if no_endpoint:
        raise UsageError(f"flow {ref!r} has no endpoint: Meta keeps metrics only for endpoint flows")

    async def fetch(api: GraphAPI) -> dict[str, dict[str, Any]]:
        return {
            metric: await api.flow_metric(
                flow_id,
                metric,
                granularity=granularity,
                since=start.strftime("%Y-%m-%d") if start else None,
                until=end.strftime("%Y-%m-%d") if end else None,
            )
            for metric in names
        }

    return FlowMetrics(name, granularity, names, combine(with_api(context, fetch)))


def combine(answers: Mapping[str, Mapping[str, Any]]) -> list[MetricRow]:
    """Meta's metric answers (by metric name) as one row per timestamp, oldest first."""
    rows: dict[str, MetricRow] = {}
    for metric, answer in answers.items():
        points = answer.get("data_points")
        for point in points if isinstance(points, list) else ():
            if not isinstance(point, Mapping):
                continue
            at = str(point.get("timestamp") or "")
            row = rows.setdefault(at, MetricRow(at))
            values = _values(point.get("data"))
            _fill(row, metric, values)
    return [rows[at] for at in sorted(rows)]


def _values(data: Any) -> dict[str, float]:
    values: dict[str, float] = {}
    for item in data if isinstance(data, list) else ():
        if isinstance(item, Mapping):
            try:
                values[str(item.get("key"))] = float(item.get("value"))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                continue
    return values


def _fill(row: MetricRow, metric: str, values: dict[str, float]) -> None:
    if metric == "ENDPOINT_REQUEST_COUNT":
        row.requests = int(values.get("value", 0))
    elif metric == "ENDPOINT_REQUEST_ERROR":
        row.errors_by_kind = {k: int(v) for k, v in values.items()}
        row.errors = sum(row.errors_by_kind.values())
    elif metric == "ENDPOINT_REQUEST_ERROR_RATE":
        row.error_rate = values.get("value")
    elif metric == "ENDPOINT_REQUEST_LATENCY_SECONDS_CEIL":
        row.latency_p50 = _percentile(values, 0.5)
        row.latency_p90 = _percentile(values, 0.9)
    elif metric == "ENDPOINT_AVAILABILITY":
        total = values.get("succeeded", 0) + values.get("failed", 0)
        row.availability = values.get("succeeded", 0) / total if total else None


def _percentile(buckets: dict[str, float], share: float) -> int | None:
    """The bucket (whole seconds) that holds the ``share`` quantile of the requests."""
    counted = sorted((int(k), v) for k, v in buckets.items() if k.isdigit())
    total = sum(v for _, v in counted)
    if not total:
        return None
    running = 0.0
    for seconds, count in counted:
        running += count
        if running >= share * total:
            return seconds
    return counted[-1][0]
