"""Campaign throughput: `waba send bulk --rate 0` of 20,000 recipients against `waba sandbox serve --bench`.

    python tests/benchmarks/bulk_send.py [--recipients N] [--concurrency N] [--database-url URL] [--strict]

Starts the sandbox on a free loopback port, sets up a temporary WABA_HOME against it (account,
templates synced), writes a CSV of N distinct recipients and runs the campaign as a separate
process. Prints the end-to-end wall time and rate (process start to exit: CSV scan, import,
sending, every message recorded), the send phase's own rate as waba reports it, and checks that
the sandbox received exactly one request per recipient and that every message is recorded
accepted with its wamid. Target: at least 1,500 messages/s end to end (on SQLite).

Also prints the CPU time of the waba process (wait4) and of the sandbox (/proc), per message: on
a machine shared with other work the wall-clock rate says little, and waba's CPU per message gives
the rate it would reach with a core of its own.

Exit status: 0; 2 if something failed; with --strict, 1 if the target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.bulk_world import outbound_counts, world, write_csv

TARGET = 1500.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument("--database-url", default=None, help="default: SQLite in the temporary WABA_HOME")
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()

    with world(args.database_url) as (sandbox, home):
        csv_path = write_csv(home.dir / "customers.csv", args.recipients)
        command = home.bulk_command(csv_path, "--rate", "0", "--json")
        if args.concurrency:
            command += ["--concurrency", str(args.concurrency)]
        out_path, err_path = home.dir / "summary.json", home.dir / "stderr.txt"
        sandbox_cpu = sandbox.cpu_seconds()
        started = time.perf_counter()
        with out_path.open("w") as out_file, err_path.open("w") as err_file:
            process = subprocess.Popen(command, stdout=out_file, stderr=err_file, env=home.env)
            _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        sandbox_cpu = sandbox.cpu_seconds() - sandbox_cpu
        waba_cpu = usage.ru_utime + usage.ru_stime
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            print(f"send bulk exited {code}: {err_path.read_text().strip()[-800:]}")
            return 2
        summary = json.loads(out_path.read_text())
        received = sandbox.sent()
        counts = outbound_counts(home, summary["campaign"]) if args.database_url is None else {}

    n = args.recipients
    print(f"send bulk --rate 0 of {n:,} recipients against waba sandbox serve --bench")
    print(f"  concurrency           {summary['concurrency']}")
    print(f"  end to end            {wall:.2f} s  ->  {n / wall:,.0f} messages/s (process start to exit)")
    send_rate = summary["messages_per_second"]
    print(f"  send phase            {summary['elapsed_seconds']:.2f} s  ->  {send_rate:,.0f} messages/s")
    print(
        f"  CPU                   waba {waba_cpu:.2f} s ({waba_cpu / n * 1000:.2f} ms/message), "
        f"sandbox {sandbox_cpu:.2f} s ({sandbox_cpu / n * 1000:.2f} ms/request)"
    )
    if waba_cpu:
        print(f"  waba's CPU ceiling    {n / waba_cpu:,.0f} messages/s with a core of its own")
    print(f"  summary               sent {summary['sent']}, failed {summary['failed']}, in doubt {summary['in_doubt']}")
    print(f"  sandbox received      {received['total']} requests, {len(received['by_recipient'])} recipients")
    if counts:
        print(
            f"  recorded              {counts.get('accepted', 0)} recipients accepted, "
            f"{counts['messages']} messages ({counts['messages_with_wamid']} with a wamid)"
        )
    exact = received["total"] == n and len(received["by_recipient"]) == n and summary["sent"] == n
    if counts:
        exact = exact and counts.get("accepted", 0) == n and counts["messages_with_wamid"] == n
    print(f"  one request per recipient, all recorded: {'yes' if exact else 'NO'}")
    rate = n / wall
    verdict = "PASS" if rate >= TARGET else "SHORT"
    print(f"  target >= {TARGET:,.0f} messages/s end to end: {verdict}")
    if not exact:
        return 2
    return 1 if args.strict and rate < TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
