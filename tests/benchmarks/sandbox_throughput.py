"""How many sends per second the sandbox accepts in --bench mode (run by hand, prints figures).

    python tests/benchmarks/sandbox_throughput.py [--messages 20000] [--concurrency 64]

Starts ``waba sandbox serve --bench`` and sends through waba's own bulk transport (aiohttp), the
way ``send bulk --rate 0`` does; the sandbox must keep up with well over 1,500 messages/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time

import aiohttp

from waba_cli.sandbox import fixtures


def start() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "waba_cli", "sandbox", "serve", "--port", "0", "--bench"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "Graph API at " in line:
            return process, line.split("Graph API at ")[1].split()[0]
    raise SystemExit("the sandbox did not start")


async def blast(url: str, total: int, concurrency: int) -> float:
    headers = {"Authorization": f"Bearer {fixtures.ACCESS_TOKEN}"}
    target = f"{url}/v23.0/{fixtures.PHONE_NUMBER_ID}/messages"
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)
    failures = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal failures
        while not queue.empty():
            i = queue.get_nowait()
            body = {
                "messaging_product": "whatsapp",
                "to": f"+1555{2000000 + i:07d}",
                "type": "text",
                "text": {"body": "hi"},
            }
            async with session.post(target, json=body) as response:
                await response.read()
                failures += response.status != 200

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    if failures:
        print(f"{failures} sends failed")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    process, url = start()
    try:
        asyncio.run(blast(url, 500, args.concurrency))  # warm up, and start-up CPU out of the figure
        idle = _cpu_of(process.pid)
        elapsed = asyncio.run(blast(url, args.messages, args.concurrency))
        busy = _cpu_of(process.pid) - idle
    finally:
        process.terminate()
        process.wait()
    rate, per_send = args.messages / elapsed, busy / args.messages
    print(f"{args.messages} sends in {elapsed:.2f} s: {rate:,.0f} messages/s (with whatever else runs)")
    print(f"sandbox CPU: {per_send * 1e6:.0f} µs per send: one core serves {1 / per_send:,.0f} sends/s")


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: PTH123, SIM115
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
