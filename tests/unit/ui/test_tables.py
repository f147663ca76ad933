"""CSV for spreadsheets: formulae neutralised, unicode intact, files only the owner can read."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

import waba_cli
from waba_cli.ui.tables import csv_cell, csv_text, write_csv


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_that_a_spreadsheet_would_run_is_prefixed_with_a_quote(start: str) -> None:
    assert csv_cell(f"{start}cmd|' /C calc'!A0") == f"'{start}cmd|' /C calc'!A0"


def test_plain_cells_stay_as_they_are() -> None:
    assert [csv_cell(v) for v in ("São Paulo 🙏", 3, None, True, "a=b")] == ["São Paulo 🙏", "3", "", "true", "a=b"]
    assert csv_cell(datetime(2026, 12, 3, 8, 0, tzinfo=UTC)) == "2026-12-03T08:00:00Z"


def test_header_cells_are_neutralised_too() -> None:
    assert csv_text(["=evil", "ok"], [["1", "2"]]).splitlines()[0] == "'=evil,ok"


def test_write_csv_replaces_the_file_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    path.write_text("old", encoding="utf-8")
    path.chmod(0o644)
    assert write_csv(path, ["name", "note"], [["Ana", "line\nbreak, comma"]]) == 1
    assert path.stat().st_mode & 0o777 == 0o600
    with path.open(encoding="utf-8", newline="") as handle:
        assert list(csv.reader(handle)) == [["name", "note"], ["Ana", "line\nbreak, comma"]]


def test_numbers_stay_numbers_even_when_negative() -> None:
    assert [csv_cell(v) for v in (-3, 0.5, "-x", "+33")] == ["-3", "0.5", "'-x", "'+33"]


def test_every_csv_waba_writes_goes_through_this_module() -> None:
    package = Path(waba_cli.__file__).parent
    writers = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if re.search(r"csv\.(writer|DictWriter)\(", path.read_text(encoding="utf-8"))
    ]
    assert writers == ["ui/tables.py"]
