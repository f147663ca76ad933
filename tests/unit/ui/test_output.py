"""The output helper: what operators see on a terminal and what scripts read from a pipe."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from waba_cli.ui.output import Output


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_customer_text_with_rich_markup_is_shown_not_obeyed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    screen = Terminal()
    out = Output(stdout=screen, stderr=io.StringIO())
    out.table(["status", "text"], [["read", "[bold red]hi[/] [link=x]"]], status_column="status")
    out.details("[b]title", [("text", "[/]closing tag first")])
    shown = screen.getvalue()
    assert "[bold red]hi[/] [link=x]" in shown
    assert "[/]closing tag first" in shown
    assert "[b]title" in shown


def test_status_cells_are_coloured_on_a_colour_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    screen = Terminal()
    Output(stdout=screen).table(["name", "status"], [["t1", "REJECTED"]], status_column="status")
    assert "\x1b[" in screen.getvalue()


def test_piped_tables_are_tab_separated_without_colour() -> None:
    pipe = io.StringIO()
    Output(stdout=pipe).table(["name", "status"], [["a\tb", "APPROVED"], ["multi\nline", None]], status_column="status")
    assert pipe.getvalue().splitlines() == ["NAME\tSTATUS", "a\\tb\tAPPROVED", "multi\\nline\t"]


def test_a_customers_tabs_and_newlines_cannot_forge_detail_lines() -> None:
    pipe = io.StringIO()
    Output(stdout=pipe).details("message wamid.1", [("text", "hi\nstatus\tread\r\x1b[2J"), ("status", "failed")])
    assert pipe.getvalue().splitlines() == ["message wamid.1", "text\thi\\nstatus\\tread\\r\\x1b[2J", "status\tfailed"]


def test_escape_sequences_in_a_name_are_shown_not_obeyed_in_a_terminal_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    screen = Terminal()
    Output(stdout=screen).table(["name"], [["\x1b]0;pwned\x07Ana\u202eevil"]], title="contacts \x1b[31m")
    shown = screen.getvalue()
    # Rich's own styles (the bold header) are escape sequences too; the name's OSC and BEL are not there
    assert "\x1b]" not in shown and "\u202e" not in shown and "\x07" not in shown and "\x1b[31m" not in shown
    assert "\\x1b]0;pwned\\x07Ana\\u202eevil" in shown and "contacts \\x1b[31m" in shown


def test_notes_and_warnings_stay_one_line() -> None:
    err = io.StringIO()
    o = Output(stdout=io.StringIO(), stderr=err)
    o.note("Meta says: bad\nwaba: all good")
    o.warn("x\u2066y")
    assert err.getvalue().splitlines() == ["Meta says: bad\\nwaba: all good", "warning: x\\u2066y"]


def test_data_blocks_keep_their_line_breaks_and_lose_their_escapes() -> None:
    pipe = io.StringIO()
    Output(stdout=pipe).line("Hello\n\x1b[31mAna\t!")
    assert pipe.getvalue() == "Hello\n\\x1b[31mAna\\t!\n"


def test_json_output_is_exact_whatever_the_text_holds() -> None:
    pipe = io.StringIO()
    text = "a\tb\nc\x1b[2J\u202e"
    Output(json_mode=True, stdout=pipe).json({"text": text})
    assert json.loads(pipe.getvalue()) == {"text": text}


def test_json_is_one_document_with_utc_times() -> None:
    pipe = io.StringIO()
    Output(json_mode=True, stdout=pipe).json({"at": datetime(2026, 11, 30, 12, 0, tzinfo=UTC), "tags": {"b", "a"}})
    assert json.loads(pipe.getvalue()) == {"at": "2026-11-30T12:00:00Z", "tags": ["a", "b"]}
