"""Meta's answers for one account's checks: asked concurrently with a short timeout, or reused.

Five reads per account (``debug_token``, the WABA with its ``health_status``, every number, the
subscribed apps, every template with its ``health_status``) go out at once, each bounded by
``health.request_timeout`` and never retried: a monitor wants UNKNOWN in seconds, not a hang.
An answer younger than ``--max-age`` (``health.max_age``) is taken from ``health_graph_answer``
instead, and the checks built on it say so.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from waba_cli.db.models.accounts import Account
from waba_cli.db.models.health import HealthGraphAnswer
from waba_cli.db.timestamps import aware

if TYPE_CHECKING:
    from waba_cli.graph.api import GraphAPI
    from waba_cli.graph.client import Credentials
    from waba_cli.services.context import CommandContext

CALLS = ("token", "waba", "numbers", "subscribed_apps", "templates")
_UNKNOWN_FIELD = re.compile(r"nonexisting field \(?(\w+)\)?")


@dataclass
class Answer:
    """One read: Meta's answer, or why there is none; ``fetched_at`` is when Meta gave it."""

    value: Any = None
    error: Exception | None = None
    fetched_at: datetime | None = None
    cached: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and self.fetched_at is not None


def kept_answers(session: Session, account_ids: list[int]) -> dict[int, dict[str, HealthGraphAnswer]]:
    """The answers kept for these accounts, by account and call."""
    kept: dict[int, dict[str, HealthGraphAnswer]] = {}
    if not account_ids:
        return kept
    rows = session.exec(select(HealthGraphAnswer).where(col(HealthGraphAnswer.account_id).in_(account_ids))).all()
    for row in rows:
        kept.setdefault(row.account_id, {})[row.call] = row
    return kept


def keep_answers(session: Session, account: Account, answers: Mapping[str, Answer]) -> None:
    """Store the answers Meta just gave (one row per account and call, replaced)."""
    assert account.id is not None
    fresh = {call: answer for call, answer in answers.items() if answer.ok and not answer.cached}
    if not fresh:
        return
    rows = {
        row.call: row
        for row in session.exec(
            select(HealthGraphAnswer).where(
                HealthGraphAnswer.account_id == account.id, col(HealthGraphAnswer.call).in_(list(fresh))
            )
        ).all()
    }
    for call, answer in fresh.items():
        row = rows.get(call) or HealthGraphAnswer(account_id=account.id, call=call)
        assert answer.fetched_at is not None
        row.fetched_at, row.answer = answer.fetched_at, answer.value
        session.add(row)


async def ask(
    ctx: CommandContext,
    account: Account,
    credentials: Credentials,
    kept: Mapping[str, HealthGraphAnswer],
    max_age: timedelta,
    now: Callable[[], datetime],
) -> dict[str, Answer]:
    """Every read of ``CALLS`` for ``account``: kept ones younger than ``max_age``, the rest from Meta."""
    answers: dict[str, Answer] = {}
    started = now()
    for call in CALLS:
        row = kept.get(call)
        if row is not None and started - aware(row.fetched_at) < max_age:
            answers[call] = Answer(row.answer, fetched_at=aware(row.fetched_at), cached=True)
    wanted = [call for call in CALLS if call not in answers]
    if not wanted:
        return answers
    timeout = ctx.settings.health.request_timeout
    async with ctx.graph(credentials, account.id, timeout=timeout, max_retries=0) as api:
        reads: dict[str, Callable[[], Awaitable[Any]]] = {
            "token": lambda: api.debug_token(
                credentials.access_token, app_id=account.app_id, app_secret=credentials.app_secret or ""
            ),
            "waba": lambda: _waba(api, account.waba_id),
            "numbers": lambda: _numbers(api, account.waba_id),
            "subscribed_apps": lambda: api.list_subscribed_apps(account.waba_id),
            "templates": lambda: _templates(api, account.waba_id),
        }
        results = await asyncio.gather(*(_bounded(reads[call](), timeout) for call in wanted), return_exceptions=True)
    fetched = now()
    for call, result in zip(wanted, results, strict=True):
        if isinstance(result, BaseException):
            if not isinstance(result, Exception):
                raise result
            answers[call] = Answer(error=result)
        else:
            answers[call] = Answer(result, fetched_at=fetched)
    return answers


async def _bounded(read: Awaitable[Any], timeout: float) -> Any:
    """``read``, given up after twice the request timeout (a paged list is several requests)."""
    from waba_cli.graph.errors import GraphNetworkError

    try:
        return await asyncio.wait_for(read, timeout * 2)
    except TimeoutError:
        raise GraphNetworkError(f"no answer from the Graph API within {timeout * 2:g} s", retryable=False) from None


async def _waba(api: GraphAPI, waba_id: str) -> dict[str, Any]:
    from waba_cli.graph.api import WABA_HEALTH_FIELDS

    return dict(await _known_fields(WABA_HEALTH_FIELDS, lambda fields: api.get_waba(waba_id, fields)))


async def _numbers(api: GraphAPI, waba_id: str) -> list[dict[str, Any]]:
    from waba_cli.services.numbers.store import read_numbers

    return [dict(number) for number in await read_numbers(api, waba_id)]


async def _templates(api: GraphAPI, waba_id: str) -> list[dict[str, Any]]:
    from waba_cli.graph.api import TEMPLATE_HEALTH_FIELDS

    listed = await _known_fields(TEMPLATE_HEALTH_FIELDS, lambda fields: api.list_templates(waba_id, fields=fields))
    return [dict(template) for template in listed]


async def _known_fields(fields: tuple[str, ...], read: Callable[[list[str]], Awaitable[Any]]) -> Any:
    """``read(fields)``, asked again without ``health_status`` when Meta does not know it (before v24.0)."""
    from waba_cli.graph.errors import InvalidRequest

    asked = list(fields)
    while True:
        try:
            return await read(asked)
        except InvalidRequest as exc:
            match = _UNKNOWN_FIELD.search(exc.graph_message)
            if not match or match.group(1) != "health_status" or "health_status" not in asked:
                raise
            asked.remove("health_status")
