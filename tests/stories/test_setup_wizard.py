"""The operator meets waba: `waba account setup` on a real pseudo-terminal (pexpect) against the real
sandbox. A typo is re-asked with its reason, a WABA and a number are picked from what the token
reaches, a 24-hour token is warned about and replaced, an unregistered number is offered
registration; Ctrl-C keeps the answers (secrets encrypted) for --resume; and the round trip ends
with a customer's message stored by a running serve-webhook."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pexpect
import pytest
from sqlalchemy import create_engine, text

from waba_cli.sandbox import fixtures
from waba_cli.sandbox.state import Waba

pytestmark = pytest.mark.slow

TIMEOUT = 90  # seconds per expected screen: the machine may be busy
CLIENT_WABA = "104839201938999"
CLIENT_BUSINESS = "230948572000001"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


# -- the world: a sandbox process, a terminal --------------------------------------------------


class Sandbox:
    """`waba sandbox serve --port 0` in a subprocess, from a saved world."""

    def __init__(self, state: Path, *flags: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "waba_cli", "sandbox", "serve", "--port", "0", "--state", str(state), *flags],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + 60
        seen = ""
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            seen += line
            if "Graph API at " in line:
                self.url = line.split("Graph API at ")[1].split()[0]
                return
            if not line:
                break
        self.process.kill()
        raise AssertionError("the sandbox did not start:\n" + seen)

    def new_token(self, **body: Any) -> str:
        answer = httpx.post(f"{self.url}/_sandbox/tokens", json=body, timeout=30).json()
        return str(answer["access_token"])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def _world(path: Path) -> Path:
    """The seeded sandbox plus a second WABA a client shared with the business, reachable by the token."""
    state = fixtures.seed_state()
    state.add(Waba(CLIENT_WABA, "Client Co", CLIENT_BUSINESS, "Client Co", client_of=[fixtures.BUSINESS_ID]))
    state.tokens[fixtures.ACCESS_TOKEN].target_ids.append(CLIENT_WABA)
    state.save(path)
    return path


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    started = Sandbox(_world(tmp_path / "sandbox.json"))
    monkeypatch.setenv("WABA_GRAPH_BASE_URL", started.url)
    yield started
    started.stop()


class Terminal:
    """A waba command on a pseudo-terminal, answered like an operator would."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "TERM": "xterm", "NO_COLOR": "1", "PROMPT_TOOLKIT_NO_CPR": "1", "COLUMNS": "160"}
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "waba_cli", *args],
            env=env,
            encoding="utf-8",
            timeout=TIMEOUT,
            dimensions=(50, 160),
        )
        self.seen: list[str] = []

    def expect(self, pattern: str) -> str:
        try:
            self.child.expect(pattern)
        except (pexpect.TIMEOUT, pexpect.EOF):
            raise AssertionError(f"expected {pattern!r}; the screen ended with:\n{self.screen()[-3000:]}") from None
        shown = ANSI.sub("", str(self.child.before) + str(self.child.after))
        self.seen.append(shown)
        return shown

    def answer(self, pattern: str, reply: str) -> str:
        shown = self.expect(pattern)
        time.sleep(0.15)  # let the prompt finish drawing before typing
        self.child.send(reply + "\r")
        return shown

    def screen(self) -> str:
        return "".join(self.seen) + ANSI.sub("", str(self.child.before or ""))

    def finish(self) -> int:
        self.child.expect(pexpect.EOF, timeout=TIMEOUT)
        self.seen.append(ANSI.sub("", str(self.child.before)))
        self.child.close()
        return int(self.child.exitstatus if self.child.exitstatus is not None else 128 + (self.child.signalstatus or 0))


CLEAR = "\x15"  # Ctrl-U: the typo stays on the line; clear it before typing the right value


def _row_number(table: str, cell: str) -> str:
    """The # of the table row holding ``cell``."""
    line = next(line for line in table.splitlines() if cell in line)
    return line.split("│")[1].strip()


def _query(database_url: str, sql: str) -> list[Any]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = list(conn.execute(text(sql)).all())
    engine.dispose()
    return rows


# -- the stories -------------------------------------------------------------------------------


