"""What the `send bulk` benchmarks share: a sandbox in bench mode, a waba home set up against it, CSVs.

Everything runs on 127.0.0.1 and is stopped and removed at the end. waba runs as separate
processes (`python -m waba_cli ...`), as an operator would run it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PY = sys.executable
REPO_ROOT = Path(__file__).resolve().parents[2]
# the sandbox's seeded world (waba_cli/sandbox/fixtures.py)
SANDBOX_SETUP = {
    "name": "sandbox",
    "waba_id": "104839201938475",
    "app_id": "670843887433847",
    "app_secret": "5a9d0c3e7b1f4a6d8e2c9b0a7f3e1d4c",
    "phone_number_id": "109283746501928",
    "phone_number": "+15550134567",
    "access_token": "EAAGsbx0WABAsandboxZCpsBAKZCyZBqZAt3vZBZCpLmnOpQrStUvWxYz0123456789",
}
# order_update: body {{1}} {{2}} {{3}} and a URL button with a suffix: four values per row
TEMPLATE = "order_update"
CSV_HEADER = "phone,1,2,3,4"


class Sandbox:
    """`waba sandbox serve --bench` on a free loopback port."""

    def __init__(self, extra: tuple[str, ...] = ()) -> None:
        self.extra = extra
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> Sandbox:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WABA_", "WHATSAPP_"))}
        self.process = subprocess.Popen(
            [PY, "-m", "waba_cli", "sandbox", "serve", "--port", "0", "--bench", *self.extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=REPO_ROOT,
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + 30
        for line in self.process.stdout:
            match = re.search(r"Graph API at (http://\S+)", line)
            if match:
                self.url = match.group(1)
                break
            if time.monotonic() > deadline:
                break
        if not self.url:
            self.__exit__()
            raise RuntimeError("the sandbox did not start")
        return self

    def sent(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/_sandbox/sent", timeout=10) as answer:
            data: dict[str, Any] = json.loads(answer.read())
            return data

    def cpu_seconds(self) -> float:
        """CPU time the sandbox process has used so far (Linux /proc; 0 elsewhere)."""
        assert self.process is not None
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Home:
    """A temporary WABA_HOME with the sandbox account and its templates synced."""

    def __init__(self, sandbox: Sandbox, database_url: str | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="waba-bench-"))
        from cryptography.fernet import Fernet

        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("WABA_", "WHATSAPP_"))}
        self.env |= {
            "WABA_HOME": str(self.dir),
            "WABA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "WABA_GRAPH_BASE_URL": sandbox.url,
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
            "NO_COLOR": "1",
        }
        if database_url:
            self.env["WABA_DATABASE_URL"] = database_url
        setup = self.dir / "setup.json"
        setup.write_text(json.dumps(SANDBOX_SETUP), encoding="utf-8")
        self.waba("init")
        self.waba("account", "setup", "--from-file", str(setup), "--no-verify")
        self.waba("template", "sync")

    @property
    def database(self) -> Path:
        return self.dir / "waba.db"

    def waba(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [PY, "-m", "waba_cli", *args], capture_output=True, text=True, env=self.env, cwd=REPO_ROOT, check=False
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"waba {' '.join(args)} exited {result.returncode}: {result.stderr.strip()[-500:]}")
        return result

    def bulk_command(self, csv_path: Path, *flags: str) -> list[str]:
        return [PY, "-m", "waba_cli", "send", "bulk", "--csv", str(csv_path), "--template", TEMPLATE, *flags]

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def write_csv(path: Path, count: int, *, start: int = 0) -> Path:
    """``count`` distinct recipients in Meta's +1 555 test range, four template values each."""
    with path.open("w", encoding="utf-8") as handle:
        handle.write(CSV_HEADER + "\n")
        for i in range(start, start + count):
            handle.write(f"+1555{i:07d},Customer {i},{8000 + i},Friday,{8000 + i}\n")
    return path


