"""The writer process: its wire format, and how it lives and dies beside the server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.webhook import Receiver, fixture_bytes, sign, start_receiver
from waba_cli.services.webhooks.parse import Delivery, parse_body
from waba_cli.webhook import wire


def _delivery(body: bytes, signed_for: frozenset[int] = frozenset({3, 1})) -> Delivery:
    return Delivery(
        body=body,
        payload=parse_body(body),
        headers={"content-type": "application/json", "user-agent": "facebookexternalua"},
        signed_for=signed_for,
        received_at=datetime(2026, 11, 30, 22, 15, 1, 123456, tzinfo=UTC),
    )


def test_a_delivery_crosses_the_socket_byte_for_byte() -> None:
    body = fixture_bytes("15-statuses-lifecycle.json")
    frames = wire.FrameBuffer().feed(wire.delivery_frame(41, _delivery(body)))
    assert len(frames) == 1
    seq, received = wire.read_delivery(frames[0])
    assert seq == 41
    assert received is not None
    assert received.body == body
    assert received.payload == json.loads(body)
    assert received.headers == {"content-type": "application/json", "user-agent": "facebookexternalua"}
    assert received.signed_for == frozenset({1, 3})
    assert received.received_at == datetime(2026, 11, 30, 22, 15, 1, 123456, tzinfo=UTC)


def test_an_unreadable_frame_keeps_its_sequence_number_to_be_answered_503() -> None:
    frame = wire.delivery_frame(7, _delivery(b'{"entry": []}'))
    broken = frame[wire.LENGTH.size :].replace(b'{"entry": []}', b'{"entry": [}')
    assert wire.read_delivery(broken) == (7, None)


@settings(deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=20), st.data())
def test_frames_come_out_whole_however_the_bytes_are_split(payloads: list[bytes], data: Any) -> None:
    stream = b"".join(wire.frame(p) for p in payloads)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    buffer = wire.FrameBuffer()
    out: list[bytes] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        out += buffer.feed(stream[start:end])
    assert out == payloads
    assert buffer.pending == 0


def _writer(receiver: Receiver) -> Any:
    process = receiver.app.intake._process
    assert process is not None
    return process


@pytest.mark.slow
def test_the_writer_ignores_sigterm_and_sigint_and_leaves_with_the_server(business: Any) -> None:
    app, uvicorn_server, thread, _log = start_receiver()
    port = uvicorn_server.servers[0].sockets[0].getsockname()[1]
    process = app.intake._process
    # systemd and terminals signal the whole group: the server shuts down, then closes the socket
    os.kill(process.pid, signal.SIGTERM)
    os.kill(process.pid, signal.SIGINT)
    body = fixture_bytes("15-statuses-lifecycle.json")
    response = httpx.post(
        f"http://127.0.0.1:{port}/webhook",
        content=body,
        headers={"x-hub-signature-256": sign(body), "content-type": "application/json"},
    )
    assert response.status_code == 200
    assert process.poll() is None
    uvicorn_server.should_exit = True
    thread.join(timeout=15)
    assert not thread.is_alive()
    assert process.poll() == 0  # stopped with the server, after storing what it had


@pytest.mark.slow
def test_a_writer_that_dies_is_replaced_and_the_server_says_so(receiver: Receiver) -> None:
    first = _writer(receiver)
    first.kill()
    body = fixture_bytes("01-text.json")
    deadline = time.monotonic() + 15
    codes = []
    while time.monotonic() < deadline:
        codes.append(receiver.post(body).status_code)
        if codes[-1] == 200:
            break
        time.sleep(0.05)
    assert codes[-1] == 200
    assert set(codes) <= {200, 503}
    assert _writer(receiver).pid != first.pid
    assert any("writer process stopped" in line for line in receiver.log.lines())


def test_the_http_side_imports_no_database_stack() -> None:
    """What `waba serve-webhook` execs into: uvicorn, the app and the wire; the writer owns the rest."""
    code = (
        "import sys, waba_cli.webhook.server as s, uvicorn.protocols.http.httptools_impl;"
        "s.worker_app;"
        "print(','.join(m for m in ('sqlalchemy', 'sqlmodel', 'cryptography', 'keyring', 'typer', 'rich', 'httpx')"
        " if m in sys.modules))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert found == ""


@pytest.mark.slow
def test_a_stalled_writer_gets_503_in_bounded_time_and_recovers(receiver: Receiver, monkeypatch: Any) -> None:
    """A locked database (here: the writer stopped with SIGSTOP) must not hold requests forever."""
    monkeypatch.setattr(receiver.app.intake, "SUBMIT_TIMEOUT", 0.5)
    process = _writer(receiver)
    body = fixture_bytes("01-text.json")
    os.kill(process.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        response = receiver.post(body)
        assert response.status_code == 503
        assert time.monotonic() - started < 5
    finally:
        os.kill(process.pid, signal.SIGCONT)
    assert receiver.post(body).status_code == 200
    assert any("not stored within 0.5 s" in line for line in receiver.log.lines())


def _serve(tmp_path: Any, **options: Any) -> subprocess.CompletedProcess[str]:
    """``python -m waba_cli.webhook.server`` as `waba serve-webhook` execs it, with these options."""
    env = {
        **os.environ,
        "WABA_SERVE_WEBHOOK_OPTIONS": json.dumps(
            {"path": "/webhook", "json_logs": False, "host": "127.0.0.1", "workers": 1, **options}
        ),
    }
    return subprocess.run(
        [sys.executable, "-P", "-m", "waba_cli.webhook.server"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )


@pytest.mark.slow
def test_a_taken_port_is_exit_1_and_nothing_is_left_running(business: Any, tmp_path: Any) -> None:
    from waba_cli.settings import load_settings

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = _serve(tmp_path, port=taken.getsockname()[1], config=str(load_settings().config_path))
    assert done.returncode == 1, done.stderr
    assert "could not start" in done.stderr


@pytest.mark.slow
def test_a_writer_that_cannot_start_is_exit_1_not_a_hang(business: Any, tmp_path: Any) -> None:
    config = tmp_path / "broken.toml"
    config.write_text('[database]\nurl = "postgresql+psycopg://nobody@127.0.0.1:1/none"\n', encoding="utf-8")
    env_url = os.environ.pop("WABA_DATABASE_URL", None)
    try:
        done = _serve(tmp_path, port=0, config=str(config))
    finally:
        if env_url is not None:
            os.environ["WABA_DATABASE_URL"] = env_url
    assert done.returncode == 1, done.stderr
    assert "could not start" in done.stderr