def test_the_wizard_picks_waba_and_number_from_discovery_warns_of_a_24_hour_token_and_registers_the_number(
    sandbox: Sandbox, isolated: Path, database_url: str
) -> None:
    day_token = sandbox.new_token(expires_in=86400, target_ids=[fixtures.WABA_ID, CLIENT_WABA])
    term = Terminal("account", "setup")

    term.answer("name", "Sandbox Shop")
    term.answer("waba_id", "10483920193847x")  # a typo: re-asked with the reason, nothing retyped
    term.expect("numeric id")
    term.child.send(CLEAR + "\r")  # Enter alone: discover
    term.answer("access_token", day_token)
    picked = term.expect(r"WABA \(1-2")
    assert "Client Co" in picked and "client" in picked
    term.child.send(_row_number(picked, fixtures.WABA_ID) + "\r")
    term.answer("meta_business_account_id", "")  # the WABA's owner, offered as the default
    term.answer("app_id", "")  # the token's app, offered as the default
    term.answer("app_secret", fixtures.APP_SECRET)
    numbers = term.expect(r"number \(1-4")
    assert "+1 555-013-4569" in numbers and "not registered" in numbers
    term.child.send(_row_number(numbers, "+1 555-013-4569") + "\r")
    term.answer("phone_number", "")
    term.answer("display_phone_number", "")
    term.answer("webhook_verify_token", "")  # generated
    warned = term.answer("Keep this token anyway", "n")
    assert "EXPIRES IN" in warned and "System users" in warned
    term.answer("access_token", fixtures.ACCESS_TOKEN)
    offered = term.answer("Register it after saving", "y")
    assert "+1 555-013-4569 is not registered" in offered
    term.answer("business_name", "Sandbox Shop")
    term.answer("business_description", "Succulents, delivered.")
    term.answer("business_email", "hello@shop.example.com")
    term.answer("business_vertical", "Insurence")
    term.answer(r"did you mean FINANCE\?", CLEAR + "Insurance")
    term.answer("business_address", "")
    term.answer("Push this business profile", "y")
    term.answer("enable_auto_reply", "")
    term.answer("use_knowledge_base", "")
    term.answer("enable_business_hours", "")
    term.answer("business_timezone", "berlin")
    term.answer("did you mean Europe/Berlin", CLEAR + "Europe/Berlin")
    term.answer("webhook_url", "https://hooks.example.com/webhook")
    term.answer("subscribed_webhook_events", "messages, message_deliveries")
    summary = term.answer("Save this account", "y")
    assert "nothing is saved yet" in summary and fixtures.ACCESS_TOKEN not in summary and "EAAG…6789" in summary
    assert not _query(database_url, "SELECT name FROM account")  # nothing before the confirmation
    term.answer("round trip", "n")
    assert term.finish() == 0
    shown = term.screen()
    assert "registered with the Cloud API; its two-step PIN is" in shown
    assert "business profile of +15550134569 pushed to Meta" in shown
    assert "Verify token:" in shown and "https://hooks.example.com/webhook" in shown

    [(name, waba_id, vertical, zone, events)] = _query(
        database_url,
        "SELECT name, waba_id, business_vertical, business_timezone, subscribed_webhook_events FROM account",
    )
    assert (name, waba_id, vertical, zone) == ("Sandbox Shop", fixtures.WABA_ID, "FINANCE", "Europe/Berlin")
    assert "messages" in str(events) and "message_deliveries" not in str(events)
    [(number_id, pin_enc, platform)] = _query(
        database_url, "SELECT phone_number_id, pin_enc, platform_type FROM phone_number"
    )
    assert number_id == fixtures.UNREGISTERED_PHONE_NUMBER_ID and pin_enc and platform == "CLOUD_API"
    assert not (isolated / "setup" / "in-progress.json").exists()


