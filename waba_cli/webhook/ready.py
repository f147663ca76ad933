"""Telling the world that serve-webhook accepts connections: the "listening" line, --ready-file, systemd.

All three happen once, when the listening socket is open (not before: a script that waits for
"listening" or for the ready file can connect at once). The ready file holds the callback URL (with
the real port, also when --port 0 let the system choose), is written 0600 through a rename so a
watcher never reads half of it, and is removed when the server stops. Under systemd
(``Type=notify``), ``NOTIFY_SOCKET`` gets ``READY=1`` then and ``STOPPING=1`` on the way out: one
datagram each on a unix socket, the whole of the protocol a service needs.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

PROBE_INTERVAL_SECONDS = 0.05


def sd_notify(state: str, environ: dict[str, str] | None = None) -> bool:
    """Send ``state`` (``READY=1`` ...) to systemd's ``NOTIFY_SOCKET``; False when there is none or it fails."""
    address = (os.environ if environ is None else environ).get("NOTIFY_SOCKET", "")
    if not address.startswith(("/", "@")):
        return False
    target = "\0" + address[1:] if address.startswith("@") else address  # "@": Linux's abstract namespace
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
            notify.connect(target)
            notify.sendall(state.encode())
    except OSError:
        return False
    return True


def _display_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class Readiness:
    """Announces readiness once (``ready``) and takes it back when the server stops (``stopped``)."""

    def __init__(self, *, path: str, detail: str | None, ready_file: str | None, stream: TextIO | None = None) -> None:
        self.path = path
        self.detail = detail
        self.ready_file = Path(ready_file) if ready_file else None
        self.stream = stream or sys.stderr
        self._lock = threading.Lock()
        self._done = False

    @property
    def announced(self) -> bool:
        return self._done

    def ready(self, host: str, port: int) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
        url = f"http://{_display_host(host)}:{port}{self.path}"
        if self.ready_file is not None:
            self._write_ready_file(url)
        extra = f" ({self.detail})" if self.detail else ""
        self.stream.write(f"waba: listening on {url}{extra}; Ctrl-C to stop\n")
        self.stream.flush()
        sd_notify(f"READY=1\nSTATUS=listening on {url}\nMAINPID={os.getpid()}")

    def stopped(self) -> None:
        if self._done:
            sd_notify("STOPPING=1")
        if self.ready_file is not None:
            with contextlib.suppress(OSError):
                self.ready_file.unlink(missing_ok=True)

    def _write_ready_file(self, url: str) -> None:
        assert self.ready_file is not None
        temporary = self.ready_file.with_name(f".{self.ready_file.name}.{os.getpid()}")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(url + "\n")
            temporary.replace(self.ready_file)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            self.stream.write(f"waba: warning: the ready file {self.ready_file} cannot be written ({exc.strerror})\n")


def watch_port(host: str, port: int, on_open: Callable[[], None], stop: threading.Event) -> threading.Thread:
    """Call ``on_open`` once a TCP connection to ``host:port`` succeeds (for --workers, where the
    listening happens in child processes); gives up when ``stop`` is set."""
    target = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104 - the wildcard's loopback

    def probe() -> None:
        while not stop.is_set():
            try:
                with socket.create_connection((target, port), timeout=1):
                    pass
            except OSError:
                time.sleep(PROBE_INTERVAL_SECONDS)
                continue
            on_open()
            return

    thread = threading.Thread(target=probe, name="waba-ready-probe", daemon=True)
    thread.start()
    return thread
