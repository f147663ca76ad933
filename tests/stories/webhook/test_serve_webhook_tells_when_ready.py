"""A script or systemd starts serve-webhook and waits for it: the "listening" line, --ready-file and
READY=1 all come once the port accepts connections, never before; the ready file goes on exit."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.world import REPO_ROOT

WAIT = 90  # s: the longest a start or a stop may take on a busy machine

pytestmark = [pytest.mark.slow, pytest.mark.backend_neutral]  # readiness is a matter of the port, not of the database


def accepts(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture
def notify_socket(tmp_path: Path) -> Any:
    """A unix datagram socket standing in for systemd's NOTIFY_SOCKET."""
    path = tmp_path / "notify.sock"
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(str(path))
    receiver.settimeout(WAIT)
    yield path, receiver
    receiver.close()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ready_file_and_systemd_hear_of_it_only_once_connections_succeed(
    business: dict[str, Any], tmp_path: Path, notify_socket: Any, workers: str
) -> None:
    notify_path, receiver = notify_socket
    ready = tmp_path / "ready"
    ready.write_text("stale: from a server that died\n")
    env = {**os.environ, "NOTIFY_SOCKET": str(notify_path), "PYTHONPATH": str(REPO_ROOT)}
    # with --port 0 nobody knows the port before waba says it: the file is the only way in
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "waba_cli",
            "serve-webhook",
            "--port",
            "0",
            "--workers",
            workers,
            "--ready-file",
            str(ready),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + WAIT
        while not ready.exists() or ready.read_text().startswith("stale"):
            assert server.poll() is None, server.stderr.read() if server.stderr else "exited"
            assert time.monotonic() < deadline, "no ready file"
            time.sleep(0.01)
        url = ready.read_text().strip()
        # the moment the file is there, the port accepts connections
        assert accepts(url), f"{url} refused a connection although the ready file was written"
        assert url.startswith("http://127.0.0.1:") and url.endswith("/webhook")
        assert stat.S_IMODE(ready.stat().st_mode) == 0o600

        message = receiver.recv(4096).decode()
        assert message.splitlines()[0] == "READY=1"
        assert f"STATUS=listening on {url}" in message

        assert server.stderr is not None
        lines = []
        while not any("listening" in line for line in lines):
            lines.append(server.stderr.readline())
        assert lines[-1].startswith(f"waba: listening on {url} (")

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=WAIT) == 0
        assert receiver.recv(4096) == b"STOPPING=1"
        assert not ready.exists(), "the ready file outlived the server"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=WAIT)


def test_the_listening_line_comes_when_the_port_accepts_connections(business: dict[str, Any]) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("NOTIFY_SOCKET", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "waba_cli", "serve-webhook", "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert server.stderr is not None
        line = ""
        deadline = time.monotonic() + WAIT
        while "listening" not in line:
            line = server.stderr.readline()
            assert line or server.poll() is None, "exited before listening"
            assert time.monotonic() < deadline
        url = line.split("listening on ", 1)[1].split(" ", 1)[0]
        assert accepts(url)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=WAIT) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=WAIT)


def test_a_ready_file_in_a_missing_directory_is_bad_input(waba: Any, business: dict[str, Any], tmp_path: Path) -> None:
    result = waba("serve-webhook", "--port", "0", "--ready-file", str(tmp_path / "nowhere" / "ready"))
    assert result.code == 2
    assert "the directory" in result.err
    assert "does not exist" in result.err
