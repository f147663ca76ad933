"""The sandbox for the tests: ``waba sandbox serve`` in a subprocess, a webhook endpoint that
records what it delivers, and requests handed straight to an in-process sandbox."""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.webhook import sign
from waba_cli.sandbox import fixtures
from waba_cli.sandbox.runtime import Request

TOKEN = fixtures.ACCESS_TOKEN
PNID = fixtures.PHONE_NUMBER_ID
WABA = fixtures.WABA_ID


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def signed_by(self, secret: str) -> bool:
        return hmac.compare_digest(sign(self.body, secret), self.headers.get("x-hub-signature-256", ""))


@dataclass
class Receiver:
    """A webhook endpoint: answers GET verifications and records POSTed deliveries."""

    url: str
    deliveries: queue.Queue[Delivery] = field(default_factory=queue.Queue)
    status: int = 200

    def next(self, timeout: float = 10.0) -> Delivery:
        return self.deliveries.get(timeout=timeout)

    def changes(self, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Every change of the next delivery."""
        payload = self.next(timeout).json()
        return [change for entry in payload["entry"] for change in entry["changes"]]

    def statuses_until(self, wanted: set[tuple[str, str]], timeout: float = 10.0) -> list[list[dict[str, Any]]]:
        """The status objects of the wanted messages, per delivery, until every (wamid, status) in
        ``wanted`` arrived (deliveries for other messages, e.g. of an earlier test, are skipped)."""
        ids = {wamid for wamid, _status in wanted}
        batches: list[list[dict[str, Any]]] = []
        deadline = time.monotonic() + timeout
        while not wanted <= {(s["id"], s["status"]) for batch in batches for s in batch}:
            delivery = self.next(max(0.1, deadline - time.monotonic()))
            assert delivery.signed_by(fixtures.APP_SECRET)
            changes = [change for entry in delivery.json()["entry"] for change in entry["changes"]]
            mine = [s for c in changes for s in c["value"].get("statuses", []) if s["id"] in ids]
            if mine:
                batches.append(mine)
        return batches

    def statuses(self, wanted: set[tuple[str, str]], timeout: float = 10.0) -> dict[tuple[str, str], dict[str, Any]]:
        """The wanted status objects by (wamid, status)."""
        return {(s["id"], s["status"]): s for batch in self.statuses_until(wanted, timeout) for s in batch}

    def template_events(self, name: str, timeout: float = 10.0) -> list[dict[str, Any]]:
        """``message_template_status_update`` values for the template ``name``, from the next delivery
        that has one."""
        deadline = time.monotonic() + timeout
        while True:
            delivery = self.next(max(0.1, deadline - time.monotonic()))
            assert delivery.signed_by(fixtures.APP_SECRET)
            values = [
                change["value"]
                for entry in delivery.json()["entry"]
                for change in entry["changes"]
                if change["field"] == "message_template_status_update"
                and change["value"]["message_template_name"] == name
            ]
            if values:
                return values

    def messages(self, sender: str, timeout: float = 10.0) -> tuple[Delivery, dict[str, Any]]:
        """The next delivery of a customer message from ``sender`` (digits), and its value."""
        deadline = time.monotonic() + timeout
        while True:
            delivery = self.next(max(0.1, deadline - time.monotonic()))
            for entry in delivery.json()["entry"]:
                for change in entry["changes"]:
                    value = change["value"]
                    if any(m["from"] == sender for m in value.get("messages", [])):
                        return delivery, value


class SandboxProcess:
    """``waba sandbox serve --port 0 ...`` in a subprocess; ``url`` is where it listens."""

    def __init__(self, *flags: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "waba_cli", "sandbox", "serve", "--port", "0", *flags],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self.url = self._wait_for_address()
        self.client = httpx.Client(base_url=f"{self.url}/v23.0", headers={"Authorization": f"Bearer {TOKEN}"})

    def _wait_for_address(self) -> str:
        assert self.process.stdout is not None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            if "Graph API at " in line:
                url = line.split("Graph API at ")[1].split()[0]
                self._drainer.start()
                return url
        self.process.kill()
        raise AssertionError("the sandbox did not start:\n" + "".join(self.lines))

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def send(self, body: dict[str, Any], phone_number_id: str = PNID) -> httpx.Response:
        return self.client.post(f"/{phone_number_id}/messages", json={"messaging_product": "whatsapp", **body})

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.wait()

    def wait(self) -> int:
        """Its exit code, once it has exited and everything it printed is in ``lines``."""
        self.client.close()
        code = self.process.wait(timeout=15)
        self._drainer.join(timeout=5)
        return code


def call(sandbox: Any, method: str, path: str, body: dict[str, Any] | None = None, **query: str) -> tuple[int, Any]:
    """A Graph request with the seeded token, handed straight to an in-process sandbox (no HTTP)."""
    request = Request(
        method,
        f"/v23.0/{path}",
        dict(query),
        {"authorization": f"Bearer {TOKEN}", "content-type": "application/json"},
        json.dumps(body).encode() if body is not None else b"",
        "http://127.0.0.1",
    )
    answer: tuple[int, Any] = asyncio.run(sandbox.handle(request))
    return answer


def post_message(sandbox: Any, body: dict[str, Any]) -> tuple[int, Any]:
    """``POST /{phone-number-id}/messages`` handed straight to an in-process sandbox (no HTTP)."""
    return call(sandbox, "POST", f"{PNID}/messages", body)
