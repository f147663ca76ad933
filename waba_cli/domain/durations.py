"""Durations operators type (``30s``, ``10m``, ``12h``, ``7d``, ``2w``): one parser for every option
and setting, bounded so that no command meets a date out of Python's range ("unexpected error")."""

from __future__ import annotations

import re
from datetime import timedelta

PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
LONGEST = timedelta(days=36500)  # a century: further back than any data, and far from datetime's limits


def parse(text: str) -> timedelta | None:
    """``text`` as a timedelta; None when it is not a duration; ``ValueError`` (saying why) when it is
    one, but longer than ``LONGEST``."""
    match = PATTERN.match(text)
    if match is None:
        return None
    try:
        value: timedelta | None = timedelta(**{UNITS[match.group(2)]: float(match.group(1))})
    except OverflowError:
        value = None
    if value is None or value > LONGEST:
        raise ValueError(f"{text.strip()!r} is out of range: durations go up to {LONGEST.days}d (100 years)")
    return value
