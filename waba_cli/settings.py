"""Settings: the config file, the environment and flags, resolved once into a frozen ``Settings``.

Precedence is flag > environment > config file > default. Locations come from platformdirs unless
``WABA_HOME`` / ``WABA_CONFIG`` say otherwise; when ``WABA_HOME`` is set and ``WABA_CONFIG`` is not,
the config file is ``$WABA_HOME/config.toml``. Every key of the file is checked against ``SCHEMA``:
an unknown key, a wrong type or a bad value is a ``ConfigError`` naming the file and the key.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from waba_cli.domain import durations
from waba_cli.domain.documents import loads_toml
from waba_cli.domain.health import Policy
from waba_cli.errors import ConfigError
from waba_cli.files import read_bytes

APP_NAME = "waba"
DEFAULT_GRAPH_BASE_URL = "https://graph.facebook.com"
DEFAULT_GRAPH_API_VERSION = "v23.0"
DEFAULT_MAX_BODY_BYTES = 3 * 1024 * 1024
_VERSION_RE = re.compile(r"^v[0-9]+\.[0-9]+$")
_REGION_RE = re.compile(r"^[A-Z]{2}$")
LEVELS = ("OK", "WARNING", "CRITICAL")


def parse_duration(text: str) -> timedelta | None:
    """``30s``, ``10m``, ``6h``, ``7d``, ``2w`` as a timedelta; None when ``text`` is not one;
    ``ValueError`` saying why when it is out of range (``domain.durations``)."""
    return durations.parse(text)


def _seconds(text: str) -> float:
    duration = parse_duration(text)
    assert duration is not None  # checked when the file was read
    return duration.total_seconds()


def _is_url(value: str) -> bool:
    return value.startswith(("https://", "http://")) and len(value) > len("https://")


def _check_version(value: Any) -> str | None:
    return None if _VERSION_RE.match(value) else "must look like v23.0"


def _check_url(value: Any) -> str | None:
    return None if _is_url(value) else "must be an http:// or https:// URL"


def _check_optional_url(value: Any) -> str | None:
    return None if value == "" or _is_url(value) else "must be an http:// or https:// URL or empty"


def _check_positive(value: Any) -> str | None:
    return None if value > 0 else "must be greater than 0"


def _check_non_negative(value: Any) -> str | None:
    return None if value >= 0 else "must be 0 or more"


def _check_port(value: Any) -> str | None:
    return None if 0 < value < 65536 else "must be a TCP port (1-65535)"


def _check_path(value: Any) -> str | None:
    return None if value.startswith("/") and " " not in value else "must be a URL path starting with /"


def _check_host(value: Any) -> str | None:
    return None if value.strip() else "must be a host name or address"


def _check_synchronous(value: Any) -> str | None:
    return None if value.upper() in ("NORMAL", "FULL", "EXTRA") else "must be NORMAL, FULL or EXTRA"


def _check_percent(value: Any) -> str | None:
    return None if 0 <= value <= 100 else "must be between 0 and 100"


def _check_region(value: Any) -> str | None:
    return None if value == "" or _REGION_RE.match(value) else "must be a two-letter country code like DE"


def _check_duration(value: Any) -> str | None:
    try:
        return None if parse_duration(value) is not None else "must be a duration like 30s, 10m, 6h or 7d"
    except ValueError as exc:
        return f"is not usable: {exc}"


def _check_optional_duration(value: Any) -> str | None:
    return None if value == "" else _check_duration(value)


def _check_level(value: Any) -> str | None:
    return None if value.upper() in LEVELS else f"must be one of {', '.join(LEVELS)}"


def _check_strings(value: Any) -> str | None:
    return None if all(isinstance(item, str) and item.strip() for item in value) else "must be a list of strings"


@dataclass(frozen=True)
class _Key:
    type: type | tuple[type, ...]
    default: Any
    check: Callable[[Any], str | None] | None = None


# section -> key -> definition. config.example.toml documents every entry; a test keeps them in step.
SCHEMA: dict[str, dict[str, _Key]] = {
    "database": {
        "url": _Key(str, ""),
    },
    "graph": {
        "base_url": _Key(str, DEFAULT_GRAPH_BASE_URL, _check_url),
        "api_version": _Key(str, DEFAULT_GRAPH_API_VERSION, _check_version),
        "timeout": _Key((int, float), 20.0, _check_positive),
        "connect_timeout": _Key((int, float), 5.0, _check_positive),
        "deadline_seconds": _Key((int, float), 15.0, _check_positive),
        "max_retries": _Key(int, 5, _check_non_negative),
        "retry_max_wait": _Key((int, float), 60.0, _check_positive),
    },
    "secrets": {
        "key_file": _Key(str, ""),
        "keyring_timeout": _Key((int, float), 3.0, _check_positive),
    },
    "defaults": {
        "account": _Key(str, ""),
        "region": _Key(str, "", _check_region),
    },
    "webhook": {
        "public_base_url": _Key(str, "", _check_optional_url),
        "max_body_bytes": _Key(int, DEFAULT_MAX_BODY_BYTES, _check_positive),
        "host": _Key(str, "127.0.0.1", _check_host),
        "port": _Key(int, 8080, _check_port),
        "path": _Key(str, "/webhook", _check_path),
        "sqlite_synchronous": _Key(str, "FULL", _check_synchronous),
        "auto_reply_match_threshold": _Key((int, float), 80, _check_percent),
        "previous_secret_grace": _Key(str, "15m", _check_duration),
        # every HTTP server waba runs (waba_cli/http_limits.py: its Limits defaults are these)
        "max_header_bytes": _Key(int, 64 * 1024, _check_positive),
        "max_headers": _Key(int, 100, _check_positive),
        "header_timeout": _Key((int, float), 10.0, _check_positive),
        "body_timeout": _Key((int, float), 10.0, _check_positive),
        "body_min_rate": _Key(int, 16 * 1024, _check_positive),
        "keep_alive_timeout": _Key((int, float), 5.0, _check_positive),
        "max_connections": _Key(int, 1000, _check_positive),
    },
    "health": {
        "max_age": _Key(str, "10m", _check_duration),
        "request_timeout": _Key((int, float), 5.0, _check_positive),
        "token_warning_days": _Key((int, float), 7, _check_non_negative),
        "token_critical_days": _Key((int, float), 1, _check_non_negative),
        "quality_yellow": _Key(str, "WARNING", _check_level),
        "quality_red": _Key(str, "CRITICAL", _check_level),
        "number_warning": _Key(list, ["FLAGGED", "RATE_LIMITED", "PENDING", "UNVERIFIED"], _check_strings),
        "number_critical": _Key(list, ["RESTRICTED", "DISCONNECTED", "BANNED", "DELETED"], _check_strings),
        "ignore_numbers": _Key(list, [], _check_strings),
        "unsubscribed": _Key(str, "WARNING", _check_level),
        "webhook_silence": _Key(str, "", _check_optional_duration),
        "delivery_window": _Key(str, "24h", _check_duration),
        "delivery_warning": _Key((int, float), 5, _check_percent),
        "delivery_critical": _Key((int, float), 20, _check_percent),
        "delivery_min_messages": _Key(int, 20, _check_non_negative),
        "limits_warning": _Key((int, float), 80, _check_percent),
        "limits_critical": _Key((int, float), 100, _check_percent),
        "canary_template": _Key(str, ""),
        "canary_language": _Key(str, ""),
        "canary_timeout": _Key(str, "60s", _check_duration),
        "notify_url": _Key(str, "", _check_optional_url),
        "notify_attempts": _Key(int, 3, _check_positive),
        "keep": _Key(str, "90d", _check_duration),
    },
}


def _health_policy(setting: Callable[[str, str], Any]) -> Policy:
    def duration(key: str) -> timedelta:
        value = parse_duration(setting("health", key))
        assert value is not None  # checked when the file was read
        return value

    def upper(key: str) -> tuple[str, ...]:
        return tuple(str(item).strip().upper() for item in setting("health", key))

    return Policy(
        max_age=duration("max_age"),
        request_timeout=float(setting("health", "request_timeout")),
        token_warning_days=float(setting("health", "token_warning_days")),
        token_critical_days=float(setting("health", "token_critical_days")),
        quality_yellow=setting("health", "quality_yellow").upper(),
        quality_red=setting("health", "quality_red").upper(),
        number_warning=upper("number_warning"),
        number_critical=upper("number_critical"),
        ignore_numbers=tuple(str(item).strip() for item in setting("health", "ignore_numbers")),
        unsubscribed=setting("health", "unsubscribed").upper(),
        webhook_silence=duration("webhook_silence") if setting("health", "webhook_silence") else None,
        delivery_window=duration("delivery_window"),
        delivery_warning=float(setting("health", "delivery_warning")),
        delivery_critical=float(setting("health", "delivery_critical")),
        delivery_min_messages=int(setting("health", "delivery_min_messages")),
        limits_warning=float(setting("health", "limits_warning")),
        limits_critical=float(setting("health", "limits_critical")),
        canary_template=setting("health", "canary_template") or None,
        canary_language=setting("health", "canary_language") or None,
        canary_timeout=duration("canary_timeout"),
        notify_url=setting("health", "notify_url") or None,
        notify_attempts=int(setting("health", "notify_attempts")),
        keep=duration("keep"),
    )


@dataclass(frozen=True)
class Settings:
    """Everything waba needs to know about where things are and how to talk to Meta."""

    config_path: Path
    config_exists: bool
    home: Path
    database_url: str
    graph_base_url: str
    graph_api_version: str
    graph_timeout: float
    graph_max_retries: int
    graph_retry_max_wait: float
    key_file: Path | None
    keyring_timeout: float
    account: str | None  # as named by --account, WABA_ACCOUNT or defaults.account (CommandContext looks it up)
    region: str | None
    webhook_public_base_url: str | None
    webhook_max_body_bytes: int
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8080
    webhook_path: str = "/webhook"
    webhook_sqlite_synchronous: str = "FULL"
    auto_reply_match_threshold: float = 80.0
    webhook_previous_secret_grace: float = 900.0  # seconds a replaced app secret or verify token still verifies
    # [webhook] bounds on each request and connection (README "Limits")
    webhook_max_header_bytes: int = 64 * 1024
    webhook_max_headers: int = 100
    webhook_header_timeout: float = 10.0
    webhook_body_timeout: float = 10.0
    webhook_body_min_rate: int = 16 * 1024
    webhook_keep_alive_timeout: float = 5.0
    webhook_max_connections: int = 1000
    debug: bool = False
    graph_connect_timeout: float = 5.0
    graph_deadline: float = 15.0  # s one call keeps retrying while Meta gives no answer
    # `account` came from --account (a template file's waba_account ranks below it, above the rest)
    account_from_flag: bool = False
    health: Policy = field(default_factory=Policy)  # [health]: what `health check` calls WARNING ...

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def default_config_path(env: Mapping[str, str]) -> Path:
    if env.get("WABA_CONFIG"):
        return Path(env["WABA_CONFIG"]).expanduser()
    if env.get("WABA_HOME"):
        return Path(env["WABA_HOME"]).expanduser() / "config.toml"
    from platformdirs import user_config_path

    return user_config_path(APP_NAME) / "config.toml"


def default_home(env: Mapping[str, str]) -> Path:
    if env.get("WABA_HOME"):
        return Path(env["WABA_HOME"]).expanduser()
    from platformdirs import user_data_path

    return user_data_path(APP_NAME)


def read_config_file(path: Path) -> dict[str, dict[str, Any]]:
    """Read and check the config file; a missing file is an empty config.

    A config file others can write is refused (it names the key file and the servers waba talks to).
    """
    from waba_cli import private

    private.check(path)
    try:
        raw = read_bytes(path)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot be read ({exc.strerror})") from None
    try:
        data = loads_toml(raw.decode("utf-8"), f"config file {path}")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path}: not valid TOML ({exc})", "fix the file or remove it") from None
    return _check_config(path, data)


def _check_given_paths(config_path: Path, env: Mapping[str, str], *, from_flag: bool) -> None:
    """The config file and home the operator named exist (see ``load_settings``)."""
    home = env.get("WABA_HOME")
    if home:
        where = Path(home).expanduser()
        if not where.exists():
            raise ConfigError(
                f"WABA_HOME={home} does not exist",
                "check the path, or run `waba init` to create a waba home there",
            )
        if not where.is_dir():
            raise ConfigError(f"WABA_HOME={home} is not a directory", "set WABA_HOME to waba's data directory")
    if (from_flag or env.get("WABA_CONFIG")) and not config_path.exists():
        named = "--config" if from_flag else "WABA_CONFIG"
        raise ConfigError(
            f"config file {config_path} (given by {named}) does not exist",
            "check the path, or run `waba init` to create it",
        )


def _check_config(path: Path, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    checked: dict[str, dict[str, Any]] = {}
    for section, values in data.items():
        keys = SCHEMA.get(section)
        if keys is None:
            raise ConfigError(
                f"config file {path}: unknown section [{section}]",
                f"known sections: {', '.join(SCHEMA)}",
            )
        if not isinstance(values, dict):
            raise ConfigError(f"config file {path}: {section} must be a table ([{section}])")
        checked[section] = {}
        for key, value in values.items():
            definition = keys.get(key)
            name = f"{section}.{key}"
            if definition is None:
                raise ConfigError(
                    f"config file {path}: unknown key {name}",
                    f"known keys in [{section}]: {', '.join(keys)}",
                )
            problem = _problem(definition, value)
            if problem:
                raise ConfigError(f"config file {path}: {name} = {value!r} {problem}")
            checked[section][key] = value
    return checked


def setting_problem(section: str, key: str, value: Any) -> str | None:
    """What is wrong with ``value`` for the known setting ``section.key`` (None: it is fine)."""
    return _problem(SCHEMA[section][key], value)


def _problem(definition: _Key, value: Any) -> str | None:
    # bool is an int in Python; a setting that wants a number never wants true/false
    if isinstance(value, bool) or not isinstance(value, definition.type):
        wanted = definition.type if isinstance(definition.type, tuple) else (definition.type,)
        names = {int: "a number", float: "a number", list: "a list"}
        return "must be " + " or ".join(names.get(t, "a string") for t in wanted[:1])
    return definition.check(value) if definition.check else None


def _from_env(env: Mapping[str, str], names: tuple[str, ...], section: str, key: str) -> Any:
    """The first set variable among ``names``, checked like the config key it overrides."""
    for name in names:
        value = env.get(name)
        if value:
            definition = SCHEMA[section][key]
            problem = definition.check(value) if definition.check else None
            if problem:
                raise ConfigError(f"environment variable {name} = {value!r} {problem}")
            return value
    return None


def _seconds_from_env(env: Mapping[str, str], name: str) -> float | None:
    """A number of seconds from the environment variable ``name`` (None: not set)."""
    value = env.get(name, "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise ConfigError(f"environment variable {name} = {value!r} must be a number of seconds greater than 0")
    return seconds


def load_settings(
    *,
    config_path: Path | None = None,
    account: str | None = None,
    debug: bool = False,
    env: Mapping[str, str] | None = None,
    check_paths: bool = False,
    creating: bool = False,
) -> Settings:
    """Resolve flags, environment, config file and defaults into one ``Settings``.

    ``check_paths`` (every command does): a config file named by ``--config`` or ``WABA_CONFIG``, and a
    ``WABA_HOME``, must exist, unless ``creating`` (`waba init`, which creates them): a mistyped path is
    a usage error, never a silently empty config or a fresh empty database.
    """
    env = os.environ if env is None else env
    path = config_path.expanduser() if config_path else default_config_path(env)
    if check_paths and not creating:
        _check_given_paths(path, env, from_flag=config_path is not None)
    config = read_config_file(path)

    def setting(section: str, key: str) -> Any:
        return config.get(section, {}).get(key, SCHEMA[section][key].default)

    home = default_home(env)
    database_url = env.get("WABA_DATABASE_URL") or setting("database", "url") or f"sqlite:///{home / 'waba.db'}"
    key_file = setting("secrets", "key_file")
    public_url = _from_env(
        env, ("WABA_WEBHOOK_BASE_URL", "WHATSAPP_WEBHOOK_BASE_URL"), "webhook", "public_base_url"
    ) or setting("webhook", "public_base_url")
    return Settings(
        config_path=path,
        config_exists=path.exists(),
        home=home,
        database_url=database_url,
        graph_base_url=(
            _from_env(env, ("WABA_GRAPH_BASE_URL",), "graph", "base_url") or setting("graph", "base_url")
        ).rstrip("/"),
        graph_api_version=(
            _from_env(env, ("WABA_GRAPH_API_VERSION",), "graph", "api_version") or setting("graph", "api_version")
        ),
        graph_timeout=float(setting("graph", "timeout")),
        graph_max_retries=int(setting("graph", "max_retries")),
        graph_retry_max_wait=float(setting("graph", "retry_max_wait")),
        graph_connect_timeout=float(setting("graph", "connect_timeout")),
        graph_deadline=_seconds_from_env(env, "WABA_GRAPH_DEADLINE") or float(setting("graph", "deadline_seconds")),
        key_file=Path(key_file).expanduser() if key_file else None,
        keyring_timeout=float(setting("secrets", "keyring_timeout")),
        account=account or env.get("WABA_ACCOUNT") or setting("defaults", "account") or None,
        region=setting("defaults", "region") or None,
        webhook_public_base_url=public_url or None,
        webhook_max_body_bytes=int(setting("webhook", "max_body_bytes")),
        webhook_host=setting("webhook", "host"),
        webhook_port=int(setting("webhook", "port")),
        webhook_path=setting("webhook", "path"),
        webhook_sqlite_synchronous=setting("webhook", "sqlite_synchronous").upper(),
        auto_reply_match_threshold=float(setting("webhook", "auto_reply_match_threshold")),
        webhook_previous_secret_grace=_seconds(setting("webhook", "previous_secret_grace")),
        webhook_max_header_bytes=int(setting("webhook", "max_header_bytes")),
        webhook_max_headers=int(setting("webhook", "max_headers")),
        webhook_header_timeout=float(setting("webhook", "header_timeout")),
        webhook_body_timeout=float(setting("webhook", "body_timeout")),
        webhook_body_min_rate=int(setting("webhook", "body_min_rate")),
        webhook_keep_alive_timeout=float(setting("webhook", "keep_alive_timeout")),
        webhook_max_connections=int(setting("webhook", "max_connections")),
        debug=debug or env.get("WABA_DEBUG", "") not in ("", "0", "false"),
        account_from_flag=bool(account),
        health=_health_policy(setting),
    )
