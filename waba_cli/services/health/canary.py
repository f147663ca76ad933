"""The canary: one real message through the whole path, from the API to the phone and back.

Meta's health can read AVAILABLE while messages fail (public trackers are full of "health page
green, messages failing"). ``--canary +PHONE`` sends the configured canary template to an
operator's phone like `waba send template` does, then waits, bounded, for its ``delivered`` (or
``read``) status to arrive through the webhooks serve-webhook stores. The clock and the sleep are
injected, so tests do not wait on real time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel import select

from waba_cli.db.models.accounts import Account
from waba_cli.db.models.messages import Message
from waba_cli.domain import health as rules
from waba_cli.errors import UsageError, WabaError

if TYPE_CHECKING:
    from waba_cli.services.context import CommandContext

NAME = "canary"
POLL_SECONDS = 1.0


async def canary(
    ctx: CommandContext,
    account: Account,
    to: str,
    *,
    template: str | None,
    language: str | None,
    timeout: timedelta,
    clock: Callable[[], datetime],
    sleep: Callable[[float], Awaitable[None]],
) -> rules.Check:
    """Send ``template`` from the account's default number to ``to`` and wait for it to be delivered."""
    from waba_cli.services.messaging import drafts
    from waba_cli.services.messaging import send as sending

    if not template:
        return rules.unknown(NAME, "no canary template: set health.canary_template or give --canary-template")
    ctx.name_account(account.name)  # the send acts on the context's account
    started = clock()
    try:
        sent = await sending.check_and_deliver(
            ctx, sending.Target(to=to), drafts.template_message(template, language=language)
        )
    except UsageError as exc:
        return rules.unknown(NAME, f"the canary was not sent: {exc}")
    except WabaError as exc:
        return rules.Check(NAME, rules.CRITICAL, f"Meta refused the canary {template} to {to}: {exc.message}")
    if sent.wamid is None:
        code = f" ({sent.error_code} {sent.error_title or ''})".rstrip() if sent.error_code else ""
        return rules.Check(NAME, rules.CRITICAL, f"the canary {template} to {to} was refused{code}")
    return await _delivered(ctx, sent.wamid, f"{template} to {to}", started, timeout, clock, sleep)


async def _delivered(
    ctx: CommandContext,
    wamid: str,
    what: str,
    started: datetime,
    timeout: timedelta,
    clock: Callable[[], datetime],
    sleep: Callable[[float], Awaitable[None]],
) -> rules.Check:
    """Wait until the stored status of ``wamid`` is delivered, read or failed, or ``timeout`` passed."""
    deadline = started + timeout
    while True:
        status, code = _status(ctx, wamid)
        waited = (clock() - started).total_seconds()
        if status in ("delivered", "read"):
            return rules.Check(NAME, rules.OK, f"{what} {status} in {waited:.1f} s", value=round(waited, 2), unit="s")
        if status == "failed":
            return rules.Check(NAME, rules.CRITICAL, f"{what} failed ({code or 'no code'})")
        if clock() >= deadline:
            return rules.Check(
                NAME,
                rules.CRITICAL,
                f"{what} not delivered within {timeout.total_seconds():g} s (last status: {status}); "
                "is serve-webhook receiving?",
                value=round(waited, 2),
                unit="s",
            )
        await sleep(min(POLL_SECONDS, max(0.0, (deadline - clock()).total_seconds())))


def _status(ctx: CommandContext, wamid: str) -> tuple[str, int | None]:
    with ctx.db.session() as session:
        row = session.exec(select(Message.status, Message.error_code).where(Message.wamid == wamid)).first()
    return (row[0], row[1]) if row is not None else ("unknown", None)
