"""An operator sends a campaign through the sandbox, then looks at what it became: real `waba`
processes, a real sandbox whose status webhooks (some failing later with 131026) reach a real
serve-webhook, and every `waba campaign` command of the README. Then `message list` piped: the
footer says how many were left out, and no pager runs."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.sandbox import SandboxProcess
from tests.support.webhook import start_receiver
from waba_cli.sandbox import fixtures

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"
RECIPIENTS = 40


def _readme_campaign_commands() -> list[str]:
    text = README.read_text()
    section = text[text.index("### Campaigns") : text.index("### Webhooks")]
    return [m.group(0).strip() for m in re.finditer(r"^waba campaign [^\n#]*", section, flags=re.MULTILINE)]


def _waba(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "waba_cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=cwd,
        timeout=120,
        check=False,
    )


@pytest.fixture
def sandbox(waba: Any, tmp_path: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxProcess]:
    """The sandbox account set up, a serve-webhook listening, and a sandbox whose statuses fail 30 % of the time."""
    setup = tmp_path / "sandbox.json"
    setup.write_text(json.dumps(fixtures.setup_document(None)), encoding="utf-8")
    assert waba("account", "setup", "--from-file", str(setup), "--no-verify").code == 0
    _app, server, thread, _log = start_receiver()
    port = server.servers[0].sockets[0].getsockname()[1]
    started = SandboxProcess(
        "--webhook-url", f"http://127.0.0.1:{port}/webhook",
        "--status-delay", "0.05", "--status-failure-rate", "0.3", "--seed", "7",
    )  # fmt: skip
    try:
        monkeypatch.setenv("WABA_GRAPH_BASE_URL", started.url)
        yield started
    finally:
        started.stop()
        server.should_exit = True
        thread.join(timeout=15)


def _settled(cwd: Path) -> dict[str, Any]:
    """`campaign show --json` once every accepted message was read or failed (statuses come by webhook)."""
    deadline = time.monotonic() + 30
    while True:
        shown = _waba("campaign", "show", "customers-order_update", "--json", cwd=cwd)
        assert shown.returncode == 0, shown.stderr
        data: dict[str, Any] = json.loads(shown.stdout)
        if data["read"] + data["failed"] == data["total"] or time.monotonic() > deadline:
            return data
        time.sleep(0.2)


def test_failures_that_come_by_webhook_after_the_run_show_in_campaign_show(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    assert _waba("template", "sync", cwd=tmp_path).returncode == 0
    rows = [f"+1555123{i:04d},Ana{i},88{i:02d},Friday,88{i:02d}" for i in range(RECIPIENTS)]
    (tmp_path / "customers.csv").write_text("phone,1,2,3,4\n" + "\n".join(rows) + "\n", encoding="utf-8")

    run = _waba("send", "bulk", "--csv", "customers.csv", "--template", "order_update", cwd=tmp_path)
    data = _settled(tmp_path)
    sent = {m["to"]: m for m in json.loads(_waba("message", "list", "--all", "--json", cwd=tmp_path).stdout)}

    assert run.returncode == 0, run.stderr
    assert "failed when sent\t0" in run.stdout
    assert run.stderr.count("pacing: ") == 1  # the number's throughput, said once before sending
    assert "arrive by webhook: waba campaign show customers-order_update" in run.stderr
    failed = [m for m in sent.values() if m["status"] == "failed"]
    assert 0 < len(failed) < RECIPIENTS
    assert {m["error_code"] for m in failed} == {131026}
    assert {k: data[k] for k in ("total", "sent", "delivered", "read", "failed", "in_doubt", "pending")} == {
        "total": RECIPIENTS,
        "sent": RECIPIENTS,
        "delivered": RECIPIENTS - len(failed),
        "read": RECIPIENTS - len(failed),
        "failed": len(failed),
        "in_doubt": 0,
        "pending": 0,
    }
    [by_code] = data["failed_by_code"]
    assert (by_code["code"], by_code["count"], by_code["when_sent"], by_code["later"]) == (
        131026, len(failed), 0, len(failed),
    )  # fmt: skip
    assert by_code["title"]
    assert data["rate"] > 0 and data["rate_reason"].startswith("the number")

    commands = _readme_campaign_commands()
    assert len(commands) >= 3
    for line in commands:
        result = _waba(*shlex.split(line)[1:], cwd=tmp_path)
        assert result.returncode == 0, f"{line}: {result.returncode}\n{result.stdout}\n{result.stderr}"
    listed = json.loads(_waba("campaign", "list", "--json", cwd=tmp_path).stdout)
    assert [(c["name"], c["failed"]) for c in listed] == [("customers-order_update", len(failed))]
    human = _waba("campaign", "show", "customers-order_update", cwd=tmp_path)
    assert re.search(rf"^131026\t[^\t]+\t{len(failed)}\t0\t{len(failed)}$", human.stdout, re.MULTILINE)


def test_piped_message_list_says_how_many_were_left_out_and_never_pages(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    assert _waba("template", "sync", cwd=tmp_path).returncode == 0
    for i in range(3):
        sent = _waba("send", "template", "hello_world", "--to", f"+1555123{i:04d}", cwd=tmp_path)
        assert sent.returncode == 0, sent.stderr
    paged = tmp_path / "paged.txt"

    piped = _waba("message", "list", "--limit", "2", cwd=tmp_path, PAGER=f"cat > {paged}")
    every = _waba("message", "list", "--all", "--json", cwd=tmp_path, PAGER=f"cat > {paged}")

    assert piped.returncode == 0, piped.stderr
    assert len(piped.stdout.splitlines()) == 3
    assert "2 of 3 shown (--limit N / --all)" in piped.stderr
    assert not paged.exists()
    assert len(json.loads(every.stdout)) == 3
    shown = _waba("message", "show", str(json.loads(every.stdout)[0]["id"]), "--json", cwd=tmp_path)
    assert json.loads(shown.stdout)["wamid"] == json.loads(every.stdout)[0]["wamid"]


def test_a_long_message_list_on_a_real_terminal_goes_through_the_pager(sandbox: SandboxProcess, tmp_path: Path) -> None:
    import fcntl
    import pty
    import struct
    import termios

    assert _waba("template", "sync", cwd=tmp_path).returncode == 0
    phones = "\n".join(f"+1555123{i:04d}" for i in range(12))
    (tmp_path / "hello.csv").write_text(f"phone\n{phones}\n", encoding="utf-8")
    sent = _waba("send", "bulk", "--csv", "hello.csv", "--template", "hello_world", cwd=tmp_path)
    assert sent.returncode == 0, sent.stderr
    paged = tmp_path / "paged.txt"

    def on_a_pty(*args: str) -> str:
        leader, follower = pty.openpty()
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 10, 90, 0, 0))  # 10 rows, 90 columns
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        process = subprocess.Popen(
            [sys.executable, "-m", "waba_cli", "message", "list", *args],
            stdin=follower, stdout=follower, stderr=follower, cwd=tmp_path, env={**env, "PAGER": f"cat > {paged}"},
        )  # fmt: skip
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(timeout=60) == 0
        os.close(leader)
        return b"".join(chunks).decode(errors="replace")

    printed = on_a_pty("--no-pager")
    assert not paged.exists()
    assert printed.count("+1555123") == 12
    assert all(len(re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", line)) <= 90 for line in printed.splitlines())
    on_a_pty()
    assert paged.read_text().count("+1555123") == 12  # taller than 10 rows: paged
