"""Files waba parses (setup, templates, flows, list messages, knowledge bases, rate cards, the
config), read with a bound on their size before anything parses them.

A file larger than the limit is refused (exit 2) without being read whole: 10 MiB by default,
``WABA_MAX_FILE_MB`` changes it. Their nesting is bounded by ``waba_cli.domain.documents``;
bulk CSV files, which may be much larger, are streamed with a bound on each line instead
(``waba_cli.services.campaigns.csv_scan``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from waba_cli.domain.documents import DocumentError, loads_json, loads_toml

DEFAULT_MAX_MB = 10
MAX_FILE_ENV = "WABA_MAX_FILE_MB"


def max_file_bytes() -> int:
    """The size limit in bytes: ``WABA_MAX_FILE_MB`` (a positive number of MiB) or 10 MiB."""
    raw = os.environ.get(MAX_FILE_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_MB * 1024 * 1024
    try:
        megabytes = float(raw)
    except ValueError:
        megabytes = 0
    if not megabytes > 0:
        raise DocumentError(f"{MAX_FILE_ENV}={raw}: must be a positive number of MiB")
    return int(megabytes * 1024 * 1024)


def read_bytes(path: Path, *, limit: int | None = None) -> bytes:
    """The file's bytes, refused (``DocumentError``) beyond ``limit``; ``OSError`` as ``open`` raises it."""
    limit = max_file_bytes() if limit is None else limit
    with path.open("rb") as handle:
        data = handle.read(limit + 1)  # never more than the limit in memory, whatever stat says
    if len(data) > limit:
        raise DocumentError(
            f"{path}: larger than {_size(limit)}, more than waba reads",
            f"set {MAX_FILE_ENV} to read larger files",
        )
    return data


def read_text(path: Path, *, limit: int | None = None) -> str:
    """The file as UTF-8 text (a byte-order mark dropped), size-bounded; exit 2 when not UTF-8."""
    try:
        return read_bytes(path, limit=limit).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DocumentError(f"{path}: not UTF-8 text") from None


def read_json(path: Path) -> Any:
    """A JSON file, bounded in size and nesting; ``json.JSONDecodeError`` as the parser raises it."""
    return loads_json(read_text(path), str(path))


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file, bounded in size and nesting; ``tomllib.TOMLDecodeError`` as the parser raises it."""
    return loads_toml(read_text(path), str(path))


def _size(limit: int) -> str:
    megabytes = limit / (1024 * 1024)
    return f"{megabytes:g} MiB" if megabytes >= 1 else f"{limit:,} bytes"
