"""`waba account verify` against a Graph API nobody listens on, in real time, as real processes: on
a terminal each retry is shown as it happens; piped, stderr holds the one final line; both give up
within the deadline (WABA_GRAPH_DEADLINE) with exit 1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from typing import Any

import pexpect
import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.backend_neutral,
]  # what is checked is the Graph client giving up, not the database

DEADLINE = 3.0
STARTUP = 10.0  # s a `waba` process may take to start (and exit) on a busy machine


@pytest.fixture
def closed_port(monkeypatch: pytest.MonkeyPatch) -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("WABA_GRAPH_BASE_URL", url)
    monkeypatch.setenv("WABA_GRAPH_DEADLINE", str(DEADLINE))
    return url


def test_piped_the_one_line_comes_within_the_deadline(account: Any, closed_port: str) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "waba_cli", "account", "verify"], capture_output=True, text=True, timeout=60, check=False
    )
    took = time.monotonic() - started

    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"waba: Meta could not be reached: GET /debug_token at {closed_port}")
    assert "(ConnectError: connection refused)" in done.stderr
    assert took < DEADLINE + STARTUP


def test_on_a_terminal_each_retry_is_shown_as_it_happens(account: Any, closed_port: str) -> None:
    started = time.monotonic()
    child = pexpect.spawn(
        sys.executable, ["-m", "waba_cli", "account", "verify"], env=dict(os.environ), encoding="utf-8", timeout=30
    )
    child.expect(r"retrying in \d+ s \(connection refused\): attempt 2 of 6")
    first_retry = time.monotonic()
    child.expect("Meta could not be reached")
    gave_up = time.monotonic()
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 1
    assert first_retry - started < STARTUP  # shown before the wait, not after the whole thing
    assert gave_up - first_retry < DEADLINE + 1.0  # the retries, from the first failure on
