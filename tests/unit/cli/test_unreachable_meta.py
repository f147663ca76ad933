"""`waba account verify` while Meta cannot be reached: it gives up within graph.deadline_seconds
(WABA_GRAPH_DEADLINE) with one line saying what it tried, exit 1. On an injected clock: no real
waiting (the real-time runs, on a terminal and without, are in tests/stories)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.campaigns import FakeTime
from tests.unit.graph.test_deadline import refused
from waba_cli.services.context import CommandContext


@pytest.fixture
def unreachable(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """Every connection refused, on a fake clock that only waits move."""
    fake = FakeTime()

    def refuse(request: httpx.Request) -> httpx.Response:
        raise refused(request)

    monkeypatch.setattr(CommandContext, "transport", httpx.MockTransport(refuse))
    monkeypatch.setattr(CommandContext, "timing", {"clock": fake.clock, "sleep": fake.sleep})
    return fake


def _attempts(line: str) -> tuple[int, float]:
    found = re.search(r"(\d+) attempts in ([0-9.]+) s", line)
    assert found, line
    return int(found[1]), float(found[2])


def test_verify_gives_up_within_the_default_deadline_in_one_line(
    waba: Any, account: Any, unreachable: FakeTime
) -> None:
    result = waba("account", "verify")

    assert result.code == 1
    [line] = result.err.strip().splitlines()
    assert line.startswith("waba: Meta could not be reached: GET /debug_token at http://127.0.0.1:9")
    assert "(ConnectError: connection refused)" in line and "WABA_GRAPH_DEADLINE" in line
    attempts, seconds = _attempts(line)
    assert attempts >= 3 and seconds <= 15.0
    assert "Traceback" not in result.err and result.out == ""


def test_the_deadline_is_configurable(
    waba: Any, account: Any, unreachable: FakeTime, monkeypatch: pytest.MonkeyPatch, isolated: Path
) -> None:
    monkeypatch.setenv("WABA_GRAPH_DEADLINE", "3")
    _, seconds = _attempts(waba("account", "verify").err)
    assert seconds <= 3.0

    monkeypatch.delenv("WABA_GRAPH_DEADLINE")
    (isolated / "config.toml").write_text("[graph]\ndeadline_seconds = 40\nmax_retries = 20\n")
    _, seconds = _attempts(waba("account", "verify").err)
    assert 15.0 < seconds <= 40.0


@pytest.mark.parametrize("value", ["soon", "0", "-5", "inf"])
def test_a_bad_deadline_is_exit_2(waba: Any, account: Any, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("WABA_GRAPH_DEADLINE", value)
    result = waba("account", "verify")
    assert result.code == 2
    assert "WABA_GRAPH_DEADLINE" in result.err and "seconds" in result.err
