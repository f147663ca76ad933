"""The notification POST: JSON, a bounded number of attempts for what may pass, none for the rest."""

from __future__ import annotations

import asyncio
import json

import httpx

from waba_cli.graph.notify import post_json


def _post(answers: list[int]) -> tuple[object, list[httpx.Request], list[float]]:
    seen: list[httpx.Request] = []
    slept: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(answers.pop(0) if answers else 200)

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    delivery = asyncio.run(
        post_json("https://hooks.example.com/x", {"text": "hi"}, sleep=sleep, transport=httpx.MockTransport(handler))
    )
    return delivery, seen, slept


def test_a_5xx_is_tried_again_with_a_growing_pause() -> None:
    delivery, seen, slept = _post([503, 500])
    assert delivery.ok is True and delivery.attempts == 3
    assert json.loads(seen[0].content) == {"text": "hi"}
    assert seen[0].headers["content-type"] == "application/json"
    assert slept == [0.5, 1.0]


def test_a_4xx_is_final_and_three_failures_end_it() -> None:
    refused, seen, _ = _post([404])
    assert refused.ok is False and len(seen) == 1 and refused.error == "HTTP 404"
    failing, seen, _ = _post([500, 500, 500, 500])
    assert failing.ok is False and len(seen) == 3
