"""A campaign against a number that answers 130429 above its real limit settles near that limit."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

from tests.campaigns.world import MESSAGES_URL, phones, quick_backoff, templates, write_csv
from waba_cli.services import campaigns

__all__ = ["quick_backoff", "templates"]  # fixtures


class ThrottledNumber:
    """Meta's per-number throughput: a token bucket of ``limit``/s; a send without a token gets 130429."""

    def __init__(self, limit: float, burst: float) -> None:
        self.limit = limit
        self.burst = burst
        self.tokens = burst
        self.at = time.monotonic()
        self.accepted: list[float] = []
        self.throttled = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.limit)
        self.at = now
        if self.tokens < 1:
            self.throttled += 1
            error = {"message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429}
            return httpx.Response(400, json={"error": error})
        self.tokens -= 1
        self.accepted.append(now)
        to = json.loads(request.content)["to"]
        return httpx.Response(
            200, json={"contacts": [{"wa_id": to}], "messages": [{"id": f"wamid.T{len(self.accepted)}"}]}
        )


def test_a_rate_far_above_the_numbers_limit_settles_near_the_limit(
    waba: Any, graph: Any, templates: None, tmp_path: Path
) -> None:
    limit = 40.0
    number = ThrottledNumber(limit, burst=4)
    graph.post(MESSAGES_URL).mock(side_effect=number.handle)
    csv_path = write_csv(tmp_path / "many.csv", "phone,1,2", [f"{n},Ana,1" for n in phones(100)])

    result = waba("send", "bulk", "--csv", str(csv_path), "--template", "order_update", "--rate", "400", "--json")

    assert result.code == 0, result.err
    data = result.json()
    assert (data["sent"], data["failed"]) == (100, 0)
    assert number.throttled > 0  # it did go too fast at first
    # the audit's run collapsed to 1/s (4/s on average): here the pace stays near the limit
    achieved = (len(number.accepted) - 1) / (number.accepted[-1] - number.accepted[0])
    assert achieved > 0.7 * limit, (achieved, number.throttled)


def test_a_steady_rate_below_the_limit_is_kept_within_five_percent(
    waba: Any, graph: Any, templates: None, tmp_path: Path
) -> None:
    number = ThrottledNumber(1000.0, burst=1000)  # never throttles
    graph.post(MESSAGES_URL).mock(side_effect=number.handle)
    csv_path = write_csv(tmp_path / "steady.csv", "phone,1,2", [f"{n},Ana,1" for n in phones(125)])

    result = waba("send", "bulk", "--csv", str(csv_path), "--template", "order_update", "--rate", "80", "--json")

    assert result.code == 0, result.err
    assert result.json()["sent"] == 125
    # the first few go at once (the bucket's burst); from there on, one every 1/80 s
    paced = number.accepted[campaigns.pacing_burst(80) - 1 :]
    achieved = (len(paced) - 1) / (paced[-1] - paced[0])
    assert abs(achieved - 80) < 80 * 0.05, achieved
