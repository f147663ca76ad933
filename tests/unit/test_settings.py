"""Settings: where they come from, in which order, and how a bad one is reported."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.support.world import REPO_ROOT
from waba_cli.errors import ConfigError
from waba_cli.settings import SCHEMA, load_settings


def test_example_config_documents_every_setting_with_its_default() -> None:
    example = tomllib.loads((REPO_ROOT / "config.example.toml").read_text())
    documented = {(s, k): v for s, keys in example.items() for k, v in keys.items()}
    expected = {(s, k): d.default for s, keys in SCHEMA.items() for k, d in keys.items()}
    assert documented == expected


def test_example_config_is_a_valid_config(tmp_path: Path) -> None:
    settings = load_settings(config_path=REPO_ROOT / "config.example.toml", env={"WABA_HOME": str(tmp_path)})
    assert settings.graph_api_version == "v23.0"


def test_precedence_flag_over_env_over_file_over_default(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[graph]\napi_version = "v24.0"\n[defaults]\naccount = "from-file"\n')
    env = {"WABA_HOME": str(tmp_path)}

    from_file = load_settings(env=env)
    from_env = load_settings(env={**env, "WABA_GRAPH_API_VERSION": "v25.0", "WABA_ACCOUNT": "from-env"})
    from_flag = load_settings(env={**env, "WABA_ACCOUNT": "from-env"}, account="from-flag")
    default = load_settings(env={"WABA_HOME": str(tmp_path / "other")})

    assert (from_file.graph_api_version, from_file.account) == ("v24.0", "from-file")
    assert (from_env.graph_api_version, from_env.account) == ("v25.0", "from-env")
    assert from_flag.account == "from-flag"
    assert (default.graph_api_version, default.account) == ("v23.0", None)


def test_waba_home_places_config_and_database(tmp_path: Path) -> None:
    settings = load_settings(env={"WABA_HOME": str(tmp_path)})
    assert settings.config_path == tmp_path / "config.toml"
    assert settings.database_url == f"sqlite:///{tmp_path / 'waba.db'}"


def test_waba_config_wins_over_waba_home(tmp_path: Path) -> None:
    other = tmp_path / "elsewhere.toml"
    settings = load_settings(env={"WABA_HOME": str(tmp_path), "WABA_CONFIG": str(other)})
    assert settings.config_path == other


def test_legacy_webhook_base_url_variable(tmp_path: Path) -> None:
    settings = load_settings(env={"WABA_HOME": str(tmp_path), "WHATSAPP_WEBHOOK_BASE_URL": "https://hooks.example.com"})
    assert settings.webhook_public_base_url == "https://hooks.example.com"


def test_settings_are_immutable(tmp_path: Path) -> None:
    settings = load_settings(env={"WABA_HOME": str(tmp_path)})
    with pytest.raises(AttributeError):
        settings.graph_timeout = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('[graph]\ntimeout = "fast"\n', "graph.timeout"),
        ('[graph]\napi_version = "23"\n', "graph.api_version"),
        ("[graph]\ntimeout = -1\n", "graph.timeout"),
        ("[graph]\nmax_retries = true\n", "graph.max_retries"),
        ('[graph]\nbase_ur = "https://x"\n', "graph.base_ur"),
        ('[grpah]\nbase_url = "https://x"\n', "[grpah]"),
        ('[defaults]\nregion = "Germany"\n', "defaults.region"),
        ('graph = "x"\n', "graph"),
        ("[graph\n", "not valid TOML"),
    ],
)
def test_bad_config_file_names_file_and_key(tmp_path: Path, content: str, expected: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(content)
    with pytest.raises(ConfigError) as error:
        load_settings(env={"WABA_HOME": str(tmp_path)})
    assert str(config) in str(error.value)
    assert expected in str(error.value)


def test_bad_config_is_exit_2_with_one_line(waba: Any, isolated: Path) -> None:
    (isolated / "config.toml").write_text('[graph]\ntimeout = "fast"\n')
    result = waba("account", "list")
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert "graph.timeout" in result.err and "config.toml" in result.err


def test_bad_environment_variable_is_named(waba: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WABA_GRAPH_API_VERSION", "latest")
    result = waba("account", "list")
    assert result.code == 2
    assert "WABA_GRAPH_API_VERSION" in result.err


def test_config_flag_on_the_root(waba: Any, tmp_path: Path) -> None:
    config = tmp_path / "custom.toml"
    config.write_text("[bogus]\n")
    result = waba("--config", str(config), "account", "list")
    assert result.code == 2
    assert "custom.toml" in result.err


def test_version(waba: Any) -> None:
    from waba_cli import __version__

    result = waba("--version")
    assert result.code == 0
    assert result.out.strip() == f"waba {__version__}"


def test_unknown_option_is_one_line_and_exit_2(waba: Any) -> None:
    result = waba("account", "list", "--colour")
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert "--colour" in result.err and "waba account list --help" in result.err


def test_group_without_command_shows_help(waba: Any) -> None:
    result = waba("account")
    assert result.code == 0
    assert "setup" in result.out
