"""A real sandbox server (``waba sandbox serve`` in a subprocess) and a webhook receiver, both on
loopback, so the stories see what a client and a webhook endpoint would see."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.support.sandbox import Delivery, Receiver, SandboxProcess
from waba_cli.sandbox import fixtures


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            from urllib.parse import parse_qs, urlparse

            query = parse_qs(urlparse(self.path).query)
            ok = query.get("hub.verify_token") == [fixtures.VERIFY_TOKEN]
            body = query.get("hub.challenge", [""])[0].encode() if ok else b"forbidden"
            self.send_response(200 if ok else 403)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            me = holder["receiver"]
            me.deliveries.put(Delivery({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(me.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["receiver"] = Receiver(f"http://127.0.0.1:{server.server_address[1]}/webhook")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield holder["receiver"]
    server.shutdown()
    server.server_close()


@pytest.fixture
def start_sandbox() -> Iterator[Any]:
    started: list[SandboxProcess] = []

    def start(*flags: str) -> SandboxProcess:
        sandbox = SandboxProcess(*flags)
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        if sandbox.process.poll() is None:
            sandbox.process.kill()
            sandbox.process.wait()


@pytest.fixture(scope="module")
def sandbox(receiver: Receiver) -> Iterator[SandboxProcess]:
    """A sandbox shared by a test module, delivering webhooks to ``receiver`` quickly; tests use
    their own customers and templates so that they do not see each other's."""
    started = SandboxProcess("--webhook-url", receiver.url, "--review-delay", "0.2", "--status-delay", "0.05")
    yield started
    if started.process.poll() is None:
        started.process.kill()
        started.process.wait()
