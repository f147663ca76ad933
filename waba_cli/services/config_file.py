"""`waba config`: the config file's settings read, listed and changed, comments kept.

Keys are ``section.key`` from ``waba_cli.settings.SCHEMA``; a value given on the command line is
converted to the setting's type and checked as waba checks the file, so ``config set`` never writes
a file that waba would then refuse. The file is rewritten with tomlkit (comments, order and layout
kept) through a temporary file and a rename, with mode 0600. Secrets never go into it: a database
URL with a password is refused (use WABA_DATABASE_URL or the database's own password file).
"""

from __future__ import annotations

import difflib
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from waba_cli.errors import ConfigError, UsageError
from waba_cli.settings import SCHEMA, read_config_file, setting_problem

# settings an environment variable overrides (the first one set wins)
ENV_OVERRIDES: dict[str, tuple[str, ...]] = {
    "database.url": ("WABA_DATABASE_URL",),
    "defaults.account": ("WABA_ACCOUNT",),
    "graph.base_url": ("WABA_GRAPH_BASE_URL",),
    "graph.api_version": ("WABA_GRAPH_API_VERSION",),
    "webhook.public_base_url": ("WABA_WEBHOOK_BASE_URL", "WHATSAPP_WEBHOOK_BASE_URL"),
}
_PASSWORD_IN_URL = re.compile(r"^(?P<head>[a-zA-Z][\w+.-]*://[^/@:]*):(?P<password>[^/@]+)@")


@dataclass(frozen=True)
class Entry:
    """One setting: its value in effect, its default, and where the value comes from."""

    key: str
    value: Any
    default: Any
    source: str  # "file", "default" or "env NAME"


def known_keys() -> list[str]:
    return [f"{section}.{key}" for section, keys in SCHEMA.items() for key in keys]


def split_key(key: str) -> tuple[str, str]:
    """``section.key`` checked against the known settings (exit 2 naming the closest one)."""
    section, _, name = key.partition(".")
    if section in SCHEMA and name in SCHEMA[section]:
        return section, name
    close = difflib.get_close_matches(key, known_keys(), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}?" if close else "see `waba config list` for the known keys"
    raise UsageError(f"unknown setting {key!r}", hint)


def mask(key: str, value: Any) -> Any:
    """A value as it may be shown: a URL's password replaced by ***."""
    if key == "database.url" and isinstance(value, str):
        return _PASSWORD_IN_URL.sub(r"\g<head>:***@", value)
    return value


def entries(path: Path, env: Mapping[str, str]) -> list[Entry]:
    """Every known setting as waba would use it with this file and environment."""
    config = read_config_file(path)
    found: list[Entry] = []
    for section, keys in SCHEMA.items():
        for name, definition in keys.items():
            key = f"{section}.{name}"
            value, source = definition.default, "default"
            if name in config.get(section, {}):
                value, source = config[section][name], "file"
            for variable in ENV_OVERRIDES.get(key, ()):
                if env.get(variable):
                    value, source = env[variable], f"env {variable}"
                    break
            found.append(Entry(key, mask(key, value), definition.default, source))
    return found


def entry(path: Path, key: str, env: Mapping[str, str]) -> Entry:
    split_key(key)
    return next(item for item in entries(path, env) if item.key == key)


def parse_value(key: str, text: str) -> Any:
    """``text`` from the command line as the setting's type, checked (exit 2 with the reason)."""
    section, name = split_key(key)
    wanted = SCHEMA[section][name].type
    types = wanted if isinstance(wanted, tuple) else (wanted,)
    value: Any = text
    if int in types or float in types:
        try:
            number = float(text)
        except ValueError:
            raise UsageError(f"{key} = {text!r} must be a number") from None
        if number.is_integer() and (int in types) and "." not in text:
            value = int(number)
        elif float in types:
            value = number
        else:
            raise UsageError(f"{key} = {text!r} must be a whole number")
    elif list in types:
        value = _parse_list(key, text)
    problem = setting_problem(section, name, value)
    if problem:
        raise UsageError(f"{key} = {text!r} {problem}")
    if key == "database.url" and _PASSWORD_IN_URL.match(text):
        raise UsageError(
            "database.url holds a password, and secrets never go into the config file",
            "set WABA_DATABASE_URL in the environment, or keep the password in ~/.pgpass",
        )
    return value


def _parse_list(key: str, text: str) -> list[str]:
    if text.strip().startswith("["):
        try:
            parsed = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{key} = {text!r} is not a TOML list ({exc})") from None
        return list(parsed)
    return [item.strip() for item in text.split(",") if item.strip()]


def set_value(path: Path, key: str, value: Any) -> None:
    """Write ``key = value`` into the config file at ``path`` (created 0600 if missing), comments kept."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    section, name = split_key(key)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path}: cannot be read ({exc})") from None
    try:
        document = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError(f"config file {path}: not valid TOML ({exc})", "fix the file first") from None
    table = document.get(section)
    if table is None:
        table = tomlkit.table()
        document.add(section, table)
    elif not isinstance(table, dict):
        raise ConfigError(f"config file {path}: {section} must be a table ([{section}])")
    table[name] = value
    _write_private(path, tomlkit.dumps(document))


def _write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically; the file is readable by its owner only (0600)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temporary = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
    except OSError as exc:
        raise UsageError(f"cannot write the config file {path}: {exc.strerror}", "check the directory") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp creates it 0600
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temporary).replace(path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise UsageError(f"cannot write the config file {path}: {exc.strerror}", "check the directory") from None
    path.chmod(0o600)
