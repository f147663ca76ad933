"""`waba message ...`: messages sent and received, with their status history."""

from typing import Annotated

import typer

from waba_cli.cli.common import command, command_context, group, out

app = group(
    "message",
    "Read back messages sent and received.",
    examples=(
        "waba message list --since 1d --status failed",
        "waba message show wamid.HBgLMTU1NTAxMzQ1NjcVAgARGBI",
    ),
)


@command(app, "list", shared=("json", "account", "no_input"))
def list_(
    to: Annotated[
        str | None, typer.Option("--to", metavar="PHONE", help="Only this contact (either direction).")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option("--status", metavar="S", help="queued, accepted, sent, delivered, read, failed or received."),
    ] = None,
    direction: Annotated[str | None, typer.Option("--direction", metavar="in|out", help="in or out.")] = None,
    campaign: Annotated[str | None, typer.Option("--campaign", metavar="NAME", help="Only this campaign.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", metavar="7d", help="Newer than a duration (30m, 12h, 7d, 2w) or a date.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", metavar="N", help="At most N messages.")] = 50,
) -> None:
    """List messages, newest first.

    For an inbound message `from` is the contact and `to` the business number; for an outbound
    one the reverse. --to selects the contact in both directions. With --account, only that
    account's messages.

    \b
    Example:
        waba message list --direction out --status failed --since 7d --json
    """
    from waba_cli.services import messages

    query = messages.MessageQuery(
        to=to, status=status, direction=direction, campaign=campaign, since=since, limit=limit
    )
    views = messages.list_messages(command_context(), query)
    o = out()
    rows = [v.as_json() for v in views]
    if o.json_mode:
        o.json(rows)
        return
    o.table(
        ["CREATED", "DIR", "STATUS", "FROM", "TO", "TYPE", "TEXT", "WAMID", "ERROR"],
        [
            [
                r["created_at"],
                r["direction"],
                r["status"],
                r["from"],
                r["to"],
                r["type"],
                (r["text"] or "")[:40],
                r["wamid"],
                r["error_code"],
            ]
            for r in rows
        ],
        status_column="STATUS",
        empty="no messages",
    )


@command(app, "show", shared=("json", "no_input"))
def show(wamid: Annotated[str, typer.Argument(metavar="WAMID", help="The WhatsApp message id.")]) -> None:
    """Show a message and every status Meta reported for it, with timestamps and pricing.

    \b
    Example:
        waba message show wamid.HBgLMTY1MDU1NTAxMjMVAgARGBI4MjZGRDA0OUE2OTQ3RkEyMzcA --json
    """
    from waba_cli.services import messages

    view = messages.show_message(command_context(), wamid)
    data = view.detail_json(wamid)
    o = out()
    if o.json_mode:
        o.json(data)
        return
    pairs = [
        (label, data.get(key))
        for label, key in (
            ("direction", "direction"),
            ("status", "status"),
            ("from", "from"),
            ("to", "to"),
            ("type", "type"),
            ("text", "text"),
            ("template", "template_name"),
            ("campaign", "campaign"),
            ("created", "created_at"),
            ("reply to", "context_wamid"),
            ("error", "error_code"),
            ("error title", "error_title"),
            ("error details", "error_details"),
        )
        if data.get(key) is not None
    ]
    o.details(f"message {wamid}", pairs)
    o.table(
        ["STATUS", "AT", "RECEIVED", "PRICING", "ERROR"],
        [
            [
                h["status"],
                h["at"],
                h["received_at"],
                _pricing(h["pricing"]),
                f"{h['error_code']} {h['error_title'] or ''}".strip() if h["error_code"] else None,
            ]
            for h in data["history"]
        ],
        title="status history",
        status_column="STATUS",
        empty="no status reported by Meta yet",
    )


def _pricing(pricing: dict[str, object] | None) -> str | None:
    if not pricing:
        return None
    parts = [str(pricing.get(k)) for k in ("pricing_model", "type", "category") if pricing.get(k) is not None]
    return " ".join(parts) or None
