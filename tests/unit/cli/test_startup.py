"""Start-up cost: the commands people run most must not import what they do not need.

Each check starts a fresh interpreter (``sys.executable``) that runs waba exactly as
``python -m waba_cli ARGS`` does (``runpy`` on ``waba_cli.__main__``, i.e. ``main()`` ->
``waba_cli.app.run()``), then writes the names in ``sys.modules`` to a JSON file. A fresh process is
the only honest measure: in the pytest process everything is imported already.

When a check fails, the message names each forbidden package and the stack of its first import
(recorded by a meta-path finder in the child), so the line that pulls it in is right there.
``python tests/benchmarks/cold_start.py`` measures the same commands in milliseconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.world import REPO_ROOT

# Too heavy for help screens: the database stack, HTTP, the web server, secrets and validation.
HELP_FORBIDDEN = ("sqlalchemy", "sqlmodel", "httpx", "uvicorn", "keyring", "cryptography", "pydantic", "prompt_toolkit")
# `account list` reads the database, but needs no migrations, key, HTTP client, Rich rendering or prompts.
LIST_FORBIDDEN = ("alembic", "keyring", "cryptography", "httpx", "rich", "prompt_toolkit")

# Runs in the child: argv = [out_file, watched top-level names (comma-separated), *waba args].
_PROBE = r"""
import json, runpy, sys, traceback
from importlib.abc import MetaPathFinder

out_file, watched, args = sys.argv[1], set(sys.argv[2].split(",")), sys.argv[3:]
first_import = {}


class Witness(MetaPathFinder):
    # Consulted only for modules not imported yet; records where each watched package first loads.
    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition(".")[0]
        if top in watched and top not in first_import:
            frames = [f for f in traceback.extract_stack()[:-1] if not f.filename.startswith("<frozen")]
            first_import[top] = f"import {fullname}\n" + "".join(traceback.format_list(frames[-14:]))
        return None


sys.meta_path.insert(0, Witness())
sys.argv = ["waba", *args]
code = 0
try:
    runpy.run_module("waba_cli", run_name="__main__", alter_sys=True)
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
finally:
    sys.stdout.flush()
    with open(out_file, "w", encoding="utf-8") as fh:
        json.dump({"exit": code, "modules": sorted(sys.modules), "first_import": first_import}, fh)
