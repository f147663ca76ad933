"""A 200 is a promise: SIGKILL under load loses no acknowledged delivery; SIGTERM flushes and exits 0.

Real servers in subprocesses, under load: slow, run serially after the rest, and every wait is
generous (a start takes 1-2 s on an idle machine, many times that on a busy one)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from tests.support.webhook import PHONE_NUMBER_ID, envelope, free_port, sign, start_process
from waba_cli.db.models.messages import Message, MessageStatus
from waba_cli.db.models.webhooks import WebhookEvent

EVENTS = WebhookEvent.__table__  # type: ignore[attr-defined]
MESSAGES = Message.__table__  # type: ignore[attr-defined]
HISTORY = MessageStatus.__table__  # type: ignore[attr-defined]
WAIT = 90  # s: the longest any step may take (start, a writer replaced, an exit)

pytestmark = pytest.mark.slow


def delivery(number: int) -> bytes:
    """An inbound text and a status for an earlier one: what a busy number receives."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550134567", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Load"}, "wa_id": "5511987654321"}],
        "messages": [
            {
                "from": "5511987654321",
                "id": f"wamid.load-{number}",
                "timestamp": "1750700001",
                "type": "text",
                "text": {"body": f"message {number}"},
            }
        ],
        "statuses": [{"id": f"wamid.out-{number}", "status": "delivered", "timestamp": "1750700002"}],
    }
    return envelope({"field": "messages", "value": value})


async def load(port: int, acknowledged: list[int], stop: asyncio.Event, start_at: int, connections: int = 16) -> None:
    """POST deliveries until ``stop`` is set or the server is gone; record those answered 200."""
    counter = iter(range(start_at, start_at + 10**7))
    url = f"http://127.0.0.1:{port}/webhook"

    async def worker(client: httpx.AsyncClient) -> None:
        while not stop.is_set():
            number = next(counter)
            body = delivery(number)
            try:
                response = await client.post(url, content=body, headers={"x-hub-signature-256": sign(body)})
            except httpx.TransportError:
                return
            if response.status_code == 200:
                acknowledged.append(number)

    async with httpx.AsyncClient(timeout=10) as client:
        await asyncio.gather(*(worker(client) for _ in range(connections)))


def run_load_until(port: int, action: Any, after: float, start_at: int = 0) -> list[int]:
    acknowledged: list[int] = []

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(load(port, acknowledged, stop, start_at))
        await asyncio.sleep(after)
        action()
        await asyncio.sleep(0.3)
        stop.set()
        await task

    asyncio.run(main())
    return acknowledged


def check_every_acknowledged_delivery_is_applied_once(database_url: str, acknowledged: list[int]) -> None:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        stored = {h for (h,) in conn.execute(select(EVENTS.c.body_sha256))}
        statuses = dict(conn.execute(select(EVENTS.c.status, func.count()).group_by(EVENTS.c.status)).all())
        inbound = {w for (w,) in conn.execute(select(MESSAGES.c.wamid).where(MESSAGES.c.direction == "in"))}
        history = conn.execute(select(func.count()).select_from(HISTORY)).scalar_one()
        events = conn.execute(select(func.count()).select_from(EVENTS)).scalar_one()
    engine.dispose()
    assert acknowledged
    missing = [n for n in acknowledged if hashlib.sha256(delivery(n)).hexdigest() not in stored]
    assert missing == []
    assert {f"wamid.load-{n}" for n in acknowledged} <= inbound
    # applied exactly once: one message and one status row per stored delivery, all marked applied
    assert set(statuses) == {"applied"}
    assert len(inbound) == events
    assert history == events


def writer_pid(server: subprocess.Popen[bytes]) -> int:
    """The writer process serve-webhook started beside it (``waba_cli.webhook.writer``)."""
    children = open(f"/proc/{server.pid}/task/{server.pid}/children").read().split()  # noqa: PTH123, SIM115
    found = [int(c) for c in children if b"waba_cli.webhook.writer" in open(f"/proc/{c}/cmdline", "rb").read()]  # noqa: PTH123, SIM115
    assert len(found) == 1, children
    return found[0]


