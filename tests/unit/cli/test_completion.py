"""Shell completion through the real `waba` console script, as a shell runs it on a Tab press.

bash sets ``_WABA_COMPLETE=complete_bash`` with ``COMP_WORDS``/``COMP_CWORD``; zsh and fish set
``_TYPER_COMPLETE_ARGS`` (the line up to the cursor). Values come from the test's database.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.world import SEED_SETUP
from waba_cli.app import _COMMANDS
from waba_cli.db.models.flows import Flow
from waba_cli.db.models.templates import MessageTemplate

WABA = Path(sys.executable).with_name("waba")
ACCOUNT = SEED_SETUP["name"]


def tab(line: str, shell: str = "bash", **env: str) -> subprocess.CompletedProcess[str]:
    """What `waba` answers when Tab is pressed at the end of ``line`` in ``shell``."""
    variables = {**os.environ, "_WABA_COMPLETE": f"complete_{shell}", **env}
    if shell == "bash":
        words = line.split()
        if line.endswith(" "):
            words.append("")
        variables["COMP_WORDS"] = line
        variables["COMP_CWORD"] = str(len(words) - 1)
    else:
        variables["_TYPER_COMPLETE_ARGS"] = line
        variables["_TYPER_COMPLETE_FISH_ACTION"] = "get-args"
    return subprocess.run(
        [str(WABA)], env=variables, capture_output=True, text=True, timeout=60, check=False, stdin=subprocess.DEVNULL
    )


def offered(line: str, **env: str) -> list[str]:
    result = tab(line, **env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return [word for word in result.stdout.splitlines() if word]


def test_a_command_word_is_completed() -> None:
    assert offered("waba account sh") == ["show"]
    assert offered("waba acc") == ["account"]


def test_every_command_word_is_offered_although_commands_load_lazily() -> None:
    assert set(offered("waba ")) == set(_COMMANDS)


def test_the_shells_of_completion_are_completed() -> None:
    assert offered("waba completion ") == ["bash", "zsh", "fish"]
    assert offered("waba help e") == ["environment", "exit-codes"]


def test_options_are_completed() -> None:
    assert "--json" in offered("waba account list --")
    assert offered("waba template list --sta") == ["--status"]


def test_account_names_complete_the_account_option_and_acc_arguments(account: dict[str, Any]) -> None:
    assert offered("waba account show ") == [ACCOUNT]
    assert offered("waba account use my") == [ACCOUNT]  # names in any case
    assert offered("waba message list -a ") == [ACCOUNT]
    assert offered("waba usage --account M") == [ACCOUNT]
    assert offered("waba account show x") == []
    assert offered("waba -a ") == [ACCOUNT]  # the root's own --account, before the command
    assert offered("waba --account My") == [ACCOUNT]


def test_numbers_complete_num_arguments_and_from(account: dict[str, Any]) -> None:
    assert offered("waba number show ") == ["+15550134567", SEED_SETUP["phone_number_id"]]
    assert offered("waba number doctor +1555") == ["+15550134567"]
    # a root --account before the command is understood, not an error
    assert offered(f"waba -a {SEED_SETUP['waba_id']} send text --from 1092") == [SEED_SETUP["phone_number_id"]]


def test_template_and_flow_names_are_completed(account: dict[str, Any], account_id: int, db: Any) -> None:
    with db.session() as session:
        for name, language in (("order_update", "en_US"), ("order_update", "de"), ("welcome", "en_US")):
            session.add(MessageTemplate(account_id=account_id, name=name, language=language, category="UTILITY"))
        session.add(Flow(account_id=account_id, name="appointment_booking"))
        session.add(Flow(account_id=account_id, name="app\nrm -rf ~", status="DRAFT\x1b[2J"))
        session.commit()

    assert offered("waba template show ") == ["order_update", "welcome"]
    assert offered("waba send template or") == ["order_update"]
    assert offered("waba send bulk --template w") == ["welcome"]
    assert offered("waba flow publish ") == ["appointment_booking"]
    assert offered("waba send flow app") == ["appointment_booking"]
    # a new template's name is not completed from the stored ones
    assert offered("waba template create --name ") == []


def test_zsh_and_fish_get_values_with_descriptions(account: dict[str, Any]) -> None:
    zsh = tab("waba account show ", "zsh")
    assert zsh.returncode == 0, zsh.stderr
    assert zsh.stdout.startswith("_arguments")
    assert f'"{ACCOUNT}"' in zsh.stdout
    fish = tab("waba number show +1", "fish")
    assert fish.returncode == 0, fish.stderr
    assert fish.stdout.splitlines()[0].startswith("+15550134567\t")


def test_a_completion_never_creates_a_database_or_fails_aloud(tmp_path: Path) -> None:
    home = tmp_path / "not-there"
    result = tab(
        "waba account show ",
        WABA_HOME=str(home),
        WABA_DATABASE_URL=f"sqlite:///{home / 'waba.db'}",
    )
    assert result.returncode == 0
    assert (result.stdout.strip(), result.stderr) == ("", "")
    assert not home.exists()


def test_a_broken_config_file_offers_nothing_and_says_nothing(tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text("[graph\n")
    result = tab("waba account show ", WABA_CONFIG=str(config))
    assert result.returncode == 0
    assert (result.stdout.strip(), result.stderr) == ("", "")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_the_script_for_the_shell(waba: Any, shell: str) -> None:
    result = waba("completion", shell)
    assert result.code == 0, result.err
    assert f"_WABA_COMPLETE=complete_{shell}" in result.out


def test_completion_for_an_unknown_shell_is_bad_usage(waba: Any) -> None:
    result = waba("completion", "tcsh")
    assert result.code == 2
    assert "no completion for shell 'tcsh'" in result.err
    assert result.out == ""


def test_the_bash_script_completes_in_a_real_bash(tmp_path: Path, account: dict[str, Any]) -> None:
    """The printed script, sourced by bash, fills COMPREPLY by running waba."""
    script = subprocess.run([str(WABA), "completion", "bash"], capture_output=True, text=True, check=True).stdout
    (tmp_path / "waba.bash").write_text(script)
    driver = (
        f"source {tmp_path / 'waba.bash'}\n"
        "COMP_WORDS=(waba account show ''); COMP_CWORD=3\n"
        "_waba_completion waba\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": f"{WABA.parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", "--norc", "-c", driver], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [ACCOUNT]


def test_install_writes_the_script_where_the_shell_reads_it(tmp_path: Path) -> None:
    user = tmp_path / "user"
    user.mkdir()
    env = {**os.environ, "HOME": str(user)}
    result = subprocess.run(
        [str(WABA), "completion", "fish", "--install"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    installed = user / ".config" / "fish" / "completions" / "waba.fish"
    assert "_WABA_COMPLETE=complete_fish" in installed.read_text()
    assert str(installed) in result.stderr


def test_install_completion_on_the_root_installs_for_the_current_shell(tmp_path: Path) -> None:
    user = tmp_path / "user"
    user.mkdir()
    env = {**os.environ, "HOME": str(user), "SHELL": "/bin/bash"}
    result = subprocess.run(
        [str(WABA), "--install-completion"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "completion installed in" in result.stderr
    scripts = [p for p in user.rglob("*") if p.is_file() and "_WABA_COMPLETE" in p.read_text()]
    assert scripts, "no completion script was written under HOME"
