"""JSON or TOML input files (setup files, template files), or standard input when the path is ``-``.

The format is the one asked for (``--format json|toml``), else the file name's extension, else
sniffed: JSON is tried first, then TOML, and when both fail the error shown is the one of the format
the text looks like (``{`` or a JSON array: JSON; anything else: TOML).
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

from waba_cli import files
from waba_cli.domain.documents import loads_json, loads_toml
from waba_cli.errors import UsageError

FORMATS = ("json", "toml")
STDIN_NAME = "standard input"
_LOOKS_LIKE_JSON = re.compile(r"^\s*(\{|\[\s*[{\[\"\d\-\]tfn])")


def is_stdin(path: Path) -> bool:
    return str(path) == "-"


def source_name(path: Path) -> str:
    """How the input is named in messages."""
    return STDIN_NAME if is_stdin(path) else str(path)


def base_dir(path: Path) -> Path:
    """Where files named in the input are looked up: next to the file, or the working directory for stdin."""
    return Path.cwd() if is_stdin(path) else path.parent


def checked_format(fmt: str | None) -> str | None:
    if fmt is None:
        return None
    if fmt.lower() not in FORMATS:
        raise UsageError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    return fmt.lower()


def read_text(path: Path) -> str:
    """The input's text (UTF-8, a BOM allowed, bounded in size): the file's, or standard input's for ``-``."""
    source = source_name(path)
    if not is_stdin(path):
        try:
            return files.read_text(path)
        except OSError as exc:
            raise UsageError(f"{source}: cannot be read ({exc.strerror})") from None
    limit = files.max_file_bytes()
    stream = sys.stdin
    raw: bytes | str = stream.buffer.read(limit + 1) if hasattr(stream, "buffer") else stream.read(limit + 1)
    if len(raw) > limit:
        raise UsageError(f"{source}: more than {limit:,} bytes, more than waba reads", f"set {files.MAX_FILE_ENV}")
    if isinstance(raw, str):
        return raw.removeprefix("\ufeff")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{source}: not UTF-8 text") from None


def read_structured(path: Path, fmt: str | None = None) -> Any:
    """The data of a JSON or TOML file, or of standard input when ``path`` is ``-``."""
    fmt = checked_format(fmt)
    text = read_text(path)
    source = source_name(path)
    if not text.strip():
        raise UsageError(f"{source}: is empty", "give JSON or TOML")
    if fmt is None and not is_stdin(path) and path.suffix.lower() in (".json", ".toml"):
        fmt = path.suffix.lower()[1:]
    if fmt == "toml":
        return _toml(text, source)
    if fmt == "json":
        return _json(text, source)
    try:
        return loads_json(text, source)
    except json.JSONDecodeError as exc:
        json_error = exc
    try:
        return loads_toml(text, source)
    except tomllib.TOMLDecodeError as exc:
        if _LOOKS_LIKE_JSON.match(text):
            raise UsageError(f"{source}: not valid JSON ({json_error})", "or say --format toml") from None
        raise UsageError(f"{source}: neither valid JSON nor TOML (as TOML: {exc})", "say --format json|toml") from None


def _json(text: str, source: str) -> Any:
    try:
        return loads_json(text, source)  # bounded in nesting depth
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source}: not valid JSON ({exc})") from None


def _toml(text: str, source: str) -> Any:
    try:
        return loads_toml(text, source)  # bounded in nesting depth
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{source}: not valid TOML ({exc})") from None
