"""Telling a URL that a status changed: a Slack-compatible ``text`` plus the structured result.

Only a change is worth a message (the overall status or any check's); the POST is bounded (a few
attempts, a short timeout each) and a failure is reported in the run's output and stored on the
run, never turned into a failed check: the monitor's exit code says how the accounts are, not
how the chat is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from waba_cli.domain import health as rules
from waba_cli.errors import ValidationError

if TYPE_CHECKING:
    from waba_cli.graph.notify import Delivery

TEXT_CHANGES_SHOWN = 10


def check_url(url: str) -> str:
    """An http(s) URL to POST to (``--notify``)."""
    text = url.strip()
    if not text.startswith(("https://", "http://")) or len(text) <= len("https://"):
        raise ValidationError("--notify", f"{url!r} is not an http:// or https:// URL")
    return text


def message(line: str, changes: Sequence[rules.Change], document: dict[str, Any]) -> dict[str, Any]:
    """The notification: ``text`` for Slack and people, the changes and the whole result for programs."""
    shown = [
        f"• {c.account} {c.check}: {c.before or 'new'} -> {c.after} ({c.detail})" for c in changes[:TEXT_CHANGES_SHOWN]
    ]
    if len(changes) > TEXT_CHANGES_SHOWN:
        shown.append(f"… and {len(changes) - TEXT_CHANGES_SHOWN} more")
    return {
        "text": "\n".join([line, *shown]),
        "changes": [
            {"account": c.account, "check": c.check, "from": c.before, "to": c.after, "detail": c.detail}
            for c in changes
        ],
        **document,
    }


async def send(
    url: str,
    document: dict[str, Any],
    *,
    attempts: int,
    timeout: float,
    sleep: Callable[[float], Awaitable[None]],
    transport: Any = None,
) -> Delivery:
    from waba_cli.graph.notify import post_json

    return await post_json(url, document, timeout=timeout, attempts=attempts, sleep=sleep, transport=transport)
