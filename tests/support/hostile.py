"""Hostile HTTP clients for the request-bounds stories: huge heads, slowloris, trickled bodies, idle
connections, plus a well-behaved client that POSTs signed deliveries and times each answer.

Run as a module, the attack runs in its own process (so the test's own client and its timing do not
share an interpreter with 200 attacking sockets):

    python -m tests.support.hostile PORT --huge 70 --slow 70 --idle 60 --seconds 6
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.webhook import inbound_text, sign

MIB = 1024 * 1024


def vm(pid: int, key: str) -> int:
    """``VmRSS`` / ``VmHWM`` (peak) of a process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {key} for {pid}")


def answer(sock: socket.socket, timeout: float) -> bytes:
    """What the server says before it closes (b"" when it closed without a word), within ``timeout``."""
    sock.settimeout(timeout)
    data = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            data += chunk
    return data


def closed_within(sock: socket.socket, timeout: float) -> bool:
    """True when the server closed the connection within ``timeout`` (an answer may come first)."""
    try:
        answer(sock, max(timeout, 0.001))
    except TimeoutError:
        return False
    return True


def status_of(data: bytes) -> int | None:
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else None


def huge_head(port: int, size: int) -> tuple[int | None, int]:
    """Send a head of ``size`` bytes that never ends; return the answer's status and the bytes sent."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sent = 0
        chunk = b"a" * 65536
        try:
            sock.sendall(b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-Big: ")
            while sent < size:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:  # the server closed: the rest of the head is refused
            pass
        return status_of(answer(sock, 10)), sent


@dataclass
class Delivering:
    """A well-behaved Meta: signed deliveries one after another on one keep-alive connection."""

    url: str
    pause: float = 0.02
    statuses: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Delivering:
        self._client = httpx.Client(timeout=10, limits=httpx.Limits(max_connections=1))
        self.deliver()  # the connection is open before any attack starts
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.deliver()  # and one after it
        self._client.close()

    def deliver(self) -> None:
        number = len(self.statuses)
        body = inbound_text(f"wamid.hostile-{time.monotonic_ns()}-{number}", f"still here {number}")
        headers = {"content-type": "application/json", "x-hub-signature-256": sign(body)}
        started = time.perf_counter()
        try:
            response = self._client.post(self.url + "/webhook", content=body, headers=headers)
        except httpx.HTTPError as exc:
            self.errors.append(repr(exc))
            return
        self.seconds.append(time.perf_counter() - started)
        self.statuses.append(response.status_code)

    def _run(self) -> None:
        while not self._stop.wait(self.pause):
            self.deliver()

    def percentile(self, share: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))]

    def check(self, *, p99: float | None = None, at_least: int = 2) -> None:
        """Every delivery answered 200 (and, given ``p99``, 99 % of them within it)."""
        assert not self.errors, self.errors[:3]
        assert len(self.statuses) >= at_least
        assert set(self.statuses) == {200}, sorted(set(self.statuses))
        if p99 is not None:
            shown = ", ".join(f"{self.percentile(q) * 1000:.1f}" for q in (0.5, 0.9, 0.99))
            assert self.percentile(0.99) < p99, f"p50, p90, p99 {shown} ms over {len(self.seconds)} deliveries"


# -- the attack in its own process ---------------------------------------------------------------


async def _huge(port: int, until: float) -> None:
    chunk = b"a" * 65536
    while time.monotonic() < until:
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-Big: ")
            for _ in range(8 * MIB // len(chunk)):
                writer.write(chunk)
                await writer.drain()
            writer.close()
        await asyncio.sleep(0.05)


async def _slow(port: int, until: float) -> None:
    while time.monotonic() < until:
        with contextlib.suppress(OSError):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"POST /webhook HTTP/1.1\r\n")
            while time.monotonic() < until and not reader.at_eof():
                writer.write(b"X")
                await writer.drain()
                await asyncio.sleep(1)
            writer.close()


async def _idle(port: int, until: float) -> None:
    while time.monotonic() < until:
        with contextlib.suppress(OSError):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(reader.read(), max(0.0, until - time.monotonic()))
            writer.close()


async def attack(port: int, *, huge: int, slow: int, idle: int, seconds: float) -> None:
    until = time.monotonic() + seconds
    await asyncio.gather(
        *(_huge(port, until) for _ in range(huge)),
        *(_slow(port, until) for _ in range(slow)),
        *(_idle(port, until) for _ in range(idle)),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--huge", type=int, default=0)
    parser.add_argument("--slow", type=int, default=0)
    parser.add_argument("--idle", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=5)
    given = parser.parse_args()
    print("attacking", flush=True)
    asyncio.run(attack(given.port, huge=given.huge, slow=given.slow, idle=given.idle, seconds=given.seconds))


if __name__ == "__main__":
    main()
