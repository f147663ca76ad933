"""Webhook load benchmark: `waba serve-webhook` under wrk with a realistic mix of signed deliveries.

    python tests/benchmarks/webhook_load.py [--duration 10] [--connections 64] [--threads 2]
                                            [--database-url URL] [--workers 1] [--strict]
                                            [--profile out.svg|out.txt [--native]]

Needs `wrk` (Debian/Ubuntu: `sudo apt-get install wrk`; macOS: `brew install wrk`).

1. A temporary WABA_HOME with a fresh WABA_ENCRYPTION_KEY; one account set up from a file (no
   Meta calls); auto-replies off. The database is SQLite in that home (the webhook store's default
   `synchronous=FULL`: every acknowledged delivery is fsync'd) unless --database-url names another
   (a PostgreSQL URL: its tables are created with `waba db upgrade` and NOT emptied; use a scratch
   database).
2. Known outbound messages are inserted (as `waba send` records them), then a file of distinct,
   signed deliveries is written: 70% status updates of those messages (sent, delivered, read in
   turn, ~1.5 KB each with conversation, pricing and callback data, like Meta's) and 30% inbound
   texts from a few hundred contacts. wrk's Lua script gives each thread its own share, so no
   delivery is sent twice unless the run outlasts the file (then the repeats are counted).
3. `waba serve-webhook` runs as a separate process (its per-delivery log lines go to /dev/null);
   wrk runs for --duration seconds at --connections connections with --latency.
4. Printed: requests/s, latency p50/p90/p99 and max, non-2xx answers, the server's CPU seconds and
   requests per CPU-second and CPU microseconds per delivery, user and system (the meaningful
   figures on a busy machine), how that CPU splits between the HTTP side (uvicorn's process) and
   the writer process (planning, SQLite, fsync), the peak resident memory (VmHWM) of each process
   and their sum (the figure judged), and a check of the database: every 2xx answer is a stored
   event, all applied.
5. With --profile, py-spy samples the server for the run: an .svg flame graph, or collapsed stacks
   (one line per stack and its sample count) for any other name; --native adds C frames (and
   pauses the server for each sample, so its figures are lower).

Targets (the issue's): >= 5,000 deliveries/s, p99 < 50 ms, peak RSS < 150 MB. Exit 0; 2 when the
setup or the check failed; with --strict, 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
APP_SECRET = "3f6c1d9e8b7a4c2d1e0f9a8b7c6d5e4f"
PHONE_NUMBER_ID = "109283746501928"
WABA_ID = "104839201938475"
SETUP = {
    "name": "Load test",
    "waba_id": WABA_ID,
    "app_id": "670843887433847",
    "app_secret": APP_SECRET,
    "phone_number_id": PHONE_NUMBER_ID,
    "phone_number": "+1 555 013 4567",
    "access_token": "EAAGm0PX4ZCpsBAKZCyZBqZAt3vZBZCpLmnOpQrStUvWxYz0123456789abcdefGHIJ",
    "webhook_verify_token": "verify-load",
    "enable_auto_reply": False,
}
STATUS_SHARE = 0.7

LUA = r"""
local lines = {}
local position = 0
local threads_seen = 0

function setup(thread)
  thread:set("id", threads_seen)
  threads_seen = threads_seen + 1
end

