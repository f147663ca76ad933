"""`waba flow metrics`: Meta's five endpoint metrics, one call each, lined up per period."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import respx

from tests.support.flows import BOOKING_ID, WABA, meta_flow
from waba_cli.services.flows.metrics import combine, metric_names

AT = "2026-11-28T08:00:00+0000"
ANSWERS = {
    "ENDPOINT_REQUEST_COUNT": [{"key": "value", "value": 100}],
    "ENDPOINT_REQUEST_ERROR": [
        {"key": "timeout_error", "value": 3},
        {"key": "unexpected_http_status_code", "value": 2},
    ],
    "ENDPOINT_REQUEST_ERROR_RATE": [{"key": "value", "value": "0.05"}],
    "ENDPOINT_REQUEST_LATENCY_SECONDS_CEIL": [
        {"key": "1", "value": 70},
        {"key": "2", "value": 25},
        {"key": "7", "value": 5},
    ],
    "ENDPOINT_AVAILABILITY": [{"key": "succeeded", "value": 713}, {"key": "failed", "value": 335}],
}


def _metric_answer(request: httpx.Request) -> httpx.Response:
    fields = request.url.params["fields"]
    name = fields.split("metric.name(")[1].split(")")[0]
    metric = {"name": name, "granularity": "DAY", "data_points": [{"timestamp": AT, "data": ANSWERS[name]}]}
    return httpx.Response(200, json={"id": BOOKING_ID, "metric": metric})


def _synced(waba: Any, graph: respx.MockRouter, **fields: Any) -> None:
    graph.get(f"/{WABA}/flows").mock(
        return_value=httpx.Response(200, json={"data": [meta_flow(BOOKING_ID, "booking", "PUBLISHED", **fields)]})
    )
    assert waba("flow", "sync").code == 0


def test_metrics_ask_each_metric_and_combine_them_per_period(
    waba: Any, account: Any, graph: respx.MockRouter, tmp_path: Path
) -> None:
    _synced(waba, graph, endpoint_uri="https://flows.example.com/endpoint", data_api_version="3.0")
    route = graph.get(f"/{BOOKING_ID}").mock(side_effect=_metric_answer)

    result = waba("flow", "metrics", "booking", "--granularity", "day", "--since", "2026-11-27", "--json")

    assert result.code == 0, result.err
    assert route.call_count == 5
    assert route.calls[0].request.url.params["fields"] == (
        "metric.name(ENDPOINT_REQUEST_COUNT).granularity(DAY).since(2026-11-27)"
    )
    [row] = result.json()["rows"]
    assert row == {
        "at": AT,
        "requests": 100,
        "errors": 5,
        "error_rate": 0.05,
        "latency_p50_s": 1,
        "latency_p90_s": 2,
        "availability": 713 / 1048,
        "errors_by_kind": {"timeout_error": 3, "unexpected_http_status_code": 2},
    }
    table = waba("flow", "metrics", "booking", "--metric", "availability", "--metric", "requests")
    assert table.code == 0 and "68.0%" in table.out
    chart = waba("flow", "metrics", "booking", "--chart")
    assert chart.code == 0 and "100 requests, 5 errors" in chart.out


def test_metrics_of_a_flow_without_endpoint_are_refused_locally(
    waba: Any, account: Any, graph: respx.MockRouter
) -> None:
    _synced(waba, graph)
    route = graph.get(f"/{BOOKING_ID}").mock(side_effect=_metric_answer)

    result = waba("flow", "metrics", "booking")

    assert result.code == 2 and "has no endpoint" in result.err
    assert route.call_count == 0


def test_bad_metric_and_granularity_are_exit_2(waba: Any, account: Any, graph: respx.MockRouter) -> None:
    _synced(waba, graph, endpoint_uri="https://x.example")
    assert waba("flow", "metrics", "booking", "--metric", "speed").code == 2
    assert waba("flow", "metrics", "booking", "--granularity", "WEEK").code == 2
    assert waba("flow", "metrics", "booking", "--granularity", "HOUR", "--since", "60d").code == 2


def test_metric_names_take_short_and_meta_names() -> None:
    assert metric_names(["latency", "ENDPOINT_AVAILABILITY", "latency"]) == [
        "ENDPOINT_REQUEST_LATENCY_SECONDS_CEIL",
        "ENDPOINT_AVAILABILITY",
    ]
    assert len(metric_names([])) == 5


def test_combine_keeps_periods_apart_and_in_order() -> None:
    answers = {
        "ENDPOINT_REQUEST_COUNT": {
            "data_points": [
                {"timestamp": "2026-11-29T00:00:00+0000", "data": [{"key": "value", "value": 2}]},
                {"timestamp": "2026-11-28T00:00:00+0000", "data": [{"key": "value", "value": 1}]},
            ]
        },
        "ENDPOINT_AVAILABILITY": {"data_points": [{"timestamp": "2026-11-28T00:00:00+0000", "data": []}]},
    }
    rows = combine(answers)
    assert [(r.at[:10], r.requests, r.availability) for r in rows] == [("2026-11-28", 1, None), ("2026-11-29", 2, None)]
