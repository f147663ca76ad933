"""Long output through a pager on a terminal, as git and gh do.

``PAGER`` names it (run by the shell, so ``PAGER="less -S"`` works); unset, ``less -FRX`` when
installed: colours kept (-R), one screen or less printed as is (-F), the text left on the screen at
the end (-X). ``PAGER=cat`` or an empty ``PAGER`` turns it off, as does ``--no-pager``; the caller
pages only when stdout is a terminal and never with ``--json``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess


def pager_command() -> str | None:
    """The pager to run, or None when there is none (``PAGER=cat``, ``PAGER=``, no ``less``)."""
    command = os.environ.get("PAGER")
    if command is None:
        return "less -FRX" if shutil.which("less") else None
    if command.strip() in ("", "cat"):
        return None
    return command


def page(text: str, command: str) -> bool:
    """Show ``text`` through ``command``; False when it could not start (then the caller prints)."""
    try:
        process = subprocess.Popen(command, shell=True, stdin=subprocess.PIPE, text=True, errors="backslashreplace")  # noqa: S602 - PAGER is a shell command line, as in git
    except OSError:
        return False
    assert process.stdin is not None
    # the reader may quit before the end (q in less): the rest is not wanted
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):
        process.stdin.write(text)
    with contextlib.suppress(BrokenPipeError):
        process.stdin.close()
    while process.poll() is None:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C belongs to the pager while it runs
            process.wait()
    return True
