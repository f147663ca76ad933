"""Every command the README shows runs as written, in order, against a running sandbox.

The README is the contract with users, so this test reads it and runs it; an example that drifts
from the code fails here. The rules, which a README author needs to know:

- **Command blocks** are fences marked ```bash, ```sh, ```shell or ```console, and any other fence
  whose lines (blank and ``#`` comment lines aside) all start with ``waba `` or ``$ waba ``. Every
  other line of a command block is an error: a block that is not meant to be run (installing, cron
  or systemd configuration, a PostgreSQL server) gets ``<!-- not run: the reason -->`` on the line
  just before its fence. Use it sparingly.
- Each ``waba ...`` line (``\\``-continued lines joined, a leading ``$ `` dropped) runs in order
  in one home set up once, as ``waba demo`` sets its own up: the sandbox, the webhook receiver,
  the account ``sandbox`` (``WABA_ACCOUNT``), a customer +1 650-555-0123 who wrote to both numbers,
  the numbers still being onboarded in ``health.ignore_numbers``. Lines run in this process as the
  console script would run them (``waba demo`` and servers as processes of their own).
- Synopsis notation: an optional ``[...]`` part is left out, ``a|b`` takes ``a``; ``ACC`` is the
  account ``acme`` (set up by the README's own setup file), ``wamid.HBgL...`` the newest stored
  message, event ``42`` the newest event, ``db copy --to URL`` an empty SQLite file. A server's
  ``--port`` gets a free port; a path of a production machine (``/var/lib/...``) becomes a file of
  the work folder, the Slack URL a closed local port.
- A line must exit 0, or the code its comment states as ``(exit N`` (e.g. ``# ... (exit 2 without
  a terminal)``), or one the line ``<!-- exit codes: 0 1 (why) -->`` before its fence allows. A
  line whose comment says ``until Ctrl-C`` must be running once it started (a server: once its
  port answers), then Ctrl-C must stop it with 0 or 130.
- ``waba A | waba B``: A's standard output is B's standard input; each must exit as above.
- Files the lines read are written first: the setup file and ``templates.toml`` from the README's
  own blocks (their placeholders filled from the sandbox), the rest from the fixtures below.
"""

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
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.sandbox import SandboxProcess
from tests.support.world import invoke
from waba_cli.cli.demo import DEMO_TEMPLATE
from waba_cli.sandbox import client, fixtures

README = Path(__file__).resolve().parents[2] / "README.md"
COMMAND_LANGUAGES = {"bash", "sh", "shell", "console"}
NOT_RUN = re.compile(r"^<!--\s*not run:\s*\S.*-->$")
EXIT_CODES = re.compile(r"^<!--\s*exit codes:\s*([\d ]+)")
FENCE = re.compile(r"^```\s*([\w+-]*)\s*$")
CUSTOMER = "+16505550123"
ACCOUNT = "acme"


# -- reading the README ------------------------------------------------------------------------


@dataclass
class Block:
    line: int  # the README line of the opening fence
    language: str
    lines: list[str]
    not_run: bool
    exit_codes: tuple[int, ...] = (0,)


@dataclass
class Command:
    line: int  # the README line the command starts on
    text: str  # as written (continuations joined, without its comment)
    comment: str
    block_codes: tuple[int, ...] = (0,)

    @property
    def expected(self) -> tuple[int, ...]:
        found = re.search(r"\(exit (\d+)", self.comment)
        return (int(found.group(1)),) if found else self.block_codes

    @property
    def long_running(self) -> bool:
        return "until Ctrl-C" in self.comment


