"""A campaign killed (SIGKILL) or interrupted (Ctrl-C) and run again: no recipient twice, none forgotten.

Real processes: `waba sandbox serve --bench` and `waba send bulk`, as an operator runs them.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from tests.benchmarks.bulk_world import crash_and_resume, world, write_csv

pytestmark = pytest.mark.slow


def test_sigkill_mid_campaign_then_the_same_command_sends_each_recipient_once(database_url: str) -> None:
    concurrency = 16
    with world(database_url) as (sandbox, home):
        check = crash_and_resume(sandbox, home, 1500, concurrency=concurrency, rate=0, kill_at=0.3)

    assert check.exit_codes == (-9, 0), "the first run must die mid-campaign and the second finish"
    assert 0 < check.received_before_kill < check.recipients
    assert check.duplicates == []
    assert check.in_doubt_twice == []
    assert check.in_doubt <= concurrency
    assert check.recipients - check.in_doubt <= check.received <= check.recipients
    assert check.summary["in_doubt"] == check.in_doubt
    assert check.summary["sent"] + check.summary["skipped"] + check.in_doubt == check.recipients


def test_ctrl_c_lets_requests_in_flight_finish_and_the_same_command_completes(database_url: str) -> None:
    with world(database_url) as (sandbox, home):
        command = home.bulk_command(write_csv(home.dir / "c.csv", 400), "--rate", "100", "--json")
        first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=home.env)
        deadline = time.monotonic() + 30
        while sandbox.sent()["total"] < 20 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.02)
        first.send_signal(signal.SIGINT)
        out, err = first.communicate(timeout=30)
        received = sandbox.sent()["total"]
        second = subprocess.run(command, capture_output=True, text=True, env=home.env, check=False, timeout=60)
        by_recipient = sandbox.sent()["by_recipient"]

    assert first.returncode == 130
    assert "interrupted" in err
    assert 20 <= received < 400
    # --json still gets its one document: what the interrupted run did
    interrupted = json.loads(out)
    assert (interrupted["stopped"], interrupted["reason"]) == (True, "interrupted")
    assert interrupted["sent"] + interrupted["in_doubt"] == received
    summary = json.loads(second.stdout)
    assert second.returncode == 0, second.stderr
    assert (summary["sent"], summary["skipped"], summary["in_doubt"]) == (400 - received, received, 0)
    assert len(by_recipient) == 400
    assert set(by_recipient.values()) == {1}
