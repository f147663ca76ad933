"""Charts on a terminal, from Rich's own renderables: sparklines and bars, no plotting library.

Used by `analytics report` and `analytics dashboard` only; Rich is loaded by the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.table import Table

SPARKS = "▁▂▃▄▅▆▇█"
BLOCKS = " ▏▎▍▌▋▊▉█"


def sparkline(values: Sequence[float | None]) -> str:
    """One character per value, scaled from 0 to the largest (a gap for None)."""
    known = [v for v in values if v is not None]
    top = max(known, default=0.0)
    if top <= 0:
        return "".join(" " if v is None else SPARKS[0] for v in values)
    return "".join(
        " " if v is None else SPARKS[min(len(SPARKS) - 1, int(v / top * (len(SPARKS) - 1) + 0.5))] for v in values
    )


def bar(value: float, top: float, width: int) -> str:
    """A horizontal bar of ``value`` against ``top``, ``width`` cells at most, in eighths of a cell."""
    if top <= 0 or value <= 0:
        return ""
    eighths = round(value / top * width * 8)
    return "█" * (eighths // 8) + (BLOCKS[eighths % 8] if eighths % 8 else "")


def bars(title: str, labels: Sequence[str], values: Sequence[float], *, width: int = 40, unit: str = "") -> Table:
    """A bar chart: a row per label with its bar and value."""
    from rich.table import Table
    from rich.text import Text

    table = Table.grid(padding=(0, 1))
    table.title = Text(title, style="bold")
    table.title_justify = "left"
    table.add_column(justify="right", no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    top = max(values, default=0)
    for label, value in zip(labels, values, strict=True):
        shown = f"{value:g}{unit}"
        table.add_row(Text(label), Text(bar(value, top, width), style="cyan"), Text(shown))
    return table
