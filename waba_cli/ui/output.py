"""The one output helper: JSON documents, tables, detail views and notes.

- data goes to stdout, chatter (notes, warnings, progress) to stderr;
- ``--json``: stdout holds exactly one JSON document, nothing else;
- on a terminal, Rich tables and panels (colour unless ``NO_COLOR``); piped, plain tab-separated
  lines without colour codes, so ``cut`` and ``awk`` work. Rich is imported only to draw.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, TextIO

from waba_cli.domain.text import printable

if TYPE_CHECKING:
    from rich.console import Console

STATUS_STYLES = {
    "OK": "green",
    "APPROVED": "green",
    "CONNECTED": "green",
    "GREEN": "green",
    "read": "green",
    "delivered": "green",
    "accepted": "cyan",
    "sent": "cyan",
    "WARNING": "yellow",
    "PENDING": "yellow",
    "YELLOW": "yellow",
    "FLAGGED": "yellow",
    "PAUSED": "yellow",
    "IN_APPEAL": "yellow",
    "PENDING_DELETION": "yellow",
    "queued": "yellow",
    "sending": "yellow",
    "in_doubt": "yellow",
    "REINSTATED": "green",
    "DRAFT": "blue",
    "DELETED": "dim",
    "ARCHIVED": "dim",
    "LOCKED": "red",
    "CRITICAL": "red",
    "REJECTED": "red",
    "RED": "red",
    "failed": "red",
    "DISABLED": "red",
    "UNKNOWN": "magenta",
}


def to_jsonable(value: Any) -> Any:
    """Plain JSON types for ``value``: datetimes as ISO 8601 (UTC ends in Z), sets as sorted lists."""
    if isinstance(value, datetime):
        text = value.isoformat()
        return text.replace("+00:00", "Z")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(to_jsonable(v) for v in value)
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return printable(str(value))


class Output:
    """Renders results for humans or machines; one instance per command run."""

    def __init__(self, *, json_mode: bool = False, stdout: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self.json_mode = json_mode
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self._console: Console | None = None
        self._err_console: Console | None = None

    @property
    def is_tty(self) -> bool:
        return self.stdout.isatty()

    @property
    def color(self) -> bool:
        return self.is_tty and not os.environ.get("NO_COLOR")

    def _rich(self, err: bool = False) -> Console:
        from rich.console import Console

        if err:
            if self._err_console is None:
                self._err_console = Console(
                    file=self.stderr, no_color=bool(os.environ.get("NO_COLOR")), highlight=False
                )
            return self._err_console
        if self._console is None:
            self._console = Console(file=self.stdout, no_color=not self.color, highlight=False)
        return self._console

    # -- machines ---------------------------------------------------------------------------
    def json(self, document: Any) -> None:
        self.stdout.write(json.dumps(to_jsonable(document), ensure_ascii=False, indent=2) + "\n")
        self.stdout.flush()

    def ndjson(self, item: Any) -> None:
        self.stdout.write(json.dumps(to_jsonable(item), ensure_ascii=False, separators=(",", ":")) + "\n")
        self.stdout.flush()

    # -- humans -----------------------------------------------------------------------------
    def table(
        self,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        title: str | None = None,
        status_column: str | None = None,
        empty: str = "nothing to show",
    ) -> None:
        rows = [list(r) for r in rows]
        if not rows:
            self.note(empty)
            return
        if not self.is_tty:
            self.stdout.write("\t".join(c.upper() for c in columns) + "\n")
            for row in rows:
                self.stdout.write("\t".join(_cell(v) for v in row) + "\n")
            return
        from rich.table import Table
        from rich.text import Text

        # cells are Text, never markup: "[bold]" in a customer's message is shown, not obeyed
        table = Table(title=Text(printable(title)) if title else None, header_style="bold", title_justify="left")
        for column in columns:
            table.add_column(Text(column))
        status_at = columns.index(status_column) if status_column in columns else -1
        for row in rows:
            cells = [Text(_cell(v)) for v in row]
            if status_at >= 0 and self.color:
                cells[status_at].stylize(STATUS_STYLES.get(cells[status_at].plain, ""))
            table.add_row(*cells)
        self._rich().print(table)

    def details(self, title: str, pairs: Sequence[tuple[str, Any]]) -> None:
        """A record as label/value lines (a panel on a terminal)."""
        if not self.is_tty:
            self.stdout.write(f"{printable(title)}\n")
            for label, value in pairs:
                self.stdout.write(f"{printable(label)}\t{_cell(value)}\n")
            return
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        for label, value in pairs:
            grid.add_row(Text(label), Text(_cell(value)))
        self._rich().print(Panel(grid, title=Text(printable(title)), title_align="left", expand=False))

    def render(self, renderable: Any) -> None:
        """A Rich renderable on stdout (charts)."""
        self._rich().print(renderable)

    @property
    def console(self) -> Console:
        """The Rich console on stdout (for Live displays)."""
        return self._rich()

    def line(self, text: str) -> None:
        """Data on stdout: a line, or a block whose line breaks are meant (pretty JSON, a template's body).

        Control characters other than those line breaks are escaped; text from outside that must stay
        on one line goes through ``printable`` first.
        """
        self.stdout.write(printable(text, keep_newlines=True) + "\n")

    def note(self, text: str) -> None:
        """Chatter for the operator, on stderr: one line, control characters escaped."""
        self.stderr.write(printable(text) + "\n")

    def success(self, text: str) -> None:
        self._styled("✓ ", text, "green")

    def warn(self, text: str) -> None:
        self._styled("warning: ", text, "yellow")

    def _styled(self, prefix: str, text: str, style: str) -> None:
        text = printable(text)
        if self.stderr.isatty() and not os.environ.get("NO_COLOR"):
            from rich.markup import escape

            self._rich(err=True).print(f"[{style}]{escape(prefix)}[/{style}]{escape(text)}")
        else:
            self.stderr.write(f"{prefix}{text}\n")
