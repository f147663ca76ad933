"""JSON and TOML documents parsed with a bound on their nesting, checked before the parser runs.

Python's parsers recurse once per level: a file nested 100,000 deep ends in ``RecursionError``
(and the structure it would build in more recursion further on). Every document waba parses from
a file or a flag goes through ``loads_json`` or ``loads_toml``: too deep is a ``DocumentError``
(exit 2, with the reason); a syntax error is the parser's own error, as before.
"""

from __future__ import annotations

import json
import re
import tomllib
from itertools import accumulate
from typing import Any

from waba_cli.errors import UsageError

# deeper than any template, setup, flow or knowledge file needs, and far below the recursion limit
MAX_DEPTH = 100

_JSON_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_TOML_STRINGS_AND_COMMENTS = re.compile(
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"[^"\\\n]*(?:\\.[^"\\\n]*)*"|\'[^\'\n]*\'|#[^\n]*'
)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class DocumentError(UsageError):
    """A document too deep (or otherwise beyond waba's bounds) to parse: exit 2."""


def nesting_depth(text: str, *, toml: bool = False) -> int:
    """How deep ``text``'s arrays and objects (tables) nest, strings and comments left out.

    Regular expressions do the scanning (in C), so this costs a few milliseconds per megabyte.
    """
    stripped = (_TOML_STRINGS_AND_COMMENTS if toml else _JSON_STRINGS).sub("", text)
    brackets = _NOT_BRACKETS.sub("", stripped)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def check_depth(text: str, source: str, *, toml: bool = False) -> None:
    """Refuse ``text`` (``DocumentError``) when it nests deeper than ``MAX_DEPTH``."""
    depth = nesting_depth(text, toml=toml)
    if depth > MAX_DEPTH:
        raise DocumentError(f"{source}: nested {depth} levels deep, more than the {MAX_DEPTH} waba reads")


def loads_json(text: str | bytes, source: str) -> Any:
    """``json.loads`` once the nesting is checked; ``json.JSONDecodeError`` as the parser raises it."""
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig")
    check_depth(text, source)
    try:
        return json.loads(text)
    except RecursionError:  # the scan missed it: never an unexpected error
        raise DocumentError(f"{source}: nested too deeply to read") from None


def loads_toml(text: str, source: str) -> dict[str, Any]:
    """``tomllib.loads`` once the nesting is checked; ``tomllib.TOMLDecodeError`` as the parser raises it."""
    check_depth(text, source, toml=True)
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise DocumentError(f"{source}: nested too deeply to read") from None