function init(args)
  local threads = tonumber(args[2])
  local file = io.open(args[1], "r")
  local index = 0
  for line in file:lines() do
    if index % threads == id then
      local tab = line:find("\t", 1, true)
      lines[#lines + 1] = {line:sub(1, tab - 1), line:sub(tab + 1)}
    end
    index = index + 1
  end
  file:close()
end

function request()
  position = position % #lines + 1
  local item = lines[position]
  return wrk.format("POST", "/webhook",
    {["Content-Type"] = "application/json", ["X-Hub-Signature-256"] = item[1]}, item[2])
end
"""


def sign(body: bytes) -> str:
    return "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()


def envelope(value: dict[str, object]) -> bytes:
    entry = {"id": WABA_ID, "changes": [{"value": value, "field": "messages"}]}
    return json.dumps({"object": "whatsapp_business_account", "entry": [entry]}, indent=2).encode()


def metadata() -> dict[str, str]:
    return {"display_phone_number": "15550134567", "phone_number_id": PHONE_NUMBER_ID}


def status_body(message: int, status: str) -> bytes:
    at = 1750030073 + message
    item: dict[str, object] = {
        "id": f"wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEkU3MTI5ODc4REY0RjU0NTAwMQ-{message:08d}",
        "status": status,
        "timestamp": str(at + {"sent": 0, "delivered": 2, "read": 9}[status]),
        "recipient_id": "5511987654321",
        "biz_opaque_callback_data": f"order-{message}",
        "conversation": {
            "id": "5f1c9e2ab7d34c0e8f6a21b4c3d9e870",
            "expiration_timestamp": str(at + 86400),
            "origin": {"type": "marketing"},
        },
        "pricing": {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"},
    }
    return envelope({"messaging_product": "whatsapp", "metadata": metadata(), "statuses": [item]})


def inbound_body(number: int) -> bytes:
    sender = f"5511987{number % 500:06d}"
    message = {
        "from": sender,
        "id": f"wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFDNBMEI0RjVFNkQ3QzhBOUIxQzJEAA-{number:08d}",
        "timestamp": str(1750700000 + number),
        "type": "text",
        "text": {"body": f"Hi! Is order {number} on its way? Thanks \u00e0 bient\u00f4t"},
    }
    contacts = [{"profile": {"name": f"Customer {number % 500}"}, "wa_id": sender}]
    return envelope(
        {"messaging_product": "whatsapp", "metadata": metadata(), "contacts": contacts, "messages": [message]}
    )


def write_requests(path: Path, total: int) -> int:
    """Distinct signed deliveries, mixed 70/30; returns how many known messages they need."""
    statuses = int(total * STATUS_SHARE)
    messages = statuses // 3 + 1
    inbound = 0
    with path.open("w", encoding="utf-8") as file:
        status_index = 0
        for index in range(total):
            if (index * 3) % 10 < 7 and status_index < statuses:  # 7 of every 10 lines
                message, kind = divmod(status_index, 3)
                body = status_body(message, ("sent", "delivered", "read")[kind])
                status_index += 1
            else:
                body = inbound_body(inbound)
                inbound += 1
            compact = body.replace(b"\n", b"")  # one line per request; still valid, still signed as sent
            file.write(f"{sign(compact)}\t{compact.decode()}\n")
    return messages


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def is_writer(pid: int) -> bool:
    """The writer process serve-webhook starts beside each uvicorn process (``waba_cli.webhook.writer``)."""
    return b"waba_cli.webhook.writer" in Path(f"/proc/{pid}/cmdline").read_bytes()


def memory(pid: int) -> dict[str, int]:
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            found[key] = int(value.split()[0]) // 1024
    return found


def proportional_mb(pid: int) -> int:
    """The process's proportional set size: pages shared with the other process counted half each."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) // 1024
    return 0


def tree_pids(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    found = [pid]
    if children.exists():
        for child in children.read_text().split():
            found += tree_pids(int(child))
    return found


def insert_messages(env: dict[str, str], count: int) -> None:
    code = f"""
from datetime import UTC, datetime
from sqlalchemy import insert
from waba_cli.db.engine import open_database
from waba_cli.db.models.messages import Message
db = open_database({env["WABA_DATABASE_URL"]!r})
now = datetime.now(UTC)
rows = [dict(account_id=1, phone_number_id={PHONE_NUMBER_ID!r}, direction="out",
             wamid=f"wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEkU3MTI5ODc4REY0RjU0NTAwMQ-{{i:08d}}",
             contact="+5511987654321", type="template", status="accepted", created_at=now, updated_at=now)
        for i in range({count})]
with db.engine.begin() as conn:
    conn.execute(insert(Message.__table__), rows)
"""
    subprocess.run([PY, "-c", code], env=env, check=True)


def parse_wrk(output: str) -> dict[str, float]:
    def ms(text: str) -> float:
        number, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    figures: dict[str, float] = {}
    for pct in ("50", "90", "99"):
        match = re.search(rf"^\s+{pct}%\s+(\S+)", output, re.M)
        if match:
            figures[f"p{pct}"] = ms(match.group(1))
    match = re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", output)
    if match:
        figures["max"] = ms(match.group(1))
    figures["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    figures["requests"] = float(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    figures["non2xx"] = float(non2xx.group(1)) if non2xx else 0.0
    errors = re.search(r"Socket errors: (.*)", output)
    figures["socket_errors"] = float(sum(int(n) for n in re.findall(r"\d+", errors.group(1)))) if errors else 0.0
    return figures


def check_database(env: dict[str, str]) -> dict[str, int]:
    code = """
import json
from sqlalchemy import func, select
from waba_cli.db.engine import open_database
from waba_cli.db.models.webhooks import WebhookEvent
from waba_cli.db.models.messages import Message, MessageStatus
db = open_database(__import__("os").environ["WABA_DATABASE_URL"])
e = WebhookEvent.__table__
with db.engine.connect() as conn:
    statuses = dict(conn.execute(select(e.c.status, func.count()).group_by(e.c.status)).all())
    history = conn.execute(select(func.count()).select_from(MessageStatus.__table__)).scalar_one()
    m = Message.__table__
    read = conn.execute(select(func.count()).select_from(m).where(m.c.status == "read")).scalar_one()
    inbound = conn.execute(select(func.count()).select_from(m).where(m.c.direction == "in")).scalar_one()
print(json.dumps({"events": sum(statuses.values()), "applied": statuses.get("applied", 0),
                  "statuses": history, "messages_read": read, "inbound": inbound}))
"""
    result = subprocess.run([PY, "-c", code], env=env, check=True, capture_output=True, text=True)
    return dict(json.loads(result.stdout))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--requests", type=int, default=0, help="distinct deliveries (default: 12,000 per second: none repeats)"
    )
    parser.add_argument("--database-url", default="")
    parser.add_argument("--strict", action="store_true")
    parser.add_argument(
        "--profile",
        default="",
        help="profile the server under load with py-spy: an .svg flame graph, else collapsed stacks (text)",
    )
    parser.add_argument("--native", action="store_true", help="with --profile: C frames too (SQLite, the GC, uvloop)")
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk is not installed: sudo apt-get install wrk (or brew install wrk)", file=sys.stderr)
        return 2
    from cryptography.fernet import Fernet

    home = Path(tempfile.mkdtemp(prefix="waba-webhook-load-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WABA_", "WHATSAPP_"))}
    env |= {
        "WABA_HOME": str(home),
        "WABA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "WABA_DATABASE_URL": args.database_url or f"sqlite:///{home / 'waba.db'}",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    server = None
    try:
        if args.database_url:
            subprocess.run([PY, "-m", "waba_cli", "db", "upgrade"], env=env, check=True, capture_output=True)
        (home / "setup.json").write_text(json.dumps(SETUP))
        subprocess.run(
            [PY, "-m", "waba_cli", "account", "setup", "--from-file", str(home / "setup.json"), "--no-verify"],
            env=env,
            check=True,
            capture_output=True,
        )
        total = args.requests or 12000 * args.duration
        requests_file = home / "requests.tsv"
        messages = write_requests(requests_file, total)
        insert_messages(env, messages)
        script = home / "deliveries.lua"
        script.write_text(LUA)
        port = free_port()
        server = subprocess.Popen(
            [PY, "-m", "waba_cli", "serve-webhook", "--port", str(port), "--workers", str(args.workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while True:
            probe = subprocess.run(
                ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"http://127.0.0.1:{port}/healthz"],
                capture_output=True,
                text=True,
                check=False,
            )
            if probe.stdout == "200":
                break
            if time.monotonic() > deadline or server.poll() is not None:
                print("serve-webhook did not start", file=sys.stderr)
                return 2
            time.sleep(0.1)
        pids = tree_pids(server.pid)
        user_before = sum(cpu_seconds(p)[0] for p in pids)
        system_before = sum(cpu_seconds(p)[1] for p in pids)
        writers = [p for p in pids if is_writer(p)]
        writer_before = sum(sum(cpu_seconds(p)) for p in writers)
        spy = None
        if args.profile:
            spy = subprocess.Popen(
                [
                    "py-spy",
                    "record",
                    "--pid",
                    str(server.pid),
                    "--subprocesses",
                    "--threads",
                    "--duration",
                    str(args.duration),
                    "--output",
                    args.profile,
                    "--format",
                    "flamegraph" if args.profile.endswith(".svg") else "raw",
                    # native stacks need the process paused per sample: slower, but C frames show
                    *(["--native"] if args.native else ["--nonblocking"]),
                ],
                stdout=subprocess.DEVNULL,
            )
        wall = time.monotonic()
        result = subprocess.run(
            [
                wrk,
                f"-t{args.threads}",
                f"-c{args.connections}",
                f"-d{args.duration}s",
                "--latency",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}/webhook",
                "--",
                str(requests_file),
                str(args.threads),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.monotonic() - wall
        if spy is not None:
            spy.wait(timeout=60)
        pids = tree_pids(server.pid)
        user = sum(cpu_seconds(p)[0] for p in pids) - user_before
        system = sum(cpu_seconds(p)[1] for p in pids) - system_before
        cpu = user + system
        writer_cpu = sum(sum(cpu_seconds(p)) for p in writers) - writer_before
        peaks = [memory(p).get("VmHWM", 0) for p in pids]
        peak = sum(peaks)
        shared = sum(proportional_mb(p) for p in pids)
        server.send_signal(signal.SIGTERM)
        exit_code = server.wait(timeout=60)
        server = None
        figures = parse_wrk(result.stdout)
        stored = check_database(env)
    finally:
        if server is not None:
            server.kill()
        shutil.rmtree(home, ignore_errors=True)
    acknowledged = int(figures["requests"] - figures["non2xx"])
    repeats = max(0, int(figures["requests"]) - total)
    print(result.stdout)
    print(
        f"database            {env['WABA_DATABASE_URL'].split(':')[0]} (SQLite synchronous=FULL unless a URL was given)"
    )
    print(f"deliveries          {int(figures['requests'])} in {wall:.1f} s, {repeats} repeats of earlier ones")
    print(f"requests/s          {figures['rps']:.0f}")
    print(
        f"latency ms          p50 {figures.get('p50', 0):.1f}  p90 {figures.get('p90', 0):.1f}  "
        f"p99 {figures.get('p99', 0):.1f}  max {figures.get('max', 0):.1f}"
    )
    print(f"non-2xx / socket    {int(figures['non2xx'])} / {int(figures['socket_errors'])}")
    print(
        f"server CPU          {cpu:.1f} s -> {figures['requests'] / cpu if cpu else 0:.0f} requests per CPU-second, "
        f"{cpu / figures['requests'] * 1e6 if figures['requests'] else 0:.0f} µs per delivery "
        f"({user:.1f} s user, {system:.1f} s system)"
    )
    print(
        f"CPU by process      HTTP (uvicorn) {cpu - writer_cpu:.1f} s, writer {writer_cpu:.1f} s "
        f"({writer_cpu / figures['requests'] * 1e6 if figures['requests'] else 0:.0f} µs per delivery)"
    )
    print(
        f"server peak RSS     {peak} MB (sum of {len(peaks)} processes: {' + '.join(map(str, peaks))}; "
        f"{shared} MB at the end counting shared pages once)"
    )
    print(f"SIGTERM exit code   {exit_code}")
    print(f"database check      {stored}")
    ok = stored["events"] >= acknowledged and stored["applied"] == stored["events"] and exit_code == 0
    print("check               " + ("PASS: every acknowledged delivery is stored and applied" if ok else "FAIL"))
    targets = [
        ("requests/s >= 5000", figures["rps"] >= 5000),
        ("p99 < 50 ms", figures.get("p99", 1e9) < 50),
        ("peak RSS < 150 MB", peak < 150),
    ]
    for name, met in targets:
        print(f"target              {name}: {'PASS' if met else 'SHORT'}")
    if not ok:
        return 2
    if args.strict and not all(met for _, met in targets):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
