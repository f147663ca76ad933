"""Text that came from outside (customers, Meta, webhook bodies, files) made safe to print.

Printed raw, an escape sequence could rewrite the operator's terminal, a bidirectional override
could make a line read differently from what it holds, and a newline or a tab could forge a line
(or a ``key<TAB>value`` pair) of waba's own output. JSON output needs none of this: it escapes itself.
"""

from __future__ import annotations

import re

# C0 and C1 controls (ESC starts terminal escape sequences), DEL, and the bidirectional overrides
# and isolates that make text read differently from what it holds
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_UNPRINTABLE_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` safe to print: control characters shown as escapes (``\\t``, ``\\n``, ``\\x1b``, ``\\u202e``).

    ``keep_newlines`` leaves line feeds as they are, for a block of several lines whose breaks are
    meant (pretty JSON, a template's body); everything else is escaped all the same.
    """
    pattern = _UNPRINTABLE_BUT_NEWLINE if keep_newlines else _UNPRINTABLE
    return pattern.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    known = _ESCAPES.get(char)
    if known is not None:
        return known
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
