from pathlib import Path

import pytest

from waba_cli import files
from waba_cli.domain.documents import DocumentError


def test_a_file_within_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('\ufeff{"a": [1]}', encoding="utf-8")
    assert files.read_json(path) == {"a": [1]}


def test_a_file_over_the_limit_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_bytes(b"a = 1\n" * 1000)
    with pytest.raises(DocumentError, match=r"big\.toml: larger than 1,000 bytes") as caught:
        files.read_bytes(path, limit=1000)
    assert caught.value.exit_code == 2
    assert "WABA_MAX_FILE_MB" in str(caught.value)


def test_the_limit_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "setup.json"
    path.write_text("[" + "1," * 10_000 + "1]", encoding="utf-8")
    monkeypatch.setenv("WABA_MAX_FILE_MB", "0.01")
    with pytest.raises(DocumentError, match="larger than 10,485 bytes"):
        files.read_json(path)
    monkeypatch.setenv("WABA_MAX_FILE_MB", "lots")
    with pytest.raises(DocumentError, match="must be a positive number"):
        files.read_json(path)


def test_a_file_that_is_not_utf8_is_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes('name = "café"'.encode("latin-1"))
    with pytest.raises(DocumentError, match="not UTF-8 text"):
        files.read_toml(path)
