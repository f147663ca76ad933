"""Lists for a terminal: one line per row, as wide as the terminal, one column cut to what is left.

A Rich table wraps every cell that does not fit, so a list of messages became five lines per
message and a cut wamid. Here every column but one keeps its width and stays on its line; the last
one (a text, a description) gets the width left and ends in "…" when longer. Long lists may then go
through the pager (``ui.pager``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from waba_cli.domain.text import printable
from waba_cli.ui.output import STATUS_STYLES

if TYPE_CHECKING:
    from rich.console import Console

MIN_FLEX = 8  # the cut column keeps at least this many characters, whatever the terminal's width
GAP = 2  # between two columns: a space of padding and a blank rule (padding collapsed)


def fixed_width(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> int:
    """The width the fixed columns (all of ``columns``) take with their gaps, before the cut column."""
    return sum(max(len(name), *(len(row[i]) for row in rows)) + GAP for i, name in enumerate(columns))


def print_lines(
    console: Console,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    status_column: str | None = None,
    color: bool = False,
    pager: str | None = None,
) -> None:
    """Print ``rows`` one line each; the last column is cut to fit (its text escaped, as every cell's).

    With ``pager`` (a command, ``ui.pager.pager_command``), a list taller than the screen goes
    through it.
    """
    from rich import box
    from rich.table import Table
    from rich.text import Text

    fixed = [[printable(cell) for cell in row[:-1]] for row in rows]
    widths = [max(len(name), *(len(row[i]) for row in fixed)) for i, name in enumerate(columns[:-1])]
    left = max(MIN_FLEX, console.width - sum(widths) - GAP * len(widths) - 1)
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", show_edge=False, pad_edge=False, collapse_padding=True)
    for name, width in zip(columns[:-1], widths, strict=True):
        table.add_column(name, no_wrap=True, min_width=width)
    table.add_column(columns[-1], no_wrap=True, overflow="ellipsis")
    status_at = list(columns).index(status_column) if status_column is not None and status_column in columns else -1
    for cells, row in zip(fixed, rows, strict=True):
        texts = [Text(cell) for cell in cells]
        if 0 <= status_at < len(texts) and color:
            texts[status_at].stylize(STATUS_STYLES.get(cells[status_at], ""))
        last = Text(printable(row[-1]), no_wrap=True)
        last.truncate(left, overflow="ellipsis")
        table.add_row(*texts, last)
    if pager is None or len(rows) + 3 <= console.height:
        console.print(table)
        return
    from waba_cli.ui.pager import page

    with console.capture() as captured:
        console.print(table)
    text = captured.get()
    if not page(text, pager):
        console.file.write(text)
