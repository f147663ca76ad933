"""A campaign that stops (131048, a token error, Ctrl-C) sends nothing more, and leaves no gap.

Senders already claimed but still waiting (for their pacing slot, or to retry a request that never
left) give their recipient back: ``pending`` again, and the attempt's message row ``failed`` as not
sent. Only a request actually out when the run ended is in doubt.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.campaigns import FakeMeta, order_csv, phones, recipients
from tests.support.messaging import outbound
from waba_cli.db.engine import Database
from waba_cli.services.campaigns import runner

CAMPAIGN = "customers-order_update"


def test_after_131048_queued_senders_send_nothing_more(
    waba: Any, meta: FakeMeta, db: Database, templates: Any, tmp_path: Path
) -> None:
    numbers = phones(40)
    meta.fail(numbers[0], 131048)
    answered: dict[str, int] = {}

    def hook(body: dict[str, Any]) -> None:
        if body["to"] == numbers[0]:
            answered["at"] = len(meta.requests)

    meta.hook = hook
    csv_path = order_csv(tmp_path, numbers)

    result = waba("send", "bulk", "--csv", str(csv_path), "--template", "order_update", "--rate", "20",
                  "--concurrency", "16", "--json")  # fmt: skip

    assert result.code == 1
    assert result.json()["stopped"] is True
    assert len(meta.requests) == answered["at"]  # not one request after Meta said 131048
    states = [r.state for r in recipients(db, CAMPAIGN)]
    assert "sending" not in states and "in_doubt" not in states
    assert states.count("accepted") == len(meta.requests) - 1


@pytest.mark.slow
def test_ctrl_c_while_senders_wait_to_retry_leaves_them_pending_not_in_doubt(
    waba: Any, meta: FakeMeta, db: Database, templates: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "RETRY_DELAY", 4.0)  # every sender is in its backoff when Ctrl-C comes
    numbers = phones(6)
    refused: list[str] = []

    def hook(body: dict[str, Any]) -> None:
        meta.requests.pop()  # the connection was refused: Meta never saw it
        refused.append(body["to"])
        if len(refused) == len(numbers):
            asyncio.get_running_loop().call_later(0.3, signal.raise_signal, signal.SIGINT)
        raise httpx.ConnectError("connection refused")

    meta.hook = hook
    csv_path = order_csv(tmp_path, numbers)

    interrupted = waba("send", "bulk", "--csv", str(csv_path), "--template", "order_update", "--rate", "0", "--json")

    assert interrupted.code == 130
    assert {r.state for r in recipients(db, CAMPAIGN)} == {"pending"}
    assert {(m.status, m.error_title) for m in outbound(db)} == {("failed", "not sent")}

    meta.hook = None
    again = waba("send", "bulk", "--csv", str(csv_path), "--template", "order_update", "--rate", "0", "--json")

    assert again.code == 0, again.err
    assert (again.json()["sent"], again.json()["in_doubt"]) == (6, 0)
    assert sorted(meta.to()) == sorted(numbers)
