"""How `waba demo` runs its steps: the real `waba` commands, each shown in full before it runs, and
what became of each step (the narration on a terminal, one JSON document with --json).

Every command but the servers runs in this process (one interpreter start instead of ten keeps the
demo well under 30 seconds) with the demo's environment; the servers run as subprocesses in their
own sessions and are stopped in order, also after Ctrl-C or SIGTERM. Each command is shown once
per step as a copyable `$ waba ...` line (a command polled until something happens is shown once).
"""

import os
import shlex
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from waba_cli import private

if TYPE_CHECKING:
    import subprocess


def say(line: str = "") -> None:
    """A line of the narration on stdout."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def say_on_stderr(line: str = "") -> None:
    """A line of the narration on stderr (with --json, stdout holds the JSON document only)."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def available_commands() -> set[tuple[str, ...]]:
    from waba_cli.app import app

    found: set[tuple[str, ...]] = set()

    def walk(group: Any, path: tuple[str, ...]) -> None:
        for name, sub in group.commands.items():
            if hasattr(sub, "commands"):
                walk(sub, (*path, name))
            else:
                found.add((*path, name))

    walk(typer.main.get_command(app), ())
    return found


def shown(args: tuple[str, ...] | list[str]) -> str:
    """A command as the line to copy: ``waba`` and its arguments, quoted for a POSIX shell."""
    return shlex.join(["waba", *args])


@dataclass
class StepRecord:
    """One step: its title, the commands it ran (each with its exit code; None: a server started in
    the background) and how it ended."""

    number: int
    title: str
    commands: list[dict[str, Any]] = field(default_factory=list)
    ok: bool | None = None
    outcome: str | None = None
    error: str | None = None
    seconds: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "commands": self.commands,
            "ok": self.ok,
            "outcome": self.outcome,
            "error": self.error,
            "seconds": self.seconds,
        }


class DemoRunner:
    """The demo's state: its home and environment, the servers it started, the steps and what they ran.

    A subclass lists its steps in ``plan`` as (title, action) pairs; each action returns its outcome
    as one line, and raises OperationError when the step failed.
    """

    def __init__(self, home: Path, narrate: Callable[[str], None] = say) -> None:
        self.home = home
        self.narrate = narrate
        self.started = time.monotonic()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, Path] = {}
        self.number = 0
        self.title = "starting"
        self.commands = available_commands()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WABA_", "WHATSAPP_"))}
        env.update(
            {
                "WABA_HOME": str(home),
                "WABA_CONFIG": str(home / "config.toml"),
                "WABA_DATABASE_URL": f"sqlite:///{home / 'waba.db'}",
                "WABA_ACCOUNT": "sandbox",
                "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",  # the key file lives in the home
                "NO_COLOR": "1",
            }
        )
        self.env = env
        self.steps: list[tuple[str, Callable[[], str]]] = self.plan()
        self.total = len(self.steps)
        self.records: list[StepRecord] = []

    def plan(self) -> list[tuple[str, Callable[[], str]]]:
        raise NotImplementedError

    # -- running ---------------------------------------------------------------------------------

    def all_steps(self) -> None:
        for number, (title, action) in enumerate(self.steps, start=1):
            self.number, self.title = number, title
            record = StepRecord(number, title)
            self.records.append(record)
            self.narrate(f"Step {self.number}/{self.total}  {self.title}")
            began = time.monotonic()
            try:
                outcome = action()
            except Exception as exc:
                record.ok, record.seconds = False, round(time.monotonic() - began, 2)
                record.error = getattr(exc, "message", None) or str(exc) or type(exc).__name__
                raise
            record.ok, record.outcome, record.seconds = True, outcome, round(time.monotonic() - began, 2)
            self.narrate(f"    ✓ {outcome} ({record.seconds:.1f} s)")
        missing = [" ".join(c) for c in (("analytics", "report"), ("health", "check")) if c not in self.commands]
        if missing:
            self.narrate(f"Not in this build yet: {', '.join('waba ' + m for m in missing)}.")

    def show_command(self, args: tuple[str, ...] | list[str], exit_code: int | None) -> None:
        """Show ``waba ARGS`` as a copyable line, once per step, and record it with its exit code."""
        line = shown(args)
        record = self.records[-1] if self.records else None
        if record is not None:
            for seen in record.commands:
                if seen["command"] == line:
                    seen["exit_code"] = exit_code
                    return
            record.commands.append({"command": line, "exit_code": exit_code})
        self.narrate(f"    $ {line}")

    def waba(self, *args: str, accept: tuple[int, ...] = (0,)) -> tuple[int, str]:
        """Run a waba command in this process; its exit code and stdout (a failure raises)."""
        import io

        from waba_cli.app import run
        from waba_cli.errors import OperationError

        out, err = io.StringIO(), io.StringIO()
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        try:
            code = run(list(args))
        finally:
            sys.stdout, sys.stderr = saved
        self.show_command(args, code)
        if code == 130:  # Ctrl-C arrived while the command ran
            raise KeyboardInterrupt
        if code not in accept:
            problem = err.getvalue().strip().splitlines()
            raise OperationError(f"`{shown(args)}` exited {code}: {problem[-1] if problem else 'no message'}")
        return code, out.getvalue()

    def waba_json(self, *args: str, accept: tuple[int, ...] = (0,)) -> Any:
        import json

        _code, text = self.waba(*args, "--json", accept=accept)
        return json.loads(text)

    def spawn(self, name: str, *args: str) -> "subprocess.Popen[bytes]":
        """Start ``waba ARGS`` as a server in the background (its output in ``NAME.log`` of the home)."""
        import subprocess

        self.show_command(args, None)
        log = self.home / f"{name}.log"
        self.logs[name] = log
        with os.fdopen(private.open_private(log), "wb") as handle:  # logs hold customers' texts: 0600
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "waba_cli", *args],
                stdout=handle,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,  # Ctrl-C reaches the demo, which then stops them in order
            )
        self.processes[name] = process
        return process

    def wait_for(self, what: str, ready: Callable[[], bool], timeout: float = 20.0) -> None:
        from waba_cli.errors import OperationError

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise OperationError(f"{name} exited with {process.returncode}")
            time.sleep(0.05)
        raise OperationError(f"{what} did not happen within {timeout:.0f} s")

    def stop_servers(self) -> None:
        """SIGTERM to each server, then wait; a second Ctrl-C meanwhile must not leave one running."""
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            self._stop_servers()
        finally:
            signal.signal(signal.SIGINT, previous)

    def _stop_servers(self) -> None:
        import subprocess

        for process in self.processes.values():
            if process.poll() is None:
                with suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=8)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def show_logs(self) -> None:
        for name, log in self.logs.items():
            if log.exists():
                lines = log.read_text(errors="replace").splitlines()[-8:]
                sys.stderr.write(f"--- last lines of {name} ---\n" + "\n".join(lines) + "\n")

    def report(self, *, ok: bool, kept: Path | None) -> dict[str, Any]:
        """`waba demo --json`: the steps run, each with its commands and outcome, and the overall result."""
        return {
            "ok": ok,
            "steps_passed": sum(1 for r in self.records if r.ok),
            "steps_total": self.total,
            "seconds": round(time.monotonic() - self.started, 2),
            "home": str(kept) if kept else None,
            "steps": [r.as_json() for r in self.records],
        }
