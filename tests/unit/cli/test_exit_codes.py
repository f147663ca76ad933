"""Exit codes that say what happened: a template status waba does not know is exit 2 naming the
valid ones; a duration or date out of range is exit 2 with the reason on every command (never
"unexpected error"); a declined confirmation says "nothing changed" and exits 1. (`template apply`
and its --detailed-exitcode: tests/unit/services/templates/test_apply.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from waba_cli.cli.common import State


def test_template_list_refuses_a_status_it_does_not_know_naming_the_valid_ones(waba: Any, account: Any) -> None:
    result = waba("template", "list", "--status", "BOGUS")

    assert result.code == 2
    [line] = result.err.strip().splitlines()
    assert "--status: 'BOGUS' is not a template status" in line
    assert all(status in line for status in ("APPROVED", "PENDING", "REJECTED", "PAUSED", "DRAFT"))
    assert waba("template", "list", "--status", "approved").code == 0
    assert waba("template", "list", "--status", "IN_APPEAL").code == 0


def test_a_status_a_sync_stored_is_accepted(waba: Any, account: Any, graph: Any) -> None:
    from tests.support.templates import TEMPLATES, listed, meta_template

    graph.get(TEMPLATES).mock(return_value=listed(meta_template("order_update", "10", "NEWLY_INVENTED")))
    assert waba("template", "sync").code == 0
    result = waba("template", "list", "--status", "NEWLY_INVENTED", "--json")
    assert result.code == 0, result.err
    assert [t["name"] for t in result.json()] == ["order_update"]


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (("message", "list", "--since", "99999999d"), "--since"),
        (("message", "list", "--since", "0001-01-01"), "--since"),
        (("events", "list", "--since", "99999999d"), "--since"),
        (("analytics", "report", "--since", "99999999d"), "--since"),
        (("analytics", "report", "--since", "7d", "--until", "99999999d"), "--until"),
        (("analytics", "sync", "--since", "99999999d"), "--since"),
        (("health", "history", "--since", "99999999w"), "--since"),
        (("flow", "responses", "booking", "--since", "99999999d"), "--since"),
        (("flow", "metrics", "booking", "--since", "99999999d"), "--since"),
    ],
)
def test_a_duration_out_of_range_is_exit_2_with_the_reason(
    waba: Any, account: Any, command: tuple[str, ...], option: str
) -> None:
    result = waba(*command)

    assert result.code == 2, result.err
    [line] = result.err.strip().splitlines()
    assert line.startswith(f"waba: {option}: ") and "out of range" in line
    assert "unexpected error" not in line


def test_health_check_says_the_reason_in_its_own_exit_code(waba: Any, account: Any) -> None:
    result = waba("health", "check", "--max-age", "99999999d")
    assert result.code == 3  # Nagios' UNKNOWN: health check maps every failure to it
    assert "--max-age: '99999999d' is out of range" in result.err


def test_a_duration_out_of_range_in_the_config_is_a_config_error(waba: Any, isolated: Any) -> None:
    (isolated / "config.toml").write_text('[health]\nkeep = "99999999d"\n')
    result = waba("account", "list")
    assert result.code == 2 and "health.keep" in result.err and "out of range" in result.err


def test_declining_a_confirmation_says_nothing_changed_and_exits_1(
    waba: Any, account: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(State, "interactive", property(lambda self: True))

    declined = waba("account", "remove", account["name"], stdin="n\n")

    assert declined.code == 1
    assert declined.err.strip().endswith("nothing changed")
    assert [a["name"] for a in waba("account", "list", "--json").json()] == [account["name"]]
    accepted = waba("account", "remove", account["name"], stdin="y\n")
    assert accepted.code == 0, accepted.err
