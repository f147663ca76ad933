"""`waba message ...`: messages sent and received, with their status history."""

from typing import Annotated, Any

import typer

from waba_cli.cli.common import command, command_context, group, out

WIDE_TEXT = 40  # characters of text beside the full wamid, else the list shows only the short ID

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
    limit: Annotated[int | None, typer.Option("--limit", "-n", metavar="N", help="At most N messages (50).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every message that matches.")] = False,
    no_pager: Annotated[bool, typer.Option("--no-pager", help="Never page a long list on a terminal.")] = False,
) -> None:
    """List messages, newest first.

    For an inbound message `from` is the contact and `to` the business number; for an outbound
    one the reverse. --to selects the contact in both directions. With --account, only that
    account's messages. When the limit cuts the list, a last line says how many matched.

    On a terminal: one line per message, its text cut to fit, and an ID that `waba message show`
    takes (so does the full wamid); a list longer than the screen goes through $PAGER (default
    `less -FRX`; off with --no-pager or PAGER=cat). Piped: tab-separated with the full wamid.

    \b
    Example:
        waba message list --direction out --status failed --since 7d --json
        waba message list --all --no-pager
    """
    from waba_cli.errors import UsageError
    from waba_cli.services import messages

    if all_ and limit is not None:
        raise UsageError("give --limit N or --all, not both")
    query = messages.MessageQuery(
        to=to,
        status=status,
        direction=direction,
        campaign=campaign,
        since=since,
        limit=None if all_ else (limit or messages.DEFAULT_LIMIT),
    )
    found = messages.list_messages(command_context(), query)
    o = out()
    rows = [v.as_json() for v in found.messages]
    if o.json_mode:
        o.json(rows)
        return
    if not rows:
        o.note("no messages")
    elif o.is_tty:
        _terminal_list(rows, page=not no_pager)
    else:
        from waba_cli.domain.text import printable

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
                    printable(r["text"] or "")[:40],
                    r["wamid"],
                    r["error_code"],
                ]
                for r in rows
            ],
        )
    if len(rows) < found.total:
        o.note(f"{len(rows)} of {found.total} shown (--limit N / --all)")


def _terminal_list(rows: list[dict[str, Any]], *, page: bool) -> None:
    """One line per message, as wide as the terminal, the text cut to what is left (paged when long)."""
    from waba_cli.ui.lines import fixed_width, print_lines
    from waba_cli.ui.pager import pager_command

    o = out()
    columns = ["ID", "CREATED", "DIR", "STATUS", "CONTACT", "ERROR"]
    cells = [
        [
            str(r["id"]),
            r["created_at"].strftime("%Y-%m-%d %H:%M") if r["created_at"] else "",
            r["direction"],
            r["status"] or "",
            str((r["to"] if r["direction"] == "out" else r["from"]) or ""),
            str(r["error_code"] or ""),
        ]
        for r in rows
    ]
    # the full wamid too when the terminal leaves the text room beside it
    wamids = [str(r["wamid"] or "") for r in rows]
    if (
        o.console.width - fixed_width([*columns, "WAMID"], [[*c, w] for c, w in zip(cells, wamids, strict=True)])
        >= WIDE_TEXT
    ):
        columns.append("WAMID")
        for cell, wamid in zip(cells, wamids, strict=True):
            cell.append(wamid)
    print_lines(
        o.console,
        [*columns, "TEXT"],
        [[*cell, r["text"] or ""] for cell, r in zip(cells, rows, strict=True)],
        status_column="STATUS",
        color=o.color,
        pager=pager_command() if page else None,
    )


@command(app, "show", shared=("json", "no_input"))
def show(
    wamid: Annotated[
        str, typer.Argument(metavar="WAMID|ID", help="The WhatsApp message id, or the ID `message list` shows.")
    ],
) -> None:
    """Show a message and every status Meta reported for it, with timestamps and pricing.

    \b
    Example:
        waba message show wamid.HBgLMTY1MDU1NTAxMjMVAgARGBI4MjZGRDA0OUE2OTQ3RkEyMzcA --json
        waba message show 42
    """
    from waba_cli.services import messages

    view = messages.show_message(command_context(), wamid)
    data = view.detail_json(wamid)
    wamid = data.get("wamid") or wamid
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
