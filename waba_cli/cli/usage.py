"""`waba usage`: messages sent against the account's limits."""

from typing import Annotated

import typer

from waba_cli.cli.common import command, command_context, out


def register(app: typer.Typer) -> None:
    command(app, "usage", shared=("json", "account"))(usage)


def usage(ref: Annotated[str | None, typer.Argument(metavar="[ACC]", help="Account name or WABA id.")] = None) -> None:
    """Show today's, this month's and the last minute's messages against the account's limits.

    Counted are outbound messages Meta accepted (auto-replies included), per day and month in the
    account's business_timezone. Limits are set with `waba account update ACC --set daily_limit=N`.

    \b
    Example:
        waba usage acme --json
    """
    from waba_cli.services.ratelimit import account_usage

    ctx = command_context()
    ctx.name_account(ref)
    result = account_usage(ctx)
    o = out()
    if o.json_mode:
        o.json(
            {
                "account": result.account,
                "today": result.today,
                "month": result.month,
                "last_minute": result.last_minute,
                "timezone": result.timezone,
                "limits": {
                    "daily": result.daily_limit,
                    "monthly": result.monthly_limit,
                    "per_minute": result.per_minute_limit,
                },
            }
        )
        return

    def against(used: int, limit: int | None) -> str:
        return f"{used} of {limit} ({used * 100 // limit}%)" if limit else f"{used} (no limit)"

    o.details(
        f"usage of {result.account} ({result.timezone})",
        [
            ("today", against(result.today, result.daily_limit)),
            ("this month", against(result.month, result.monthly_limit)),
            ("last minute", against(result.last_minute, result.per_minute_limit)),
        ],
    )
