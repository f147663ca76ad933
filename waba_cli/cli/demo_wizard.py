"""`waba demo`'s operator at the keyboard: `waba account setup` run once through a pseudo-terminal.

The demo answers the wizard as a newcomer would (discovery instead of ids, Enter for the defaults)
and narrates it: every screen title, each question with its answer (secrets masked) and what the
wizard confirms or warns about. The real command runs in a child process on its own terminal, so
the newcomer sees exactly the wizard they will meet; nothing here knows its internals beyond the
words on the screen. POSIX only (``pty``), like the terminals it stands in for.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|[\x07\x08]")
SHOWN = re.compile(r"^(Step \d/6 — .*|✓ .*|! .*)$")


@dataclass(frozen=True)
class Answer:
    """When ``prompt`` (a regular expression) is on the screen, type ``reply`` (a function of the screen)."""

    prompt: str
    reply: Callable[[str], str]
    secret: bool = False

    @property
    def label(self) -> str:
        return self.prompt.replace("\\", "").rstrip(":[ ").replace("(1-", "").strip()


def typed(text: str) -> Callable[[str], str]:
    return lambda _screen: text


def row_of(cell: str) -> Callable[[str], str]:
    """The number of the table row holding ``cell`` (a pick from a list)."""

    def pick(screen: str) -> str:
        for line in reversed(screen.splitlines()):
            if cell in line and "│" in line:
                return line.split("│")[1].strip()
        return "1"

    return pick


class Terminal:
    """A child process on a pseudo-terminal; ``expect`` reads until a pattern shows."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        import pty

        self.master, slave = pty.openpty()
        _set_size(slave, 50, 150)
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**env, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1", "COLUMNS": "150", "LINES": "50"},
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self.screen = ""
        self.unread = ""

    def expect(self, pattern: str, timeout: float) -> str:
        """The text up to and including ``pattern`` (ANSI codes removed); TimeoutError if it does not show."""
        wanted = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            found = wanted.search(self.unread)
            if found:
                seen, self.unread = self.unread[: found.end()], self.unread[found.end() :]
                return seen
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(left):
                raise TimeoutError(f"the wizard did not show {pattern!r}; it showed: {self.unread[-400:]!r}")

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], min(timeout, 0.5))
        if not ready:
            return self.process.poll() is None
        try:
            chunk = os.read(self.master, 65536).decode("utf-8", errors="replace")
        except OSError:  # the child closed its terminal
            return False
        text = ANSI.sub("", chunk)
        self.screen += text
        self.unread += text
        return True

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def finish(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self._read(0.2)
        if self.process.poll() is None:
            self.process.kill()
        code = self.process.wait()
        os.close(self.master)
        return code


def _set_size(fd: int, rows: int, columns: int) -> None:
    import fcntl
    import struct
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


def run_wizard(
    args: list[str], env: dict[str, str], answers: list[Answer], say: Callable[[str], None], timeout: float = 60.0
) -> int:
    """Run `waba ARGS` on a pseudo-terminal, answer it, narrate it; its exit code."""
    terminal = Terminal([sys.executable, "-m", "waba_cli", *args], env)
    try:
        for answer in answers:
            seen = terminal.expect(answer.prompt, timeout)
            _narrate(seen, say)
            time.sleep(0.1)  # the prompt draws itself before the keys arrive
            reply = answer.reply(terminal.screen)
            say(f"      > {answer.label}: {'*' * 8 if answer.secret and reply else reply or '(Enter)'}")
            terminal.send(reply + "\r")
        code = terminal.finish(timeout)
    except BaseException:
        if terminal.process.poll() is None:
            terminal.process.kill()
            terminal.process.wait()
        raise
    _narrate(terminal.unread, say)
    return code


def _narrate(text: str, say: Callable[[str], None]) -> None:
    for raw in text.replace("\r", "\n").splitlines():
        line = raw.strip().rstrip("─ ")
        if SHOWN.match(line):
            say(f"      {line}")