def test_ctrl_c_keeps_the_answers_encrypted_and_resume_continues_at_that_step(
    isolated: Path, database_url: str
) -> None:
    term = Terminal("account", "setup", "--no-verify")
    term.answer("name", "Acme")
    term.answer("waba_id", fixtures.WABA_ID)
    term.answer("meta_business_account_id", "")
    term.answer("app_id", fixtures.APP_ID)
    term.answer("app_secret", fixtures.APP_SECRET)
    term.expect("phone_number_id")
    term.child.sendintr()
    assert term.finish() == 130
    assert "interrupted at step 2/6" in term.screen() and "--resume" in term.screen()

    kept = isolated / "setup" / "in-progress.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    assert fixtures.APP_SECRET not in kept.read_text()
    assert '"name": "Acme"' in kept.read_text()
    assert not _query(database_url, "SELECT name FROM account")

    again = Terminal("account", "setup", "--resume", "--no-verify")
    resumed = again.answer("phone_number_id", fixtures.PHONE_NUMBER_ID)
    assert "resuming of 'Acme' at step 2/6" in resumed and "Step 1/6" not in resumed
    again.answer("phone_number", fixtures.PHONE_NUMBER)
    again.answer("display_phone_number", "")
    again.answer("access_token", fixtures.ACCESS_TOKEN)
    again.answer("webhook_verify_token", "verify-me-please")
    for field in ("business_name", "business_description", "business_email", "business_vertical", "business_address"):
        again.answer(field, "")
    for field in ("enable_auto_reply", "use_knowledge_base", "enable_business_hours", "business_timezone"):
        again.answer(field, "")
    again.answer("webhook_url", "")
    again.answer("subscribed_webhook_events", "")
    again.answer("Save this account", "y")
    assert again.finish() == 0
    assert _query(database_url, "SELECT name, app_id FROM account") == [("Acme", fixtures.APP_ID)]
    assert not kept.exists()


def test_the_round_trip_ends_with_a_customer_message_stored_by_serve_webhook(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A setup file without the token: only the token is asked; then the live round trip, the
    sandbox's `waba sandbox inbound` standing in for the operator's phone."""
    import json
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    webhook_url = f"http://127.0.0.1:{port}/webhook"
    sandbox = Sandbox(tmp_path / "sandbox.json", "--webhook-url", webhook_url)
    monkeypatch.setenv("WABA_GRAPH_BASE_URL", sandbox.url)
    setup = fixtures.setup_document(webhook_url)
    del setup["access_token"]
    path = tmp_path / "acme.json"
    path.write_text(json.dumps(setup))
    server = None
    try:
        term = Terminal("account", "setup", "--from-file", str(path))
        asked = term.answer("access_token", fixtures.ACCESS_TOKEN)
        assert "Step 1/6" not in asked  # the file gave every other value
        term.answer("Save this account", "y")
        term.answer("round trip", "y")
        waiting = term.expect("Enter skips")
        assert "waba sandbox inbound --to +15550134567" in term.expect("stands in for the phone") or waiting
        server = subprocess.Popen(
            [sys.executable, "-m", "waba_cli", "serve-webhook", "--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        _wait_until_up(f"http://127.0.0.1:{port}/healthz")
        inbound = subprocess.run(
            [
                *(sys.executable, "-m", "waba_cli", "sandbox", "inbound"),
                *("--to", fixtures.PHONE_NUMBER, "--from", "+15551230001", "--text", "hi from my phone"),
                *("--sandbox-url", sandbox.url),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert inbound.returncode == 0, inbound.stdout + inbound.stderr
        term.expect("inbound works end to end")
        assert term.finish() == 0
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        sandbox.stop()
    assert "inbound works end to end: +15551230001 wrote 'hi from my phone'" in term.screen()
    assert _query(database_url, "SELECT direction, text FROM message") == [("in", "hi from my phone")]


def _wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")


def test_account_update_reads_a_new_secret_with_hidden_input(waba: Any, account: Any) -> None:
    new_token = "EAAGnewtokenZCpsBAKZCyZBqZAt3vZBZCpLmnOpQrStUvWxYz0123456789NEW1"
    term = Terminal("account", "update", account["name"], "--secret", "access_token", "--no-verify")
    term.answer("new access_token", new_token)
    assert term.finish() == 0
    assert new_token not in term.screen()  # typed, never shown
    assert waba("account", "show", "--json").json()["access_token"] == "EAAG…NEW1"
