"""`waba health check` and `history` as commands: the first line, the exit codes (never 2 for its own
failures), the Nagios format with perfdata, and Meta's text printed with control characters escaped."""

from __future__ import annotations

from typing import Any

import pytest
import respx

from tests.support.health import Meta, limited


@pytest.fixture
def meta(account: Any, graph: respx.MockRouter) -> Meta:
    return Meta().serve(graph)


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (("--format", "xml"), "Invalid value for '--format'"),
        (("--textfile", "x.prom"), "--textfile goes with --format prometheus"),
        (("--format", "prometheus", "--textfile", "/nonexistent/waba/x.prom"), "its directory does not exist"),
        (("--canary", "not a phone"), "--canary"),
        (("--all", "--account", "My Business WhatsApp"), "not both"),
        (("--no-such-flag",), "No such option"),
    ],
)
def test_bad_arguments_are_unknown_with_a_first_line(waba: Any, meta: Meta, args: tuple[str, ...], shown: str) -> None:
    result = waba("health", "check", *args)
    assert result.code == 3
    assert result.out.startswith("WABA UNKNOWN - ")
    assert shown in result.out and shown in result.err
    assert meta.calls() == 0


def test_bad_arguments_with_json_are_one_json_document(waba: Any, meta: Meta) -> None:
    result = waba("health", "check", "--json", "--max-age", "never")
    assert result.code == 3
    assert result.json()["status"] == "UNKNOWN"


def test_an_unknown_account_is_unknown(waba: Any, meta: Meta) -> None:
    result = waba("health", "check", "--account", "nobody")
    assert result.code == 3
    assert result.out.startswith("WABA UNKNOWN - ")


@pytest.mark.parametrize(
    ("quality", "code", "first"),
    [
        ("GREEN", 0, "WABA OK - 8 check(s) OK on 1 account(s)"),
        ("YELLOW", 1, "WABA WARNING - 1 warning: +1 555-013-4567: quality YELLOW"),
        ("RED", 2, "WABA CRITICAL - 1 critical: +1 555-013-4567: quality RED"),
    ],
)
def test_the_exit_code_and_the_first_line(waba: Any, meta: Meta, quality: str, code: int, first: str) -> None:
    meta.numbers[0]["quality_rating"] = quality
    text = waba("health", "check")
    quiet = waba("health", "check", "--quiet")
    assert text.code == quiet.code == code
    assert text.out.splitlines()[0].startswith(first)
    assert quiet.out.count("\n") == 1 and quiet.out.startswith(first)


def test_nagios_format_has_perfdata_and_the_long_output(waba: Any, meta: Meta) -> None:
    meta.numbers[0]["quality_rating"] = "YELLOW"
    result = waba("health", "check", "--format", "nagios")
    assert result.code == 1
    first, *rest = result.out.splitlines()
    status, perfdata = first.split(" | ")
    assert status.startswith("WABA WARNING - 1 warning")
    assert "warning=1;;;0" in perfdata and "'My Business WhatsApp delivery'=0%;5;20;0;100" in perfdata
    assert rest[0].startswith("WARNING My Business WhatsApp number:+15550134567: ")
    assert all(line.split()[0] in ("OK", "WARNING") for line in rest)


def test_text_from_meta_is_printed_with_control_characters_escaped(waba: Any, meta: Meta) -> None:
    meta.waba["health_status"] = limited("BUSINESS", "Verify\x1b[2J the business\nFAKE LINE")
    for args in ((), ("--format", "nagios")):
        result = waba("health", "check", *args)
        assert "\x1b" not in result.out
        assert "Verify\\x1b[2J the business\\nFAKE LINE" in result.out
        assert not any(line.startswith("FAKE LINE") for line in result.out.splitlines())


def test_history_without_runs_says_so(waba: Any, account: Any) -> None:
    result = waba("health", "history", "--since", "1d")
    assert result.code == 0
    assert "no status change since" in result.err
    assert waba("health", "history", "--since", "forever").code == 2
