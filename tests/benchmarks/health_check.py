"""`waba health check --all` of 20 accounts with 2 numbers each against `waba sandbox serve`.

    python tests/benchmarks/health_check.py [--accounts 20] [--runs 3] [--strict]

For each sandbox latency (0 ms, then 500 ms per Graph call: `sandbox serve --latency-ms`), starts
the sandbox on a free loopback port, adds the WABAs (`POST /_sandbox/wabas {"numbers": 2}`), sets
up one account per WABA in a temporary WABA_HOME (in this process, `account setup --no-verify`),
runs one untimed check (the numbers are stored the first time), then times `--runs` runs of
`waba health check --all --quiet --max-age 0` as separate processes: process start to exit, every
Graph answer asked again (nothing reused), every result stored. Prints the wall times, the best
and the median. Targets: under 2 s without latency, under 3 s with 500 ms per call (the accounts are
checked concurrently: five calls per account, all at once).

Exit status: 0; 2 if something failed; with --strict, 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from cryptography.fernet import Fernet

from waba_cli.sandbox import fixtures

TARGETS = {0: 2.0, 500: 3.0}  # latency (ms) -> seconds


@contextmanager
def sandbox(latency_ms: int) -> Iterator[str]:
    """`waba sandbox serve --port 0 --latency-ms N`; its base URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WABA_", "WHATSAPP_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "waba_cli", "sandbox", "serve", "--port", "0", "--latency-ms", str(latency_ms)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**env, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        url = ""
        for line in process.stdout:
            if "Graph API at " in line:
                url = line.split("Graph API at ")[1].split()[0]
                break
        if not url:
            raise RuntimeError("the sandbox did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def add_wabas(url: str, count: int) -> list[dict[str, object]]:
    made = []
    for _ in range(count):
        request = urllib.request.Request(
            f"{url}/_sandbox/wabas",
            data=json.dumps({"numbers": 2}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            made.append(json.loads(answer.read()))
    return made


def set_up_home(home: Path, url: str, wabas: list[dict[str, object]]) -> dict[str, str]:
    """A WABA_HOME with one account per WABA; the environment to run waba in."""
    from waba_cli.app import run

    env = {k: v for k, v in os.environ.items() if not k.startswith(("WABA_", "WHATSAPP_"))}
    env.update(
        {
            "WABA_HOME": str(home),
            "WABA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "WABA_GRAPH_BASE_URL": url,
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        }
    )
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            if run(["init"]) != 0:
                raise RuntimeError("waba init failed")
            for index, waba in enumerate(wabas, start=1):
                numbers = waba["phone_numbers"]
                assert isinstance(numbers, list)
                setup = fixtures.setup_document(None)
                setup.update(
                    name=f"shop{index:02d}",
                    waba_id=waba["id"],
                    phone_number_id=numbers[0]["id"],
                    phone_number=numbers[0]["phone_number"],
                    display_phone_number=numbers[0]["phone_number"],
                )
                path = home / f"shop{index:02d}.json"
                path.write_text(json.dumps(setup), encoding="utf-8")
                if run(["account", "setup", "--from-file", str(path), "--no-verify"]) != 0:
                    raise RuntimeError(f"account setup of shop{index:02d} failed")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return env


def check(env: dict[str, str]) -> tuple[float, int, str]:
    command = [sys.executable, "-m", "waba_cli", "health", "check", "--all", "--quiet", "--max-age", "0"]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    return time.perf_counter() - started, done.returncode, (done.stdout or done.stderr).strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()
    missed = False
    for latency, target in TARGETS.items():
        with sandbox(latency) as url, tempfile.TemporaryDirectory(prefix="waba-health-bench-") as directory:
            wabas = add_wabas(url, args.accounts)
            env = set_up_home(Path(directory), url, wabas)
            _, code, line = check(env)  # the first run stores every number
            if code != 0:
                print(f"health check exited {code}: {line}")
                return 2
            times = []
            for _ in range(args.runs):
                wall, code, line = check(env)
                if code != 0:
                    print(f"health check exited {code}: {line}")
                    return 2
                times.append(wall)
        best, median = min(times), statistics.median(times)
        verdict = "ok" if median < target else "MISSED"
        missed |= median >= target
        print(
            f"{args.accounts} accounts x 2 numbers, sandbox latency {latency} ms per call: "
            f"{', '.join(f'{t:.2f}' for t in times)} s; best {best:.2f} s, median {median:.2f} s "
            f"(target < {target:.0f} s: {verdict})"
        )
        print(f"  {line}")
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
