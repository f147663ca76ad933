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
    assert pipe.getvalue().splitlines() == ["NAME\tSTATUS", "a b\tAPPROVED", "multi line\t"]


def test_json_is_one_document_with_utc_times() -> None:
    pipe = io.StringIO()
    Output(json_mode=True, stdout=pipe).json({"at": datetime(2026, 11, 30, 12, 0, tzinfo=UTC), "tags": {"b", "a"}})
    assert json.loads(pipe.getvalue()) == {"at": "2026-11-30T12:00:00Z", "tags": ["a", "b"]}
