"""Readiness: the "listening" line, the ready file and systemd's notification, once each."""

from __future__ import annotations

import io
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from waba_cli.webhook.ready import Readiness, sd_notify


@pytest.fixture
def systemd(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    path = tmp_path / "notify"
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(str(path))
    receiver.settimeout(5)
    yield str(path), receiver
    receiver.close()


def test_sd_notify_sends_one_datagram_to_the_notify_socket(systemd: tuple[str, socket.socket]) -> None:
    path, receiver = systemd
    assert sd_notify("READY=1", {"NOTIFY_SOCKET": path})
    assert receiver.recv(100) == b"READY=1"


def test_sd_notify_without_systemd_does_nothing(tmp_path: Path) -> None:
    assert not sd_notify("READY=1", {})
    assert not sd_notify("READY=1", {"NOTIFY_SOCKET": str(tmp_path / "gone")})  # nobody listens: no error


def test_ready_announces_once_and_stopped_takes_it_back(
    tmp_path: Path, systemd: tuple[str, socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, receiver = systemd
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    stream = io.StringIO()
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    ready_file = run_dir / "ready"
    readiness = Readiness(path="/webhook", detail="1 app secret(s)", ready_file=str(ready_file), stream=stream)
    assert not ready_file.exists()

    readiness.ready("127.0.0.1", 8123)
    readiness.ready("127.0.0.1", 8123)

    assert ready_file.read_text() == "http://127.0.0.1:8123/webhook\n"
    assert stat.S_IMODE(ready_file.stat().st_mode) == 0o600
    assert stream.getvalue() == "waba: listening on http://127.0.0.1:8123/webhook (1 app secret(s)); Ctrl-C to stop\n"
    assert receiver.recv(200).startswith(b"READY=1\nSTATUS=listening on http://127.0.0.1:8123/webhook")

    readiness.stopped()
    assert not ready_file.exists()
    assert receiver.recv(200) == b"STOPPING=1"
    assert list(run_dir.iterdir()) == []  # no temporary file left behind


def test_an_ipv6_address_is_bracketed_in_the_url(tmp_path: Path) -> None:
    stream = io.StringIO()
    Readiness(path="/hook", detail=None, ready_file=None, stream=stream).ready("::1", 9000)
    assert stream.getvalue() == "waba: listening on http://[::1]:9000/hook; Ctrl-C to stop\n"
