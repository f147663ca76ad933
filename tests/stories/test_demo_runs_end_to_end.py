"""`waba demo` end to end, as an operator runs it: a subprocess that must finish, pass every step
and leave no server behind."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _env() -> dict[str, str]:
    """The operator's environment: none of the test's WABA_* settings (the demo brings its own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("WABA_", "WHATSAPP_"))}


def _closed(url: str) -> bool:
    host, port = url.split("//")[1].split("/", maxsplit=1)[0].split(":")
    with socket.socket() as sock:
        return sock.connect_ex((host, int(port))) != 0


def _server_urls(output: str) -> list[str]:
    return re.findall(r"(?:Graph API at|serve-webhook at) (http://127\.0\.0\.1:\d+)", output)


def test_demo_runs_the_whole_loop_until_messages_are_read(tmp_path: Path) -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "waba_cli", "demo", "--keep"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # under 30 s on an idle machine; CI may run it beside CPU-heavy work on 2 cores
    assert time.monotonic() - started < 180
    steps = re.findall(r"^Step (\d+)/(\d+) ", result.stdout, re.MULTILINE)
    assert len(steps) == int(steps[0][1]) >= 8
    assert "every step passed" in result.stdout
    urls = _server_urls(result.stdout)
    assert len(urls) == 2
    assert all(_closed(url) for url in urls)

    # every step shows the commands it runs in full, ready to copy
    blocks = re.split(r"^Step \d+/\d+ .*$", result.stdout, flags=re.MULTILINE)[1:]
    assert all(re.search(r"^    \$ waba ", block, re.MULTILINE) for block in blocks), result.stdout
    shown = re.findall(r"^    \$ (waba .+)$", result.stdout, re.MULTILINE)
    assert "waba init" in shown
    assert "waba account setup" in shown
    assert any(line.startswith("waba sandbox serve --port ") for line in shown)
    assert "waba send text --to +15551230001 --body 'Yes! It left our warehouse this morning.' --json" in shown

    home = Path(re.search(r"The demo's home is kept: (\S+)", result.stdout).group(1))  # type: ignore[union-attr]
    try:
        # a command the demo showed, copied into a shell with the kept home, does what it did there
        copied = next(line for line in shown if line.startswith("waba message list "))
        again = subprocess.run(
            [sys.executable, "-m", "waba_cli", *shlex.split(copied)[1:]],
            capture_output=True,
            text=True,
            env={**_env(), "WABA_HOME": str(home), "WABA_ACCOUNT": "sandbox"},
            timeout=60,
            check=False,
        )
        assert again.returncode == 0, again.stderr
        assert len(json.loads(again.stdout)) >= 4
        listing = subprocess.run(
            [sys.executable, "-m", "waba_cli", "message", "list", "--json"],
            capture_output=True,
            text=True,
            env={**_env(), "WABA_HOME": str(home)},
            timeout=60,
            check=True,
        )
        messages = json.loads(listing.stdout)
        outbound = [m for m in messages if m["direction"] == "out"]
        assert len(outbound) == 4  # a text, a template, reply buttons and a flow
        assert {m["status"] for m in outbound} == {"read"}
        assert {m["type"] for m in outbound} == {"text", "template", "interactive"}
        assert [m for m in messages if m["direction"] == "in"]
    finally:
        import shutil

        shutil.rmtree(home, ignore_errors=True)


def test_demo_interrupted_stops_its_servers_and_exits_130() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "waba_cli", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        start_new_session=True,
    )
    assert process.stdout is not None
    seen = ""
    for line in process.stdout:
        seen += line
        if line.startswith("Step 5/"):
            break
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in a terminal signals the whole process group
    rest, err = process.communicate(timeout=60)
    assert process.returncode == 130, seen + rest + err
    urls = _server_urls(seen)
    assert len(urls) == 2
    assert all(_closed(url) for url in urls)
    home = re.search(r"key file in (\S+?) \(", seen)
    assert home is not None
    assert not Path(home.group(1)).exists()


def test_demo_json_is_one_document_of_the_steps_and_their_outcome() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "waba_cli", "demo", "--json"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)  # nothing else on stdout
    assert report["ok"] is True
    assert report["steps_passed"] == report["steps_total"] == len(report["steps"]) >= 8
    assert report["home"] is None
    for step in report["steps"]:
        assert step["ok"] is True
        assert step["outcome"]
        assert step["commands"], step
        assert all(c["command"].startswith("waba ") for c in step["commands"])
    ran = {c["command"]: c["exit_code"] for step in report["steps"] for c in step["commands"]}
    assert ran["waba init"] == 0
    assert ran["waba account setup"] == 0
    assert any(command.startswith("waba serve-webhook ") and code is None for command, code in ran.items())
    assert "Step 1/" in result.stderr  # the narration, for whoever watches