def wait_gone(pid: int, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        if open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z":  # noqa: PTH123, SIM115
            return  # exited, waiting for its parent to reap it
        time.sleep(0.05)
    raise AssertionError(f"process {pid} is still running")


def test_sigkill_under_load_loses_no_acknowledged_delivery(business: Any, database_url: str) -> None:
    port = free_port()
    server = start_process(port)
    try:
        writer = writer_pid(server)
        acknowledged = run_load_until(port, lambda: server.send_signal(signal.SIGKILL), after=1.5)
        server.wait(timeout=WAIT)
        assert server.returncode == -signal.SIGKILL
        # the writer stores what it had read, then exits: its input ended with the server
        wait_gone(writer)
        # the restarted server finds everything and applies what was left, once
        server = start_process(port)
        more = run_load_until(port, lambda: None, after=0.5, start_at=10**6)
    finally:
        server.terminate()
        server.wait(timeout=WAIT)
    check_every_acknowledged_delivery_is_applied_once(database_url, acknowledged + more)


def test_a_killed_writer_process_loses_no_acknowledged_delivery_and_is_replaced(
    business: Any, database_url: str
) -> None:
    port = free_port()
    server = start_process(port)
    try:
        writer = writer_pid(server)
        acknowledged = run_load_until(port, lambda: os.kill(writer, signal.SIGKILL), after=1.5)
        # the server answered 503 for what the dead writer had not acknowledged, and started another
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            body = delivery(10**7)
            response = httpx.post(
                f"http://127.0.0.1:{port}/webhook",
                content=body,
                headers={"x-hub-signature-256": sign(body)},
                timeout=WAIT,
            )
            if response.status_code == 200:
                acknowledged.append(10**7)
                break
            assert response.status_code == 503
            time.sleep(0.1)
        assert writer_pid(server) != writer
        more = run_load_until(port, lambda: None, after=0.5, start_at=10**6)
    finally:
        server.terminate()
        server.wait(timeout=WAIT)
    assert server.returncode == 0
    check_every_acknowledged_delivery_is_applied_once(database_url, acknowledged + more)


def test_sigterm_under_load_finishes_in_flight_requests_and_exits_0(business: Any, database_url: str) -> None:
    port = free_port()
    server = start_process(port)
    acknowledged = run_load_until(port, lambda: server.send_signal(signal.SIGTERM), after=1.0)
    assert server.wait(timeout=WAIT) == 0, server.stderr.read().decode() if server.stderr else ""
    check_every_acknowledged_delivery_is_applied_once(database_url, acknowledged)


def descendants(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *descendants(int(child))]
    return found


def test_workers_each_have_a_writer_and_sigterm_stops_them_all(business: Any, database_url: str) -> None:
    port = free_port()
    server = start_process(port, "--workers", "2")
    try:
        deadline = time.monotonic() + WAIT
        while len([p for p in descendants(server.pid) if _is_writer(p)]) < 2:
            assert time.monotonic() < deadline, "two writers did not start"
            time.sleep(0.1)
        family = descendants(server.pid)
        acknowledged = run_load_until(port, lambda: server.send_signal(signal.SIGTERM), after=1.0)
        assert server.wait(timeout=WAIT) == 0, server.stderr.read().decode() if server.stderr else ""
    finally:
        if server.poll() is None:
            server.kill()
    for pid in family:
        wait_gone(pid)
    check_every_acknowledged_delivery_is_applied_once(database_url, acknowledged)


def _is_writer(pid: int) -> bool:
    try:
        return b"waba_cli.webhook.writer" in open(f"/proc/{pid}/cmdline", "rb").read()  # noqa: PTH123
    except OSError:
        return False
