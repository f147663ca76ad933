"""Crash and resume: SIGKILL `waba send bulk` in the middle of a 5,000-recipient campaign, run it again.

    python tests/benchmarks/bulk_crash_resume.py [--recipients N] [--concurrency N] [--rate MPS] [--database-url URL]

Against `waba sandbox serve --bench` (which counts the requests it accepted per recipient,
`GET /_sandbox/sent`): the campaign is started, killed with SIGKILL once 40% of its requests
reached the sandbox, then the same command runs again to the end. Checks Meta's side of the
promise: every recipient that is not in doubt received exactly one request, every in-doubt one
at most one, and there are no more in-doubt recipients than requests in flight (--concurrency).
tests/stories/test_campaign_killed_and_run_again.py runs the same check (smaller) under pytest.

Exit status: 0 when the check holds, 1 when it does not, 2 if something failed to run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.bulk_world import crash_and_resume, world


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rate", type=float, default=0, help="0 = unpaced (default)")
    parser.add_argument("--database-url", default=None, help="default: SQLite in the temporary WABA_HOME")
    args = parser.parse_args()

    started = time.perf_counter()
    with world(args.database_url) as (sandbox, home):
        check = crash_and_resume(sandbox, home, args.recipients, concurrency=args.concurrency, rate=args.rate)
    print(f"SIGKILL in the middle of a {check.recipients:,}-recipient campaign, then the same command again")
    print(f"  concurrency                      {check.concurrency}, rate {'unpaced' if not args.rate else args.rate}")
    print(f"  requests before the kill         {check.received_before_kill:,} (exit {check.exit_codes[0]})")
    print(f"  second run                       exit {check.exit_codes[1]}, {check.summary.get('sent')} sent, "
          f"{check.summary.get('skipped')} skipped")  # fmt: skip
    print(f"  requests received in all         {check.received:,} for {check.recipients:,} recipients")
    print(f"  in doubt                         {check.in_doubt} (limit: {check.concurrency})")
    print(f"  not in doubt, not exactly once   {len(check.duplicates)} {check.duplicates[:5]}")
    print(f"  in doubt, more than once         {len(check.in_doubt_twice)} {check.in_doubt_twice[:5]}")
    print(
        f"  check                            {'PASS' if check.ok else 'FAIL'} ({time.perf_counter() - started:.1f} s)"
    )
    if check.exit_codes[1] not in (0, 1):
        return 2
    return 0 if check.ok else 1


if __name__ == "__main__":
    sys.exit(main())