"""


@dataclass
class Probe:
    exit: int
    stdout: str
    stderr: str
    modules: set[str]
    first_import: dict[str, str]

    def loaded(self, packages: tuple[str, ...]) -> list[str]:
        """The packages of ``packages`` that were imported (the package or any submodule)."""
        return [p for p in packages if any(m == p or m.startswith(p + ".") for m in self.modules)]

    def explain(self, packages: list[str]) -> str:
        parts = [f"forbidden imports: {', '.join(packages)}"]
        for package in packages:
            where = self.first_import.get(package, "(not recorded)")
            parts.append(f"--- first import of {package}:\n{where}")
        return "\n".join(parts)


def _env(home: Path) -> dict[str, str]:
    """The environment for the child: this checkout first on the path, a temporary WABA_HOME."""
    from cryptography.fernet import Fernet

    env = {k: v for k, v in os.environ.items() if not k.startswith(("WABA_", "WHATSAPP_"))}
    # On a PostgreSQL run the autouse fixture gives each test its own database: use it there too.
    db_url = os.environ.get("WABA_DATABASE_URL", "")
    if db_url.startswith("postgresql"):
        env["WABA_DATABASE_URL"] = db_url
    env["WABA_HOME"] = str(home)
    env["WABA_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    env["WABA_GRAPH_BASE_URL"] = "http://127.0.0.1:9"  # nothing here should talk to Meta
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    env.pop("PYTHONSTARTUP", None)
    env["NO_COLOR"] = "1"
    return env


def _probe(tmp_path: Path, env: dict[str, str], args: list[str], watched: tuple[str, ...]) -> Probe:
    out_file = tmp_path / f"modules-{uuid.uuid4().hex}.json"
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(out_file), ",".join(watched), *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert out_file.exists(), f"the probe wrote nothing (exit {proc.returncode}):\n{proc.stderr}"
    data = json.loads(out_file.read_text(encoding="utf-8"))
    return Probe(data["exit"], proc.stdout, proc.stderr, set(data["modules"]), data["first_import"])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "startup-home"
    home.mkdir()
    return _env(home)


@pytest.mark.parametrize("args", [["--help"], ["account", "--help"]], ids=["waba--help", "account--help"])
def test_help_imports_nothing_heavy(tmp_path: Path, env: dict[str, str], args: list[str]) -> None:
    probe = _probe(tmp_path, env, args, HELP_FORBIDDEN)

    assert probe.exit == 0, probe.stderr
    assert "Usage:" in probe.stdout
    assert "waba_cli.app" in probe.modules  # the probe really ran the app
    loaded = probe.loaded(HELP_FORBIDDEN)
    assert not loaded, probe.explain(loaded)


def _init(tmp_path: Path, env: dict[str, str]) -> None:
    """`waba init` in its own process, as an operator runs it first."""
    init = subprocess.run(
        [sys.executable, "-m", "waba_cli", "init"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert init.returncode == 0, init.stderr


def test_account_list_json_imports_no_migrations_key_http_or_ui(tmp_path: Path, env: dict[str, str]) -> None:
    _init(tmp_path, env)

    probe = _probe(tmp_path, env, ["account", "list", "--json"], LIST_FORBIDDEN)

    assert probe.exit == 0, probe.stderr
    assert json.loads(probe.stdout) == []
    assert "waba_cli.cli.account" in probe.modules
    loaded = probe.loaded(LIST_FORBIDDEN)
    assert not loaded, probe.explain(loaded)
    # a run loads the module of its own command only (waba_cli.app's _COMMANDS)
    others = sorted(m for m in probe.modules if m.startswith("waba_cli.cli.") and m.count(".") == 2)
    assert others == ["waba_cli.cli.account", "waba_cli.cli.common"]


def test_probe_sees_imports(tmp_path: Path, env: dict[str, str]) -> None:
    """The check is not vacuous: a watched package that does load is reported, with where it loaded."""
    probe = _probe(tmp_path, env, ["--version"], ("waba_cli",))

    assert probe.exit == 0, probe.stderr
    assert probe.stdout.strip().startswith("waba ")
    assert probe.loaded(("waba_cli",)) == ["waba_cli"]
    assert "waba_cli" in probe.first_import


# A Tab press (shell completion) runs on every keystroke: no database stack for SQLite, no HTTP, no UI.
TAB_FORBIDDEN = ("sqlalchemy", "sqlmodel", "httpx", "uvicorn", "keyring", "cryptography", "rich", "prompt_toolkit")


def test_a_tab_press_reads_names_without_the_database_stack(tmp_path: Path, env: dict[str, str]) -> None:
    _init(tmp_path, env)
    tab = {**env, "_WABA_COMPLETE": "complete_bash", "COMP_WORDS": "waba account show ", "COMP_CWORD": "3"}

    probe = _probe(tmp_path, tab, [], TAB_FORBIDDEN)

    assert probe.exit == 0, probe.stderr
    assert "waba_cli.db.names" in probe.modules  # the probe really asked the database
    forbidden = TAB_FORBIDDEN if not env.get("WABA_DATABASE_URL") else TAB_FORBIDDEN[2:]  # PostgreSQL: SQLAlchemy
    loaded = probe.loaded(forbidden)
    assert not loaded, probe.explain(loaded)
    others = sorted(m for m in probe.modules if m.startswith("waba_cli.cli.") and m.count(".") == 2)
    assert others == ["waba_cli.cli.account", "waba_cli.cli.common", "waba_cli.cli.completion"]
