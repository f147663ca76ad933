"""Running the sandbox: fault injection, rate limits, bench mode, stopping and keeping state."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.sandbox import PNID, TOKEN, WABA, Receiver
from waba_cli.graph.client import Credentials, GraphClient
from waba_cli.graph.errors import GraphError

TEXT = {"to": "+15551230401", "type": "text", "text": {"body": "hi"}}


@pytest.mark.slow
def test_error_rate_answers_transient_server_errors(start_sandbox: Any) -> None:
    sandbox = start_sandbox("--error-rate", "1", "--seed", "7")
    statuses = set()
    for _ in range(6):
        response = sandbox.client.get(f"/{WABA}")
        statuses.add(response.status_code)
        error = response.json()["error"]
        assert error["is_transient"] is True
        assert error["code"] in (2, 131000)
    assert statuses <= {500, 503}


@pytest.mark.slow
def test_throttle_rate_answers_130429_and_waba_retries_it(start_sandbox: Any) -> None:
    sandbox = start_sandbox("--throttle-rate", "1")
    response = sandbox.send(TEXT)
    assert response.json()["error"]["code"] == 130429

    async def send_with_retries() -> None:
        client = GraphClient(Credentials(TOKEN), base_url=sandbox.url, max_retries=2, retry_max_wait=0.01)
        async with client:
            await client.post(f"{PNID}/messages", json={"messaging_product": "whatsapp", **TEXT})

    started = time.monotonic()
    with pytest.raises(GraphError) as failure:
        asyncio.run(send_with_retries())
    assert failure.value.code == 130429
    assert failure.value.retryable
    assert time.monotonic() - started < 10


@pytest.mark.slow
def test_latency_slows_every_answer(start_sandbox: Any) -> None:
    sandbox = start_sandbox("--latency-ms", "300")
    started = time.monotonic()
    assert sandbox.client.get(f"/{PNID}").status_code == 200
    assert time.monotonic() - started >= 0.3


@pytest.mark.slow
def test_throughput_limit_of_a_standard_number_gives_130429(start_sandbox: Any) -> None:
    sandbox = start_sandbox()

    async def burst() -> list[int]:
        async with httpx.AsyncClient(
            base_url=f"{sandbox.url}/v23.0", headers={"Authorization": f"Bearer {TOKEN}"}
        ) as client:
            bodies = [
                {"messaging_product": "whatsapp", "to": f"+1555124{i:04d}", "type": "text", "text": {"body": "x"}}
                for i in range(200)
            ]
            answers = await asyncio.gather(*(client.post(f"/{PNID}/messages", json=b) for b in bodies))
            return [a.json().get("error", {}).get("code", 0) for a in answers]

    codes = asyncio.run(burst())
    assert codes.count(0) >= 80  # the burst Meta allows a STANDARD number
    assert 130429 in codes


@pytest.mark.slow
def test_pair_rate_limit_gives_131056(start_sandbox: Any) -> None:
    sandbox = start_sandbox()
    codes = []
    for _ in range(50):
        codes.append(sandbox.send(TEXT).json().get("error", {}).get("code", 0))
        time.sleep(0.013)  # stay under the number's 80/s
    assert codes[:45] == [0] * 45
    assert 131056 in codes[45:]


@pytest.mark.slow
def test_bench_mode_counts_sends_and_sends_no_webhooks(start_sandbox: Any, receiver: Receiver) -> None:
    sandbox = start_sandbox("--bench", "--webhook-url", receiver.url, "--status-delay", "0.01")
    for _ in range(100):  # beyond the pair and throughput limits: bench mode has none
        assert sandbox.send(TEXT).status_code == 200
    assert sandbox.client.get(f"{sandbox.url}/_sandbox/sent").json() == {
        "total": 100,
        "by_recipient": {"15551230401": 100},
    }
    time.sleep(0.3)
    assert receiver.deliveries.empty()


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_ends_it_gracefully_with_exit_0(start_sandbox: Any, stop: signal.Signals) -> None:
    sandbox = start_sandbox()
    sandbox.process.send_signal(stop)
    assert sandbox.wait() == 0
    assert "waba sandbox: stopped" in "".join(sandbox.lines)


@pytest.mark.slow
def test_state_file_keeps_the_world_across_restarts(start_sandbox: Any, tmp_path: Path) -> None:
    state = tmp_path / "sandbox.json"
    first = start_sandbox("--state", str(state))
    created = first.client.post(
        f"/{WABA}/message_templates",
        json={
            "name": "kept_notice",
            "language": "en",
            "category": "UTILITY",
            "components": [{"type": "BODY", "text": "Your parcel is kept for you."}],
        },
    ).json()
    assert first.client.post(f"/{PNID}", json={"pin": "135790"}).json() == {"success": True}
    assert first.stop() == 0
    second = start_sandbox("--state", str(state))
    template = second.client.get(f"/{created['id']}", params={"fields": "name"}).json()
    assert template["name"] == "kept_notice"
    assert second.client.get(f"/{PNID}", params={"fields": "is_pin_enabled"}).json()["is_pin_enabled"] is True


def test_serve_refuses_bad_flags(waba: Any) -> None:
    assert waba("sandbox", "serve", "--error-rate", "1.5").code == 2
    assert waba("sandbox", "serve", "--webhook-url", "ftp://x").code == 2


@pytest.mark.slow
def test_verbose_logs_one_line_per_request_with_the_error_code(start_sandbox: Any) -> None:
    sandbox = start_sandbox("--verbose")
    sandbox.send({"type": "text", "text": {"body": "no recipient"}})
    assert sandbox.stop() == 0
    assert f"<-- POST /v23.0/{PNID}/messages [400 (#131008)]" in "".join(sandbox.lines)
