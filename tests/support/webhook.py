"""Meta's side of a webhook, for the tests: the sample deliveries, signing, deliveries built to
order, and a real serve-webhook on 127.0.0.1 (uvicorn in a thread, httpx as Meta)."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Connection

from tests.support.world import FIXTURES, SEED_SETUP

WEBHOOKS = FIXTURES / "webhooks"
# the fixtures' business: WABA, number and the second WABA of the batched sample
WABA_ID = "104839201938475"
PHONE_NUMBER_ID = SEED_SETUP["phone_number_id"]
APP_SECRET = SEED_SETUP["app_secret"]
VERIFY_TOKEN = SEED_SETUP["webhook_verify_token"]
OTHER_APP_SECRET = "test-app-secret"  # the reference's test vector (§8.3)
CUSTOMER = "5511987654321"


def fixture_bytes(name: str) -> bytes:
    return (WEBHOOKS / name).read_bytes()


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    """The ``X-Hub-Signature-256`` header Meta sends with ``body`` (§8.3)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def envelope(*changes: dict[str, Any], waba_id: str = WABA_ID) -> bytes:
    entry = {"id": waba_id, "changes": list(changes)}
    return json.dumps({"object": "whatsapp_business_account", "entry": [entry]}).encode()


def inbound_text(wamid: str, body: str, *, at: int | None = None, sender: str = CUSTOMER) -> bytes:
    return envelope(
        {
            "field": "messages",
            "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550134567", "phone_number_id": PHONE_NUMBER_ID},
                "contacts": [{"profile": {"name": "Ana Souza"}, "wa_id": sender}],
                "messages": [
                    {
                        "from": sender,
                        "id": wamid,
                        "timestamp": str(at or int(time.time())),
                        "type": "text",
                        "text": {"body": body},
                    }
                ],
            },
        }
    )


class LogStream(io.StringIO):
    """The delivery log, kept for assertions (written from the server's threads)."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()

    def write(self, text: str) -> int:
        with self.lock:
            return super().write(text)

    def lines(self) -> list[str]:
        with self.lock:
            return self.getvalue().splitlines()


@dataclass
class Receiver:
    """The running server: where it listens, a client, and its database."""

    url: str
    client: httpx.Client
    app: Any
    log: LogStream
    store: Any = None

    def post(self, body: bytes, *, secret: str | None = APP_SECRET, **headers: str) -> httpx.Response:
        sent = {"content-type": "application/json", **headers}
        if secret is not None:
            sent["x-hub-signature-256"] = sign(body, secret)
        return self.client.post(self.url + "/webhook", content=body, headers=sent)

    def db(self) -> Any:
        """The database as the writer process opens it (the server process itself holds none)."""
        if self.store is None:
            from waba_cli.services.webhooks.store import open_store
            from waba_cli.settings import load_settings

            self.store = open_store(load_settings())
        return self.store

    def connect(self) -> Connection:
        conn: Connection = self.db().engine.connect()
        return conn

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until the auto-reply thread has nothing pending (replies go out after the 200)."""
        from sqlalchemy import text

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.connect() as conn:
                busy = conn.execute(
                    text("SELECT count(*) FROM auto_reply WHERE status IN ('pending', 'sending')")
                ).scalar_one()
            if not busy:
                return
            time.sleep(0.05)
        raise AssertionError("auto-replies still pending")


def start_receiver(**options: Any) -> tuple[Any, Any, threading.Thread, LogStream]:
    from waba_cli.settings import load_settings
    from waba_cli.webhook.server import Options, WebhookApp, server

    log = LogStream()
    app = WebhookApp(load_settings(), Options(**options), stream=log)
    uvicorn_server = server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uvicorn_server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("serve-webhook did not start")
        time.sleep(0.01)
    return app, uvicorn_server, thread, log


# -- a real `waba serve-webhook` process -----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def configure_webhook(home: Path, **values: object) -> None:
    """Set ``[webhook]`` keys in the config file of the test's WABA_HOME (before the server starts)."""
    path = home / "config.toml"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    assert "[webhook]" not in text
    lines = "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items())
    path.write_text(f"{text}\n[webhook]\n{lines}", encoding="utf-8")


def start_process(port: int, *extra: str, wait: float = 90) -> subprocess.Popen[bytes]:
    """``waba serve-webhook --port PORT`` in its own process, once its /healthz answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "waba_cli", "serve-webhook", "--port", str(port), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.05)
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode() if process.stderr else "exited")
    process.kill()
    raise AssertionError("serve-webhook did not start")
