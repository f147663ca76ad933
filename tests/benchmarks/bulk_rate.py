"""Pacing: `waba send bulk --rate 80` over 2,000 messages against `waba sandbox serve --bench`.

    python tests/benchmarks/bulk_rate.py [--recipients N] [--rate MPS] [--database-url URL] [--strict]

The rate is measured from waba's own call log (`api_call.at`: when each request started), as
(requests - 1) / (last start - first start), so start-up, the CSV scan and the last answer do not
count. Target: within 5% of the asked rate. Also prints the send phase's rate as waba reports it
(accepted messages / time from the first claim to the last write).

Exit status: 0; 2 if something failed; with --strict, 1 if the target is missed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.bulk_world import world, write_csv

TOLERANCE = 0.05


def _request_starts(database: Path) -> list[datetime]:
    import sqlite3

    conn = sqlite3.connect(database)
    try:
        rows = conn.execute("SELECT at FROM api_call WHERE endpoint = '/{id}/messages' ORDER BY at").fetchall()
    finally:
        conn.close()
    return [datetime.fromisoformat(at) for (at,) in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=2_000)
    parser.add_argument("--rate", type=float, default=80.0)
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()

    with world() as (sandbox, home):
        csv_path = write_csv(home.dir / "paced.csv", args.recipients)
        started = time.perf_counter()
        result = subprocess.run(
            home.bulk_command(csv_path, "--rate", f"{args.rate:g}", "--json"),
            capture_output=True,
            text=True,
            env=home.env,
            check=False,
        )
        wall = time.perf_counter() - started
        if result.returncode != 0:
            print(f"send bulk exited {result.returncode}: {result.stderr.strip()[-800:]}")
            return 2
        summary = json.loads(result.stdout)
        starts = _request_starts(home.database)
        received = sandbox.sent()["total"]

    span = (starts[-1] - starts[0]).total_seconds() if len(starts) > 1 else 0.0
    measured = (len(starts) - 1) / span if span else 0.0
    off = abs(measured - args.rate) / args.rate
    print(f"send bulk --rate {args.rate:g} of {args.recipients:,} recipients against waba sandbox serve --bench")
    print(f"  requests              {len(starts):,} started, {received:,} received by the sandbox")
    print(f"  measured rate         {measured:.2f} messages/s over {span:.1f} s ({off * 100:.2f}% off)")
    print(f"  send phase (waba)     {summary['messages_per_second']:.2f} messages/s; whole command {wall:.1f} s")
    verdict = "PASS" if off <= TOLERANCE else "SHORT"
    print(f"  target within {TOLERANCE * 100:.0f}% of {args.rate:g}/s: {verdict}")
    if summary["sent"] != args.recipients:
        return 2
    return 1 if args.strict and off > TOLERANCE else 0


if __name__ == "__main__":
    sys.exit(main())