def read_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        before = next((lines[i].strip() for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        codes = EXIT_CODES.match(before)
        block = Block(index + 1, opening.group(1).lower(), lines[index + 1 : end], bool(NOT_RUN.match(before)))
        if codes:
            block.exit_codes = tuple(int(code) for code in codes.group(1).split())
        blocks.append(block)
        index = end + 1
    return blocks


def _is_waba(line: str) -> bool:
    return line.startswith(("waba ", "$ waba "))


def is_command_block(block: Block) -> bool:
    if block.language in COMMAND_LANGUAGES:
        return True
    body = [line.strip() for line in block.lines if line.strip() and not line.strip().startswith("#")]
    return bool(body) and all(_is_waba(line) for line in body)


def _split_comment(line: str) -> tuple[str, str]:
    """The command and its ``# comment`` (a ``#`` inside quotes or a word is not one)."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip(), line[index + 1 :].strip()
    return line.rstrip(), ""


def commands_of(block: Block) -> list[Command]:
    found: list[Command] = []
    pending: tuple[int, str] | None = None
    for offset, raw in enumerate(block.lines, start=block.line + 1):
        line = raw.strip()
        start = offset
        if pending is not None:
            start, text = pending
            line = f"{text} {line}"
        if line.endswith("\\"):
            pending = (start, line[:-1].rstrip())
            continue
        pending = None
        if not line or line.startswith("#"):
            continue
        if line.startswith("$ "):
            line = line[2:]
        text, comment = _split_comment(line)
        if not text.startswith("waba "):
            raise AssertionError(
                f"README.md:{start}: `{text}` is not a waba command; if its block is not meant to be run, "
                "put <!-- not run: the reason --> before the fence"
            )
        found.append(Command(start, text, comment, block.exit_codes))
    return found


def readme_commands() -> list[Command]:
    return [c for b in read_blocks(README.read_text()) if is_command_block(b) and not b.not_run for c in commands_of(b)]


# -- turning a line into arguments ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# paths of a production machine, written to the work folder instead, and outside URLs the test
# must not call (a refused local port instead)
PATHS = {
    "/var/lib/node_exporter/textfile/waba.prom": "waba.prom",
    "https://hooks.slack.com/services/T0/B0/XXXX": "http://127.0.0.1:9/notify",
}


def arguments(command: Command, newest: Any) -> tuple[list[str], int | None]:
    """The line's arguments (after ``waba``) and the free port a server was given, if any.

    ``newest(kind)`` is the newest stored ``wamid`` or ``event`` id, for the README's examples of them.
    """
    # optional parts left out (outside quotes: a JSON list in an argument stays)
    parts = re.split(r"""('[^']*'|"[^"]*")""", command.text)
    text = "".join(p if i % 2 else re.sub(r"\s\[[^\]]*\]", "", p) for i, p in enumerate(parts))
    if "wamid.HBgL..." in text:
        text = text.replace("wamid.HBgL...", newest("wamid"))
    text = re.sub(r"^waba events (show|replay) 42\b", lambda m: f"waba events {m.group(1)} {newest('event')}", text)
    for path, local in PATHS.items():
        text = text.replace(path, local)
    words = shlex.split(text)[1:]
    words = [w.split("|")[0] if re.fullmatch(r"[\w.-]+(\|[\w.-]+)+", w) else w for w in words]
    words = [ACCOUNT if w == "ACC" else w for w in words]
    if words[:2] == ["db", "copy"]:  # URL: an empty database to copy into
        words = [f"sqlite:///{Path.cwd() / 'copy.db'}" if w == "URL" else w for w in words]
    port = None
    if words[:1] == ["serve-webhook"] or words[:2] == ["sandbox", "serve"]:
        port = _free_port()
        if "--port" in words:
            words[words.index("--port") + 1] = str(port)
        else:
            words += ["--port", str(port)]
    return words, port


def _reviewed(name: str, timeout: float = 20.0) -> None:
    """Wait until Meta (the sandbox) has decided on template ``name``, as an operator waits for review:
    the decision reaches waba by webhook, which a busy machine may not have applied yet; a sync fetches it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = invoke("template", "show", name, "--json")
        if shown.code != 0 or json.loads(shown.out).get("status") != "PENDING":
            return
        time.sleep(0.2)
        invoke("template", "sync")


def _pipeline(command: Command, words: list[str], newest: Any) -> Any:
    """Run the line in this process; ``waba A | waba B`` feeds A's output to B (the first failure ends it)."""
    stages = command.text.split(" | waba ")
    if len(stages) == 1:
        return invoke(*words)
    result = invoke(*arguments(replace(command, text=stages[0]), newest)[0])
    for stage in stages[1:]:
        if result.code != 0:
            return result
        result = invoke(*arguments(replace(command, text="waba " + stage), newest)[0], stdin=result.out)
    return result


# -- the files the README's lines read -------------------------------------------------------------


def _png(path: Path, size: int = 200) -> None:
    from PIL import Image

    Image.new("RGB", (size, size), (37, 211, 102)).save(path, "PNG")


def _toml(document: dict[str, Any]) -> str:
    return "".join(f"{key} = {json.dumps(value)}\n" for key, value in document.items())


def _readme_setup_file(blocks: list[Block], waba: dict[str, Any], name: str) -> dict[str, Any]:
    """The README's setup file with its placeholders filled from the sandbox (and a WABA of its own)."""
    text = next("\n".join(b.lines) for b in blocks if b.language == "json" and '"waba_id"' in "\n".join(b.lines))
    document: dict[str, Any] = json.loads(
        text.replace("<32 hex characters>", fixtures.APP_SECRET)
        .replace("<system-user token>", fixtures.ACCESS_TOKEN)
        .replace("<8-128 characters>", fixtures.VERIFY_TOKEN)
    )
    number = waba["phone_numbers"][0]
    document.update(
        name=name,
        waba_id=waba["id"],
        meta_business_account_id=fixtures.BUSINESS_ID,
        app_id=fixtures.APP_ID,
        phone_number_id=number["id"],
        phone_number=number["phone_number"],
    )
    return document


def write_files(folder: Path, sandbox_url: str) -> None:
    blocks = read_blocks(README.read_text())
    wabas = [httpx.post(f"{sandbox_url}/_sandbox/wabas", json={"numbers": 1}, timeout=10).json() for _ in range(2)]
    (folder / "acme.json").write_text(json.dumps(_readme_setup_file(blocks, wabas[0], ACCOUNT)), encoding="utf-8")
    (folder / "acme.toml").write_text(_toml(_readme_setup_file(blocks, wabas[1], "acme-eu")), encoding="utf-8")
    (folder / "new-token.json").write_text(json.dumps({"access_token": fixtures.ACCESS_TOKEN}), encoding="utf-8")
    templates = next(
        "\n".join(b.lines) for b in blocks if b.language == "toml" and "[[template]]" in "\n".join(b.lines)
    )
    (folder / "templates.toml").write_text(templates + "\n", encoding="utf-8")
    (folder / "payment_received.toml").write_text(_toml(DEMO_TEMPLATE), encoding="utf-8")
    for picture in ("logo.png", "banner.png", "catalogue.png"):
        _png(folder / picture)
    (folder / "shipping.toml").write_text(
        'button = "Choose"\nbody = "How should we ship it?"\n\n[[sections]]\ntitle = "Shipping"\n'
        'rows = [{id = "standard", title = "Standard", description = "3-5 days"}, '
        '{id = "express", title = "Express", description = "next day"}]\n',
        encoding="utf-8",
    )
    (folder / "booking.json").write_text(json.dumps(fixtures.APPOINTMENT_FLOW_JSON, indent=2), encoding="utf-8")
    support = json.loads(json.dumps(fixtures.APPOINTMENT_FLOW_JSON))
    support["data_api_version"] = "3.0"
    support["routing_model"] = {screen["id"]: [] for screen in support["screens"]}
    (folder / "support.json").write_text(json.dumps(support, indent=2), encoding="utf-8")
    (folder / "customers.csv").write_text(
        f"phone,1,2,3,4\n{CUSTOMER},Ana,8812,Friday,8812\n+4915112345678,Bo,8813,Monday,8813\n", encoding="utf-8"
    )
    (folder / "regulars.csv").write_text(f"phone\n{CUSTOMER}\n", encoding="utf-8")
    (folder / "rates.csv").write_text(
        "country,category,price,currency\nUS,utility,0.004,USD\n*,marketing,0.025,USD\n", encoding="utf-8"
    )


# -- the world, set up once as `waba demo` sets up its own ----------------------------------------


def _waba(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "waba_cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )


@dataclass
class World:
    folder: Path
    sandbox: SandboxProcess
    receiver: subprocess.Popen[bytes]


@pytest.fixture
def world(tmp_path: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    home = isolated
    sandbox = SandboxProcess("--status-delay", "0.1", "--review-delay", "0.1")
    receiver: subprocess.Popen[bytes] | None = None
    folder = tmp_path / "work"
    folder.mkdir()
    try:
        monkeypatch.setenv("WABA_GRAPH_BASE_URL", sandbox.url)
        monkeypatch.setenv("NO_COLOR", "1")
        port = _free_port()
        webhook_url = f"http://127.0.0.1:{port}/webhook"
        assert _waba("init", cwd=folder).returncode == 0
        onboarding = [fixtures.UNREGISTERED_PHONE_NUMBER, fixtures.PENDING_PHONE_NUMBER]
        with (home / "config.toml").open("a", encoding="utf-8") as config:
            config.write(f"\n[health]\nignore_numbers = {json.dumps(onboarding)}\n")
        setup = tmp_path / "sandbox.json"
        setup.write_text(json.dumps(fixtures.setup_document(webhook_url)), encoding="utf-8")
        done = _waba("account", "setup", "--from-file", str(setup), cwd=folder)
        assert done.returncode == 0, done.stderr
        monkeypatch.setenv("WABA_ACCOUNT", "sandbox")
        receiver = subprocess.Popen(
            [sys.executable, "-m", "waba_cli", "serve-webhook", "--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        assert client.wait_until_up(webhook_url.replace("/webhook", "/healthz"), timeout=30)
        assert client.subscribe_callback(sandbox.url, webhook_url).get("success") is True
        for number in (fixtures.PHONE_NUMBER, fixtures.SECOND_PHONE_NUMBER):
            wrote = _waba(
                *("sandbox", "inbound", "--to", number, "--from", CUSTOMER, "--text", "Hi!"),
                *("--sandbox-url", sandbox.url),
                cwd=folder,
            )
            assert wrote.returncode == 0, wrote.stderr
        write_files(folder, sandbox.url)
        monkeypatch.chdir(folder)
        yield World(folder, sandbox, receiver)
    finally:
        if receiver is not None and receiver.poll() is None:
            os.killpg(receiver.pid, signal.SIGTERM)
            receiver.wait(timeout=20)
        sandbox.stop()


# -- running ----------------------------------------------------------------------------------------


def _run_long(words: list[str], port: int | None, cwd: Path) -> tuple[int | None, str]:
    """Start a command that runs until Ctrl-C: once it is up (a server: its port answers; anything
    else: it printed its first line or still runs 3 s later), Ctrl-C must stop it. Its exit code
    (None: it stopped by itself or never came up) and what it printed."""
    import threading

    process = subprocess.Popen(
        [sys.executable, "-m", "waba_cli", *words],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},  # its first line as soon as it is printed
        start_new_session=True,
    )
    printed: list[str] = []

    def read() -> None:
        for line in process.stdout or []:
            printed.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    started = time.monotonic()

    def up() -> bool:
        if port is None:  # it printed, or it is still running 3 s later (`--watch` piped prints at the end)
            return bool(printed) or time.monotonic() - started > 3
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    while time.monotonic() < started + 30 and process.poll() is None and not up():
        time.sleep(0.1)
    if process.poll() is not None or not up():
        process.kill()
        process.wait(timeout=30)
        reader.join(timeout=10)
        return None, f"stopped by itself with {process.returncode} or never came up: {''.join(printed)}"
    os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=30)
    reader.join(timeout=10)
    return process.returncode, "".join(printed)


@pytest.mark.slow
def test_every_command_block_of_the_readme_runs_against_the_sandbox(world: World) -> None:
    commands = readme_commands()
    assert len(commands) > 100

    def newest(kind: str) -> str:
        group = "message" if kind == "wamid" else "events"
        listed = invoke(group, "list", "--limit", "1", "--json")
        return str(json.loads(listed.out)[0]["wamid" if kind == "wamid" else "id"])

    failures: list[str] = []
    for command in commands:
        words, port = arguments(command, newest)
        if command.long_running:
            code, output = _run_long(words, port, world.folder)
            if code not in (0, 130):
                failures.append(
                    f"README.md:{command.line}: {command.text}\n  Ctrl-C: exit {code}, expected 0 or 130: "
                    f"{output.strip()[-600:]}"
                )
                print(failures[-1], flush=True)
            continue
        if words[:1] == ["demo"]:
            done = _waba(*words, cwd=world.folder, timeout=300)
            code, output = done.returncode, done.stderr or done.stdout
        else:
            if words[:2] == ["send", "template"]:
                _reviewed(words[2])
            result = _pipeline(command, words, newest)
            code, output = result.code, result.err or result.out
        if code not in command.expected:
            failures.append(
                f"README.md:{command.line}: {command.text}\n  exit {code}, expected {command.expected}: "
                f"{output.strip()[-600:]}"
            )
            print(failures[-1], flush=True)
    assert not failures, f"{len(failures)} of {len(commands)} README commands failed:\n" + "\n".join(failures)


# -- the rules themselves (fast) ----------------------------------------------------------------


@pytest.mark.parametrize("marker", ["<!-- not run: installs -->"])
def test_the_rules_of_reading(marker: str) -> None:
    text = (
        "intro\n\n```bash\nwaba account list [--json]   # the accounts\nwaba number add --cc 1 \\\n"
        "    --phone-number 5550134569\n```\n\n```text\nwaba not a command block, it says so\nother\n```\n\n"
        f"{marker}\n```bash\npip install waba-cli\n```\n\n```\n$ waba usage   # (exit 2 without an account)\n```\n"
    )
    blocks = read_blocks(text)
    runnable = [b for b in blocks if is_command_block(b) and not b.not_run]
    assert [b.line for b in runnable] == [3, 19]
    first, second = commands_of(runnable[0])
    assert (first.line, first.text, first.comment, first.expected) == (
        4,
        "waba account list [--json]",
        "the accounts",
        (0,),
    )
    assert (second.line, second.text) == (5, "waba number add --cc 1 --phone-number 5550134569")
    assert commands_of(runnable[1])[0].expected == (2,)
    assert arguments(first, lambda kind: "")[0] == ["account", "list"]
    with pytest.raises(AssertionError, match="is not a waba command"):
        commands_of(Block(1, "bash", ["pip install waba-cli"], not_run=False))


def test_synopsis_notation_becomes_arguments() -> None:
    line = Command(1, "waba number request-code +15550134569 --method sms|voice [--language en_US]", "")
    assert arguments(line, lambda kind: "")[0] == ["number", "request-code", "+15550134569", "--method", "sms"]
    show = Command(1, "waba message show wamid.HBgL... [--json]", "")
    assert arguments(show, lambda kind: "wamid.X")[0] == ["message", "show", "wamid.X"]
    event = Command(1, "waba events show 42", "")
    assert arguments(event, lambda kind: "7" if kind == "event" else "")[0] == ["events", "show", "7"]
    flow = Command(1, """waba sandbox inbound --flow-reply '{"time_slot": "10:30"}'""", "")
    assert arguments(flow, lambda kind: "")[0][-1] == '{"time_slot": "10:30"}'
    listed = Command(1, """waba sandbox inbound --flow-reply '{"slots": [1, 2]}' [--json]""", "")
    assert arguments(listed, lambda kind: "")[0][-1] == '{"slots": [1, 2]}'
    copied = arguments(Command(1, "waba db copy --to URL", ""), lambda kind: "")[0]
    assert copied[-1].startswith("sqlite:///") and copied[-1].endswith("copy.db")
    served, port = arguments(Command(1, "waba serve-webhook --port 8080", "runs until Ctrl-C"), lambda kind: "")
    assert served == ["serve-webhook", "--port", str(port)]


def test_every_block_of_the_readme_is_waba_commands_or_marked_not_run() -> None:
    """Fast: what the slow test will run (a block with another command in it fails here already)."""
    blocks = read_blocks(README.read_text())
    commands = readme_commands()
    assert len(commands) > 100
    assert sum(1 for b in blocks if b.not_run) <= 5, "<!-- not run --> is for the few blocks that cannot run"
    assert {c.text.split()[1] for c in commands} >= {"account", "number", "template", "send", "flow", "events"}
