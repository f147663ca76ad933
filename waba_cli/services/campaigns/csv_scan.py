"""Reading a campaign's CSV as a stream: its header, its phone column, and every row checked into a scratch file.

A file of a million rows must cost disk, not memory: each valid row goes to a temporary SQLite
file keyed by the integer of its E.164 digits, which also finds duplicates; invalid and duplicate
rows become the plan's problems, by CSV line.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from waba_cli.errors import ValidationError
from waba_cli.services.campaigns.plan import Plan, RowProblem

if TYPE_CHECKING:
    from waba_cli.services.campaigns.content import Content


class Scratch:
    """Valid rows of one scan in a temporary SQLite file, keyed by their line, unique by number.

    The number is stored as the integer of its E.164 digits: duplicate detection keeps no Python
    object per row, and SQLite holds only a small page cache in memory.
    """

    def __init__(self) -> None:
        # "" is SQLite's private temporary database: a file removed when the connection closes
        self.conn = sqlite3.connect("")
        self.conn.execute("PRAGMA journal_mode=OFF")
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute("CREATE TABLE row (line INTEGER PRIMARY KEY, number INTEGER NOT NULL UNIQUE, params TEXT)")

    def add(self, line: int, number: int, params: str) -> int | None:
        """Store a row; for a number already stored, return the line where it first appeared."""
        cursor = self.conn.execute("INSERT OR IGNORE INTO row VALUES (?, ?, ?)", (line, number, params))
        if cursor.rowcount:
            return None
        first = self.conn.execute("SELECT line FROM row WHERE number = ?", (number,)).fetchone()
        return int(first[0])

    def batches(self, size: int) -> Iterator[list[tuple[int, str, list[str]]]]:
        """(line, E.164, params) in CSV order."""
        cursor = self.conn.execute("SELECT line, number, params FROM row ORDER BY line")
        while rows := cursor.fetchmany(size):
            yield [(line, f"+{number}", json.loads(params)) for line, number, params in rows]

    def close(self) -> None:
        self.conn.close()


def read_header(path: Path) -> tuple[Any, Any, list[str]]:
    """The open file, its CSV reader past the first line, and that line's column names (exit 2 if unreadable)."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise ValidationError("--csv", f"cannot read {path}: {exc.strerror or exc}") from None
    reader = csv.reader(handle)
    try:
        header = [cell.strip() for cell in next(reader)]
    except StopIteration:
        handle.close()
        raise ValidationError("--csv", f"{path} is empty", "its first line names the columns: phone,1,2 ...") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        handle.close()
        raise ValidationError("--csv", f"{path}: {exc}") from None
    return handle, reader, header


def phone_column(header: list[str], source: str) -> int:
    """The index of the column named phone; exit 2 when there is none."""
    for index, name in enumerate(header):
        if name.lower() == "phone":
            return index
    raise ValidationError(
        "columns",
        f"no phone column (the first line reads: {','.join(header) or 'nothing'})",
        "name the column of numbers phone",
        source=source,
    )


def scan(
    path: Path, reader: Any, phone_at: int, content: Content, region: str | None, plan: Plan, scratch: Scratch
) -> None:
    """Validate every row (number, parameters, duplicates); valid rows go to ``scratch``."""
    from waba_cli.domain.validators import phone_number

    line = reader.line_num + 1
    try:
        for row in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            plan.total += 1
            raw = row[phone_at].strip() if phone_at < len(row) else ""
            try:
                e164 = phone_number(raw, region)
            except ValueError as exc:
                plan.invalid += 1
                plan.problem(RowProblem(start, raw[:40], str(exc)))
                continue
            params = content.params(row)
            reason = content.problem(e164, params)
            if reason is not None:
                plan.invalid += 1
                plan.problem(RowProblem(start, e164, reason))
                continue
            first = scratch.add(start, int(e164[1:]), json.dumps(params, ensure_ascii=False))
            if first is not None:
                plan.duplicate += 1
                plan.problem(RowProblem(start, e164, f"duplicate of line {first}", first))
                continue
            plan.valid += 1
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ValidationError("--csv", f"line {line}: {exc}", source=str(path)) from None
