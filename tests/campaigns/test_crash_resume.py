"""A campaign killed with SIGKILL and run again: no recipient twice, none forgotten (real processes)."""

from __future__ import annotations

import pytest

from tests.benchmarks.bulk_world import crash_and_resume, world

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
