"""Reading a campaign's CSV as a stream: its header, its phone column, and every row checked into a scratch file.

A file of a million rows must cost disk, not memory: each valid row goes to a temporary SQLite
file keyed by the integer of its E.164 digits, which also finds duplicates; invalid and duplicate
rows become the plan's problems, by CSV line.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
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


# a spreadsheet's export may be in its Windows code page and use ';' (where ',' is the decimal mark)
DELIMITERS = (",", ";", "\t", "|")
SAMPLE_BYTES = 1 << 20  # what the encoding detector reads (and the step of the UTF-8 check)
MAX_LINE = 1 << 20  # characters in one line of the file; csv's field_size_limit bounds each field
_BOM = codecs.BOM_UTF8


@dataclass(frozen=True)
class CsvFormat:
    """How a campaign's CSV is read: its text encoding (a Python codec name) and its delimiter."""

    encoding: str = "utf-8"
    delimiter: str = ","

    def described(self, path: Path) -> str | None:
        """One line saying what was detected, when it is not plain UTF-8 with commas (else None)."""
        if self.encoding in ("utf-8", "utf-8-sig") and self.delimiter == ",":
            return None
        encoding = "UTF-8" if self.encoding in ("utf-8", "utf-8-sig") else _label(self.encoding)
        delimiter = "tab" if self.delimiter == "\t" else repr(self.delimiter)
        return f"read {path.name} as {encoding}, delimiter {delimiter}"


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without its byte-order mark) when every byte of the file is; otherwise a guess.

    The check streams the file in 1 MiB steps (a million-row file costs tens of milliseconds, no
    memory); the guess (charset-normalizer) reads the first MiB and the bytes around the first one
    that is not UTF-8. Where the guess cannot tell Windows code pages apart, Windows-1252 (Excel's
    in the Americas and Western Europe) is taken.
    """
    with path.open("rb") as handle:
        if handle.read(len(_BOM)) == _BOM:
            return "utf-8-sig"
        handle.seek(0)
        bad = _first_non_utf8(handle)
        if bad is None:
            return "utf-8"
        handle.seek(0)
        sample = handle.read(SAMPLE_BYTES)
        if bad >= len(sample):
            handle.seek(max(0, bad - 32768))
            sample += b"\n" + handle.read(65536)
    return _guess_encoding(sample, path)


def _first_non_utf8(handle: Any) -> int | None:
    """The offset (about) of the first byte that is not UTF-8, or None when the whole file is."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    try:
        while chunk := handle.read(SAMPLE_BYTES):
            decoder.decode(chunk)
            offset += len(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        return offset + exc.start
    return None


def _guess_encoding(sample: bytes, path: Path) -> str:
    from charset_normalizer import from_bytes

    matches = from_bytes(sample)
    best = matches.best()
    if best is None:
        raise ValidationError(
            "--csv", f"{path}: neither UTF-8 nor a text encoding waba can recognise", "save it as CSV UTF-8"
        )
    # among the nearly as clean decodings, the one that reads most like a language (names repeated
    # row after row can look like Thai to the measure of chaos alone)
    close = [m for m in matches if m.chaos <= best.chaos + 0.1]
    best = max(close, key=lambda m: m.coherence, default=best)
    if "cp1252" in best.could_be_from_charset:
        return "cp1252"
    return str(best.encoding)


def detect_delimiter(line: str) -> str:
    """The delimiter the header line uses most (a comma when it holds none of them: one column)."""
    counts = [(line.count(candidate), -index) for index, candidate in enumerate(DELIMITERS)]
    count, minus_index = max(counts)
    return DELIMITERS[-minus_index] if count else ","


def _label(encoding: str) -> str:
    name = codecs.lookup(encoding).name
    return f"windows-{name[2:]}" if name.startswith("cp125") else name


def _bounded_lines(handle: Any, path: Path) -> Iterator[str]:
    """The file's lines, refused (exit 2) beyond ``MAX_LINE`` characters before they are in memory."""
    number = 0
    while line := handle.readline(MAX_LINE + 1):
        number += 1
        if len(line) > MAX_LINE:
            raise ValidationError("--csv", f"line {number}: longer than {MAX_LINE:,} characters", source=str(path))
        yield line


def read_header(path: Path) -> tuple[Any, Any, list[str], CsvFormat]:
    """The open file, its CSV reader past the first line, that line's column names and how the file is read.

    Exit 2 if it cannot be read. UTF-8 with commas is the fast path; another encoding or delimiter
    is detected (``CsvFormat.described`` says which).
    """
    try:
        encoding = detect_encoding(path)
        handle = path.open(newline="", encoding=encoding)
    except OSError as exc:
        raise ValidationError("--csv", f"cannot read {path}: {exc.strerror or exc}") from None
    lines = _bounded_lines(handle, path)
    try:
        first = next(lines)
        fmt = CsvFormat(encoding, detect_delimiter(first))
        reader = csv.reader(itertools.chain([first], lines), delimiter=fmt.delimiter)
        header = [cell.strip() for cell in next(reader)]
    except StopIteration:
        handle.close()
        raise ValidationError("--csv", f"{path} is empty", "its first line names the columns: phone,1,2 ...") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        handle.close()
        raise ValidationError("--csv", f"{path}: {exc}") from None
    except BaseException:
        handle.close()
        raise
    return handle, reader, header, fmt


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
