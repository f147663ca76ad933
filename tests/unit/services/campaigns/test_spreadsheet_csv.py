"""`waba send bulk` with spreadsheets' CSV exports: their code page and delimiter detected, and said."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.campaigns import FakeMeta, phones
from waba_cli.services.campaigns.csv_scan import CsvFormat, detect_delimiter, detect_encoding


def dry_run(waba: Any, csv_path: Path) -> Any:
    return waba("send", "bulk", "--csv", str(csv_path), "--template", "order_update", "--dry-run", "--json")


def rows(count: int, separator: str) -> list[str]:
    return [separator.join([n, f"José {i}", f"Montréal-{i}"]) for i, n in enumerate(phones(count))]


def test_an_excel_export_in_windows_1252_is_read_and_said(
    waba: Any, meta: FakeMeta, templates: None, tmp_path: Path
) -> None:
    csv_path = tmp_path / "people.csv"
    csv_path.write_bytes(("\r\n".join(["phone,1,2", *rows(3, ","), "not a number,Zoé,1"]) + "\r\n").encode("cp1252"))

    result = dry_run(waba, csv_path)

    assert result.code == 0, result.err
    plan = result.json()
    assert (plan["total"], plan["valid"], plan["invalid"], plan["to_send"]) == (4, 3, 1, 3)
    assert "José 0" in json.dumps(plan["example_request"], ensure_ascii=False)
    assert "read people.csv as windows-1252, delimiter ','" in result.err
    assert meta.requests == []


def test_a_semicolon_export_with_a_byte_order_mark_is_read_and_said(
    waba: Any, meta: FakeMeta, templates: None, tmp_path: Path
) -> None:
    csv_path = tmp_path / "people.csv"
    csv_path.write_text("\n".join(["phone;1;2", *rows(5, ";")]) + "\n", encoding="utf-8-sig")

    result = dry_run(waba, csv_path)

    assert result.code == 0, result.err
    assert (result.json()["total"], result.json()["valid"]) == (5, 5)
    assert "read people.csv as UTF-8, delimiter ';'" in result.err


def test_windows_1252_with_semicolons_as_excel_writes_it_in_europe(
    waba: Any, meta: FakeMeta, templates: None, tmp_path: Path
) -> None:
    csv_path = tmp_path / "people.csv"
    csv_path.write_bytes(("\r\n".join(["phone;1;2", *rows(4, ";")]) + "\r\n").encode("cp1252"))

    human = waba("send", "bulk", "--csv", str(csv_path), "--template", "order_update", "--dry-run")

    assert human.code == 0, human.err
    assert "read people.csv as windows-1252, delimiter ';'" in human.err
    assert "to send\t4" in human.out


def test_plain_utf8_with_commas_says_nothing_about_its_format(
    waba: Any, meta: FakeMeta, templates: None, tmp_path: Path
) -> None:
    csv_path = tmp_path / "people.csv"
    csv_path.write_text("\n".join(["phone,1,2", *rows(2, ",")]) + "\n", encoding="utf-8")

    result = dry_run(waba, csv_path)

    assert result.code == 0, result.err
    assert result.json()["valid"] == 2
    assert "read people.csv" not in result.err


def test_a_line_longer_than_the_bound_is_exit_2_before_it_is_read_whole(
    waba: Any, meta: FakeMeta, templates: None, tmp_path: Path
) -> None:
    csv_path = tmp_path / "huge.csv"
    with csv_path.open("w", encoding="utf-8") as handle:
        handle.write("phone,1,2\n+15550000001,Ana,1\n")
        handle.write("x" * (3 << 20) + "\n")

    result = dry_run(waba, csv_path)

    assert result.code == 2
    assert "line 3: longer than" in result.err
    assert "unexpected" not in result.err


def test_a_huge_quoted_field_is_exit_2(waba: Any, meta: FakeMeta, templates: None, tmp_path: Path) -> None:
    csv_path = tmp_path / "field.csv"
    csv_path.write_text('phone,1,2\n+15550000001,"' + ("a,\n" * 100_000) + '",1\n', encoding="utf-8")

    result = dry_run(waba, csv_path)

    assert result.code == 2
    assert "field larger than field limit" in result.err


@pytest.mark.parametrize(
    ("line", "delimiter"),
    [("phone,1,2\r\n", ","), ("phone;1;2", ";"), ("phone\t1\t2", "\t"), ("phone|1|2", "|"), ("phone", ",")],
)
def test_the_delimiter_is_the_one_the_header_uses(line: str, delimiter: str) -> None:
    assert detect_delimiter(line) == delimiter


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("phone,1\n+15550000001,Café\n".encode(), "utf-8"),
        ("phone,1\n+15550000001,Café\n".encode("utf-8-sig"), "utf-8-sig"),
        ("phone,1\n+15550000001,Café\n".encode("cp1252"), "cp1252"),
        ("phone\t1\r\n+15550000001\tCafé\r\n".encode("utf-16"), "utf_16"),  # Excel's "Unicode text"
        (("phone,1\n" + "+15550000001,Ana\n" * 100_000 + "+15550000002,Zoë\n").encode("cp1252"), "cp1252"),
        (("phone,name\n" + "+15550000001,Дмитрий Петрович Иванов из Москвы\n" * 30).encode("cp1251"), "cp1251"),
    ],
)
def test_the_encoding_is_utf8_when_every_byte_is_and_a_guess_otherwise(
    tmp_path: Path, data: bytes, encoding: str
) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(data)
    assert detect_encoding(path) == encoding


def test_what_is_said_names_windows_code_pages_as_excel_does() -> None:
    assert CsvFormat().described(Path("a.csv")) is None
    assert CsvFormat("cp1252", "\t").described(Path("a.csv")) == "read a.csv as windows-1252, delimiter tab"
