"""`waba health check` as cron and Nagios run it: real `waba` processes against a real sandbox. The
exit code and the first line follow the accounts (OK, WARNING, CRITICAL) and an unreachable API
(UNKNOWN, in time); a transition is recorded and notified once; and every `waba health` command the
README shows runs against the sandbox."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from waba_cli.sandbox import fixtures

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"
ONBOARDING = ["+15550134569", "+15550134570"]
SUMMER_SALE = "1304694804498707"  # the seeded PAUSED template


class Sandbox:
    def __init__(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "waba_cli", "sandbox", "serve", "--port", "0", "--review-delay", "0.2"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + 30
        self.url = ""
        while time.monotonic() < deadline and not self.url:
            line = self.process.stdout.readline()
            if "Graph API at " in line:
                self.url = line.split("Graph API at ")[1].split()[0]
        assert self.url, "the sandbox did not start"
        threading.Thread(target=lambda: [None for _ in self.process.stdout or []], daemon=True).start()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        answer = httpx.post(
            f"{self.url}{path}", json=body, headers={"Authorization": f"Bearer {fixtures.ACCESS_TOKEN}"}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


@pytest.fixture
def sandbox(waba: Any, tmp_path: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    started = Sandbox()
    try:
        monkeypatch.setenv("WABA_GRAPH_BASE_URL", started.url)
        setup = tmp_path / "sandbox.json"
        setup.write_text(json.dumps(fixtures.setup_document(None)), encoding="utf-8")
        assert waba("account", "setup", "--from-file", str(setup), "--no-verify").code == 0
        yield started
    finally:
        started.stop()


def _config(home: Path, **values: Any) -> None:
    lines = ["[health]"] + [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    (home / "config.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _waba(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "waba_cli", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=timeout,
        check=False,
    )


class Receiver:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                owner.bodies.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0")))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T0/B0/XXXX"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


def test_cron_reads_the_exit_code_and_the_first_line_as_the_accounts_change(
    sandbox: Sandbox, isolated: Path, receiver: Receiver
) -> None:
    critical = _waba("health", "check", "--quiet")
    assert critical.returncode == 2, critical.stdout + critical.stderr
    assert critical.stdout.startswith("WABA CRITICAL - 1 critical, 2 warnings: +1 555-013-4569: not registered")

    _config(isolated, ignore_numbers=ONBOARDING)
    warning = _waba("health", "check", "--quiet", "--notify", receiver.url)
    assert warning.returncode == 1
    assert warning.stdout == "WABA WARNING - 1 warning: summer_sale en_US PAUSED (sends refused with 132015)\n"
    assert receiver.bodies == []  # the paused template was already a WARNING: no change to tell

    sandbox.post(f"/v23.0/{SUMMER_SALE}/unpause", {})
    cached = _waba("health", "check", "--quiet", "--notify", receiver.url)
    assert cached.returncode == 1  # Meta's answers of a minute ago are reused
    assert receiver.bodies == []
    ok = _waba("health", "check", "--quiet", "--max-age", "0", "--notify", receiver.url)
    assert ok.returncode == 0
    assert ok.stdout.startswith("WABA OK - 9 check(s) OK on 1 account(s)")
    again = _waba("health", "check", "--quiet", "--max-age", "0", "--notify", receiver.url)
    assert again.returncode == 0
    assert len(receiver.bodies) == 1  # the transition to OK, told once
    assert receiver.bodies[0]["changes"][0]["check"] == "templates"
    assert receiver.bodies[0]["changes"][0]["to"] == "OK"

    history = json.loads(_waba("health", "history", "--check", "templates", "--json").stdout)["transitions"]
    assert [(t["from"], t["to"]) for t in history] == [(None, "WARNING"), ("WARNING", "OK")]

    sandbox.stop()
    _config(isolated, ignore_numbers=ONBOARDING, request_timeout=1.0)
    started = time.monotonic()
    gone = _waba("health", "check", "--quiet", "--max-age", "0")
    assert gone.returncode == 3
    assert gone.stdout.startswith("WABA UNKNOWN - ")
    assert time.monotonic() - started < 15


def _readme_commands() -> list[str]:
    """Every `waba health ...` command of the README's Health section, optional parts left out."""
    text = README.read_text()
    section = text[text.index("### Health") : text.index("### Secrets")]
    found = []
    for match in re.finditer(r"waba health (?:check|history)[^\n'#`]*", section):
        command = re.sub(r"\[[^\]]*\]", "", match.group(0)).strip()
        if command not in found:
            found.append(command)
    return found


def test_every_health_command_in_the_readme_runs_against_the_sandbox(
    sandbox: Sandbox, isolated: Path, receiver: Receiver, tmp_path: Path
) -> None:
    _config(isolated, ignore_numbers=ONBOARDING, canary_timeout="2s")
    commands = _readme_commands()
    assert len(commands) >= 10
    textfile = tmp_path / "textfile" / "waba.prom"
    textfile.parent.mkdir()
    for command in commands:
        line = command.replace("/var/lib/node_exporter/textfile/waba.prom", str(textfile))
        line = line.replace("https://hooks.slack.com/services/T0/B0/XXXX", receiver.url)
        args = shlex.split(line)[1:]
        result = _waba(*args)
        assert result.returncode in (0, 1, 2), f"{line}: {result.returncode} {result.stdout} {result.stderr}"
        if args[:2] == ["health", "check"] and "--json" not in args and "prometheus" not in args:
            assert result.stdout.startswith("WABA "), line
    assert textfile.read_text().startswith("# HELP waba_health_status")
