"""Memory: peak RSS of `waba send bulk --dry-run` over a 1,000,000-row CSV.

    python tests/benchmarks/bulk_dry_run_memory.py [--rows N] [--rate-card] [--strict]

Writes a CSV of N rows for the sandbox's order_update template (every 1,000th row repeats an
earlier number, every 997th has an invalid one), sets up a temporary WABA_HOME against the
sandbox (for the account and templates; the dry run itself sends nothing) and runs the dry run as
a child process, whose peak resident set size is read with wait4(). Target: under 150 MB. Also
prints the time it took and the plan it reported. With --rate-card the dry run also estimates the
campaign's cost (``--rate-card``), counting every recipient by country and pricing category.

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

from tests.benchmarks.bulk_world import CSV_HEADER, world

TARGET_MB = 150.0


def write_rows(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write(CSV_HEADER + "\n")
        for i in range(rows):
            if i % 997 == 996:
                phone = "12345"
            elif i % 1000 == 999:
                phone = f"+1555{i - 500:07d}"
            else:
                phone = f"+1555{i:07d}"
            handle.write(f"{phone},Customer {i},{i},Friday,{i}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rate-card", action="store_true", help="estimate the cost too")
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()

    with world() as (_sandbox, home):
        csv_path = home.dir / "million.csv"
        write_rows(csv_path, args.rows)
        size_mb = csv_path.stat().st_size / 1e6
        out_path, err_path = home.dir / "plan.json", home.dir / "stderr.txt"
        extra = ["--dry-run", "--json"]
        if args.rate_card:
            card = home.dir / "rates.csv"
            card.write_text("country,category,price,currency\nUS,utility,0.004,USD\n", encoding="utf-8")
            extra += ["--rate-card", str(card)]
        started = time.perf_counter()
        with out_path.open("w") as out_file, err_path.open("w") as err_file:
            process = subprocess.Popen(
                home.bulk_command(csv_path, *extra), stdout=out_file, stderr=err_file, env=home.env
            )
            # wait4 gives this child's own peak RSS (the sandbox is a child too)
            _pid, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        out, err = out_path.read_text(), err_path.read_text()
    peak_mb = usage.ru_maxrss / 1024
    code = os.waitstatus_to_exitcode(status)
    if code != 0 or not out.strip():
        print(f"send bulk --dry-run exited {code}: {err.strip()[-800:]}")
        return 2
    plan = json.loads(out)
    print(f"send bulk --dry-run over a {args.rows:,}-row CSV ({size_mb:.0f} MB)")
    print(f"  peak RSS              {peak_mb:.1f} MB")
    print(f"  time                  {elapsed:.1f} s ({args.rows / elapsed:,.0f} rows/s)")
    print(
        f"  plan                  {plan['valid']:,} valid, {plan['invalid']:,} invalid, "
        f"{plan['duplicate']:,} duplicate, {plan['to_send']:,} to send"
    )
    if plan.get("cost"):
        cost = plan["cost"]
        print(f"  estimated cost        {cost['total']:,.2f} {cost['currency']} ({cost['unpriced']:,} unpriced)")
    verdict = "PASS" if peak_mb < TARGET_MB else "SHORT"
    print(f"  target < {TARGET_MB:.0f} MB: {verdict}")
    return 1 if args.strict and peak_mb >= TARGET_MB else 0


if __name__ == "__main__":
    sys.exit(main())
