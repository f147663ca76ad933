"""`waba demo` end to end, as an operator runs it: a subprocess that must finish, pass every step
and leave no server behind."""

from __future__ import annotations

import json
import os
import re
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

    home = Path(re.search(r"The demo's home is kept: (\S+)", result.stdout).group(1))  # type: ignore[union-attr]
    try:
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
