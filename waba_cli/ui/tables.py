"""Tables written for spreadsheets: CSV to a file (0600) or to stdout, formula injection neutralised.

Cells come from customers (a Flow's answers) and Meta: a cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return would run as a formula when the file is opened in a spreadsheet,
so it is prefixed with a single quote, which spreadsheets show as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A cell as CSV text: None empty, booleans true/false, datetimes ISO 8601, formulae defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, (int, float)):
        return str(value)  # a negative number is a number, not a formula
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([csv_cell(c) for c in columns])
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return buffer.getvalue()


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write the table to ``path`` (created 0600, replaced if it exists); the number of rows."""
    rows = list(rows)
    write_private(path, csv_text(columns, rows))
    return len(rows)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, readable by its owner only (0600, also when it existed)."""
    from waba_cli import private

    private.write_private(path.expanduser(), text)
