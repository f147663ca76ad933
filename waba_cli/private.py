"""Files only their owner may read: the data directory (0700) and every file waba writes in it (0600).

The modes are set when a file or directory is created, whatever the umask (``os.open`` with 0600,
``mkdir`` then ``chmod``), because waba's data holds customers' numbers, names and messages, and the
key that decrypts the stored tokens. What exists already is checked when waba opens it:

- readable by others (group or world): one warning line on stderr, with the ``chmod`` that fixes it;
- writable by other users (world): refused, exit 2: someone else could swap the key, point the
  config at another server or rewrite the database.

Each path is warned about once per process. SQLite's ``-wal`` and ``-shm`` files get the database
file's mode from SQLite itself, so the database file is created 0600 before SQLite opens it.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from pathlib import Path

from waba_cli.errors import UsageError

DIR_MODE = 0o700
FILE_MODE = 0o600

_warned: set[str] = set()


def _warn(text: str) -> None:
    from waba_cli.domain.text import printable

    sys.stderr.write(f"warning: {printable(text)}\n")  # a path may hold anything but a NUL


def check(path: Path) -> None:
    """Warn when ``path`` (a file or directory) is readable by others; refuse it when others can write it.

    A path that does not exist is left alone (whoever creates it uses ``private_dir``/``private_file``).
    """
    try:
        info = path.stat()
    except OSError:
        return
    mode = stat.S_IMODE(info.st_mode)
    directory = stat.S_ISDIR(info.st_mode)
    wanted = DIR_MODE if directory else FILE_MODE
    what = "directory" if directory else "file"
    if mode & stat.S_IWOTH:
        raise UsageError(
            f"the {what} {path} is writable by other users (mode {mode:04o}): refusing to use it",
            f"fix it with: chmod {wanted:o} {path}",
        )
    if mode & 0o077 and str(path) not in _warned:
        _warned.add(str(path))
        who = "other users" if mode & stat.S_IROTH else "its group"
        _warn(f"the {what} {path} is readable by {who} (mode {mode:04o}); fix it with: chmod {wanted:o} {path}")


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) 0700; an existing one is checked (``check``).

    Parents that waba creates on the way are 0700 too; existing ones are not touched.
    """
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIR_MODE)
        except FileExistsError:
            pass
        except OSError as exc:
            raise _cannot("create the directory", directory, exc) from None
        with contextlib.suppress(OSError):
            directory.chmod(DIR_MODE)  # mkdir's mode went through the umask
    if not path.is_dir():
        raise UsageError(f"{path} is not a directory", "set WABA_HOME to a directory")
    if not missing:
        check(path)
    return path


def create_private_file(path: Path) -> bool:
    """Create an empty ``path`` 0600 if it does not exist (True when it was created); check it otherwise."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        check(path)
        return False
    except OSError as exc:
        raise _cannot("create", path, exc) from None
    with contextlib.suppress(OSError):
        os.fchmod(fd, FILE_MODE)
    os.close(fd)
    return True


def open_private(path: Path, *, append: bool = False) -> int:
    """A file descriptor on ``path`` for writing, the file 0600 (also when it existed)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    try:
        fd = os.open(path, flags, FILE_MODE)
    except OSError as exc:
        raise _cannot("write", path, exc) from None
    try:
        os.fchmod(fd, FILE_MODE)
    except OSError:
        os.close(fd)
        raise
    return fd


def write_private(path: Path, data: str | bytes, *, atomic: bool = False) -> None:
    """Write ``data`` to ``path``, readable by its owner only (0600, also when it existed).

    ``atomic``: written to a temporary file beside it (0600 too), synced and renamed over ``path``,
    so a crash leaves the old content or the new one.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    target = path.with_name(f".{path.name}.tmp") if atomic else path
    fd = open_private(target)
    try:
        view = memoryview(raw)
        while view:
            view = view[os.write(fd, view) :]
        if atomic:
            os.fsync(fd)
    except OSError as exc:
        raise _cannot("write", path, exc) from None
    finally:
        os.close(fd)
    if atomic:
        try:
            target.replace(path)
        except OSError as exc:
            target.unlink(missing_ok=True)
            raise _cannot("write", path, exc) from None


def _cannot(action: str, path: Path, exc: OSError) -> UsageError:
    reason = exc.strerror or type(exc).__name__
    return UsageError(f"cannot {action} {path}: {reason}", "check the path and its permissions (WABA_HOME)")
