"""`waba db copy --to URL`: a SQLite database of N messages moved into an empty PostgreSQL database.

    python tests/benchmarks/db_copy.py [--messages 200000] [--server-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Builds the SQLite database the analytics benchmark builds (six accounts, messages over 90 days with
their statuses, pricing and replies), creates an empty database on the server, and times the whole
`waba db copy` command as a separate process; prints rows, seconds, rows per second and the peak
memory of the copying process. The database is dropped afterwards. Exit 0, 2 if something failed.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from analytics_report import build, set_up_home  # the script's own directory, put on the path above


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--server-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(args.server_url, isolation_level="AUTOCOMMIT")
    name = f"waba_copy_bench_{uuid.uuid4().hex[:8]}"
    target = make_url(args.server_url).set(database=name).render_as_string(hide_password=False)
    with tempfile.TemporaryDirectory(prefix="waba-copy-bench-") as directory:
        home = Path(directory)
        env = set_up_home(home, None)
        built = build(f"sqlite:///{home / 'waba.db'}", args.messages)
        print(f"SQLite database: {args.messages:,} messages, built in {built:.1f} s")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "waba_cli", "db", "copy", "--to", target, "--json"],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            seconds = time.perf_counter() - started
            if done.returncode != 0:
                print(f"db copy failed (exit {done.returncode}): {done.stderr.strip()}", file=sys.stderr)
                return 2
            report = json.loads(done.stdout)
            peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            rows = int(report["rows"])
            tables = len(report["tables"])
            print(f"copied {rows:,} rows in {tables} tables: {seconds:.1f} s ({rows / seconds:,.0f} rows/s)")
            print(f"peak memory of the copying process: {peak_mb:.0f} MB")
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
