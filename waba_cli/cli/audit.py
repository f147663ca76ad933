"""`waba audit list`: every command that changed something, who ran it and how it ended."""

from typing import Annotated

import typer

from waba_cli.cli.common import command, command_context, group, out

app = group(
    "audit",
    "The audit trail: who changed what, when, and how it ended.",
    examples=("waba audit list --since 7d", "waba audit list --account acme --operator alice --json"),
)


@command(app, "list", shared=("json", "debug"))
def list_entries(
    account: Annotated[
        str | None, typer.Option("--account", help="Only entries for this account.", metavar="ACC")
    ] = None,
    operator: Annotated[
        str | None, typer.Option("--operator", help="Only entries by this database role (or OS user).", metavar="ROLE")
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="Since: 7d, 12h, 30m or a date.", metavar="WHEN")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many, newest first.")] = 50,
) -> None:
    """List audit entries, newest first (arguments are shown with secrets redacted).

    On PostgreSQL an operator sees the entries of their accounts and their own; admins see all.

    \b
    Example:
        waba audit list --since 7d
        waba audit list --account acme --operator alice --json
    """
    from waba_cli.services import audit
    from waba_cli.services.messages import since as parse_since

    when = None if since is None else parse_since(since)  # a ValidationError naming --since
    rows = audit.list_entries(command_context(), audit.AuditQuery(account, operator, when, limit))
    o = out()
    if o.json_mode:
        o.json(
            [
                {
                    "id": r.id,
                    "at": r.at,
                    "actor": r.actor,
                    "command": r.command,
                    "arguments": r.arguments,
                    "account": r.account,
                    "outcome": r.outcome,
                }
                for r in rows
            ]
        )
        return
    o.table(
        ["AT", "ACTOR", "COMMAND", "ARGUMENTS", "ACCOUNT", "OUTCOME"],
        [(r.at, r.actor, r.command, " ".join(str(a) for a in r.arguments), r.account or "", r.outcome) for r in rows],
        empty="no audit entries",
    )