@contextmanager
def world(database_url: str | None = None, sandbox_flags: tuple[str, ...] = ()) -> Iterator[tuple[Sandbox, Home]]:
    with Sandbox(sandbox_flags) as sandbox:
        home = Home(sandbox, database_url)
        try:
            yield sandbox, home
        finally:
            home.close()


@dataclass
class CrashCheck:
    """What the sandbox received for a campaign killed with SIGKILL and run again."""

    recipients: int
    concurrency: int
    received_before_kill: int
    received: int
    in_doubt: int
    duplicates: list[str]  # recipients not in doubt with other than exactly one request
    in_doubt_twice: list[str]  # in-doubt recipients with more than one request
    exit_codes: tuple[int, int]
    summary: dict[str, Any]

    @property
    def ok(self) -> bool:
        return (
            not self.duplicates
            and not self.in_doubt_twice
            and self.in_doubt <= self.concurrency
            and self.exit_codes[1] == 0
        )


def crash_and_resume(
    sandbox: Sandbox, home: Home, count: int, *, concurrency: int, rate: float, kill_at: float = 0.4
) -> CrashCheck:
    """Start a campaign of ``count``, SIGKILL it once ``kill_at`` of it reached the sandbox, run it again."""
    csv_path = write_csv(home.dir / "crash.csv", count)
    command = home.bulk_command(csv_path, "--rate", str(rate), "--concurrency", str(concurrency), "--json")
    before = sandbox.sent()["total"]
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=home.env)
    received = 0
    while first.poll() is None:
        received = sandbox.sent()["total"] - before
        if received >= count * kill_at:
            first.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    first_code = first.wait()
    second = subprocess.run(command, capture_output=True, text=True, env=home.env, check=False)
    summary = json.loads(second.stdout) if second.stdout.strip() else {}
    in_doubt = set(_states(home, summary.get("campaign", ""), "in_doubt"))
    by_recipient = sandbox.sent()["by_recipient"]
    numbers = [f"1555{i:07d}" for i in range(count)]
    return CrashCheck(
        recipients=count,
        concurrency=concurrency,
        received_before_kill=received,
        received=sum(by_recipient.get(n, 0) for n in numbers),
        in_doubt=len(in_doubt),
        duplicates=[n for n in numbers if n not in in_doubt and by_recipient.get(n, 0) != 1],
        in_doubt_twice=[n for n in in_doubt if by_recipient.get(n, 0) > 1],
        exit_codes=(first_code, second.returncode),
        summary=summary,
    )


def _states(home: Home, campaign: str, state: str) -> list[str]:
    """E.164 digits of the campaign's recipients in ``state`` (any database waba can use)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(home.env.get("WABA_DATABASE_URL") or f"sqlite:///{home.database}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT r.phone FROM campaign_recipient r JOIN campaign c ON c.id = r.campaign_id "
                    "WHERE c.name = :name AND r.state = :state"
                ),
                {"name": campaign, "state": state},
            )
            return [phone.lstrip("+") for (phone,) in rows]
    finally:
        engine.dispose()


def outbound_counts(home: Home, campaign: str) -> dict[str, int]:
    """Recipient states of a campaign and its message rows, read straight from the SQLite file."""
    import sqlite3

    conn = sqlite3.connect(home.database)
    try:
        states = dict(
            conn.execute(
                "SELECT r.state, count(*) FROM campaign_recipient r JOIN campaign c ON c.id = r.campaign_id "
                "WHERE c.name = ? GROUP BY r.state",
                (campaign,),
            ).fetchall()
        )
        states["messages"] = conn.execute("SELECT count(*) FROM message WHERE campaign = ?", (campaign,)).fetchone()[0]
        states["messages_with_wamid"] = conn.execute(
            "SELECT count(*) FROM message WHERE campaign = ? AND wamid IS NOT NULL", (campaign,)
        ).fetchone()[0]
        return states
    finally:
        conn.close()
