"""`waba config list | get KEY | set KEY VALUE`: the config file, without opening an editor."""

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from waba_cli.cli.common import STATE, command, group, out

app = group(
    "config",
    "Read and change the config file (TOML): every setting, its value in effect, and where it comes from.",
    examples=("waba config list", "waba config get webhook.port", "waba config set defaults.region DE"),
)

KeyArg = Annotated[str, typer.Argument(metavar="KEY", help="A setting as section.key, e.g. webhook.port.")]


def _path(*, must_exist: bool = False) -> Path:
    """The config file; with ``must_exist``, one named explicitly (--config, WABA_CONFIG) must be there."""
    from waba_cli.errors import UsageError
    from waba_cli.settings import default_config_path

    path = STATE.config.expanduser() if STATE.config else default_config_path(os.environ)
    explicit = "--config" if STATE.config else "WABA_CONFIG" if os.environ.get("WABA_CONFIG") else None
    if must_exist and explicit and not path.exists():
        raise UsageError(f"{explicit} {path} does not exist", "check the path, or create it with `waba config set`")
    return path


def _shown(value: Any) -> str:
    """A value as TOML writes it for lists, else as text (strings without quotes)."""
    if isinstance(value, list):
        import json

        return json.dumps(value, ensure_ascii=False)
    return str(value)


@command(app, "list", shared=("json",))
def list_settings() -> None:
    """Every setting, its value in effect and where it comes from.

    The source is the file, the environment (env NAME) or the default. Keys are section.key, as in
    config.example.toml. A database password is shown as ***.

    \b
    Example:
        waba config list
        waba config list --json | jq -r '.[] | select(.source == "file") | .key'
    """
    from waba_cli.services.config_file import entries

    path = _path(must_exist=True)
    found = entries(path, os.environ)
    o = out()
    if o.json_mode:
        o.json([{"key": e.key, "value": e.value, "default": e.default, "source": e.source} for e in found])
        return
    o.note(f"config file: {path}" + ("" if path.exists() else " (does not exist yet: every value is a default)"))
    o.table(["key", "value", "source"], [(e.key, _shown(e.value), e.source) for e in found])


@command(app, "get", shared=("json",))
def get(key: KeyArg) -> None:
    """Print one setting's value in effect.

    That is the file's, the environment's or the default. An unknown key is exit 2 with the closest known one.

    \b
    Example:
        waba config get webhook.port
        waba config get health.number_warning --json
    """
    from waba_cli.services.config_file import entry

    found = entry(_path(must_exist=True), key, os.environ)
    o = out()
    if o.json_mode:
        o.json({"key": found.key, "value": found.value, "default": found.default, "source": found.source})
        return
    o.line(_shown(found.value))


@command(app, "set", shared=("json",))
def set_setting(
    key: KeyArg,
    value: Annotated[str, typer.Argument(metavar="VALUE", help='The new value; a list as A,B or ["A", "B"].')],
) -> None:
    """Set one setting in the config file, comments and layout kept.

    The file is created if missing, and written with mode 0600. The value is checked as waba checks
    the file: an unknown key or a bad value is exit 2 and nothing is written. Secrets never go into
    the config file (a database URL with a password is refused: use WABA_DATABASE_URL). An
    environment variable still wins over the file.

    \b
    Example:
        waba config set webhook.port 8081
        waba config set health.ignore_numbers +15550134567,+15550134568
    """
    from waba_cli.services.config_file import ENV_OVERRIDES, parse_value, set_value

    parsed = parse_value(key, value)
    path = _path()
    set_value(path, key, parsed)
    o = out()
    if o.json_mode:
        o.json({"key": key, "value": parsed, "file": str(path)})
    else:
        o.success(f"{key} = {_shown(parsed)} in {path}")
    for variable in ENV_OVERRIDES.get(key, ()):
        if os.environ.get(variable):
            o.warn(f"{variable} is set and wins over the file")
            break
