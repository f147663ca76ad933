"""`waba config list | get | set`: the config file read and changed, comments kept, values checked."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from waba_cli.settings import SCHEMA, load_settings

COMMENTED = """\
# my settings: keep this comment
[webhook]
# the port behind the proxy
port = 8080  # was 80
"""


@pytest.fixture
def config_file(isolated: Path) -> Path:
    return isolated / "config.toml"


def test_set_writes_a_0600_file_that_waba_then_uses(waba: Any, config_file: Path) -> None:
    assert not config_file.exists()

    result = waba("config", "set", "webhook.port", "8081")

    assert result.code == 0, result.err
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert load_settings().webhook_port == 8081
    assert waba("config", "get", "webhook.port").out == "8081\n"


def test_set_keeps_comments_and_the_rest_of_the_file(waba: Any, config_file: Path) -> None:
    config_file.write_text(COMMENTED)
    config_file.chmod(0o644)

    assert waba("config", "set", "webhook.port", "9000").code == 0
    assert waba("config", "set", "defaults.region", "DE").code == 0

    text = config_file.read_text()
    assert "# my settings: keep this comment" in text
    assert "# the port behind the proxy" in text
    assert "port = 9000" in text
    assert "[defaults]" in text
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    settings = load_settings()
    assert (settings.webhook_port, settings.region) == (9000, "DE")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("webhook.prt", "1", "unknown setting 'webhook.prt'; did you mean webhook.port?"),
        ("nosuch", "1", "unknown setting 'nosuch'"),
        ("webhook.port", "eighty", "webhook.port = 'eighty' must be a number"),
        ("webhook.port", "70000", "must be a TCP port"),
        ("graph.max_retries", "1.5", "must be a whole number"),
        ("graph.api_version", "23", "must look like v23.0"),
        ("health.quality_red", "PURPLE", "must be one of OK, WARNING, CRITICAL"),
        ("database.url", "postgresql+psycopg://waba:s3cret@db:5432/waba", "secrets never go into the config file"),
    ],
)
def test_a_bad_key_or_value_is_exit_2_and_nothing_is_written(
    waba: Any, config_file: Path, key: str, value: str, message: str
) -> None:
    config_file.write_text(COMMENTED)

    result = waba("config", "set", key, value)

    assert result.code == 2
    assert message in result.err
    assert "s3cret" not in result.err
    assert len(result.err.splitlines()) == 1
    assert config_file.read_text() == COMMENTED


def test_numbers_and_lists_are_stored_as_their_type(waba: Any, config_file: Path) -> None:
    assert waba("config", "set", "graph.timeout", "7.5").code == 0
    assert waba("config", "set", "health.number_warning", "FLAGGED, PENDING").code == 0
    assert waba("config", "set", "health.ignore_numbers", '["+15550134567"]').code == 0

    settings = load_settings()
    assert settings.graph_timeout == 7.5
    assert settings.health.number_warning == ("FLAGGED", "PENDING")
    assert settings.health.ignore_numbers == ("+15550134567",)
    assert waba("config", "get", "health.number_warning").out == '["FLAGGED", "PENDING"]\n'


def test_list_shows_every_setting_with_its_source(
    waba: Any, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file.write_text(COMMENTED)
    monkeypatch.setenv("WABA_GRAPH_API_VERSION", "v22.0")

    result = waba("config", "list", "--json")

    assert result.code == 0, result.err
    rows = {row["key"]: row for row in result.json()}
    assert set(rows) == {f"{s}.{k}" for s, keys in SCHEMA.items() for k in keys}
    assert rows["webhook.port"] == {"key": "webhook.port", "value": 8080, "default": 8080, "source": "file"}
    assert rows["graph.api_version"]["source"] == "env WABA_GRAPH_API_VERSION"
    assert rows["graph.api_version"]["value"] == "v22.0"
    assert rows["graph.timeout"]["source"] == "default"
    table = waba("config", "list")
    assert table.code == 0
    assert "webhook.port\t8080\tfile" in table.out.splitlines()


def test_a_database_password_in_the_file_is_never_shown(
    waba: Any, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WABA_DATABASE_URL")
    config_file.write_text('[database]\nurl = "postgresql+psycopg://waba:s3cret@db:5432/waba"\n')

    listed = waba("config", "list", "--json")
    got = waba("config", "get", "database.url")

    assert "s3cret" not in listed.out + got.out
    assert got.out == "postgresql+psycopg://waba:***@db:5432/waba\n"


def test_get_of_an_unknown_key_is_exit_2(waba: Any) -> None:
    result = waba("config", "get", "graph.timout")
    assert result.code == 2
    assert "did you mean graph.timeout?" in result.err


def test_config_given_with_the_option_is_the_file_changed(waba: Any, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "waba.toml"

    result = waba("config", "set", "webhook.path", "/hooks/meta", "--config", str(other))

    assert result.code == 0, result.err
    assert 'path = "/hooks/meta"' in other.read_text()
    assert load_settings(config_path=other).webhook_path == "/hooks/meta"
    assert not (Path(os.environ["WABA_HOME"]) / "config.toml").exists()


def test_an_explicit_config_that_does_not_exist_is_exit_2_for_reading(waba: Any, tmp_path: Path) -> None:
    missing = tmp_path / "typo.toml"

    for args in (("config", "list"), ("config", "get", "webhook.port")):
        result = waba(*args, "--config", str(missing))
        assert result.code == 2, args
        assert f"--config {missing} does not exist" in result.err
    assert not missing.exists()
