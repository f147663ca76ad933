"""`waba events`: the webhook deliveries as stored by serve-webhook: list, show, tail, replay, prune."""

from typing import TYPE_CHECKING, Annotated, Any

import typer

from waba_cli.cli.common import command, command_context, confirm, group, out
from waba_cli.domain.text import printable

if TYPE_CHECKING:
    from waba_cli.services.events import StoredEvent
    from waba_cli.ui.output import Output

app = group(
    "events",
    "Webhook deliveries as they arrived: list, show, tail, replay, prune.",
    examples=(
        "waba events list --failed",
        "waba events tail --follow",
        "waba events prune --older-than 30d",
    ),
)


def _row_json(row: "StoredEvent") -> dict[str, Any]:
    return {
        "id": row.id,
        "field": row.field,
        "received_at": row.received_at,
        "status": row.status,
        "summary": row.summary,
        "error": row.error,
    }


def _since(value: str | None, option: str) -> Any:
    from waba_cli.errors import ValidationError
    from waba_cli.services.messages import since

    if value is None:
        return None
    try:
        return since(value)
    except ValidationError as exc:
        raise ValidationError(option, str(exc).split(": ", 1)[-1]) from None


@command(app, "list", shared=("json",))
def list_events(
    field: Annotated[str | None, typer.Option("--field", help="Only deliveries with this field (messages...).")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Only deliveries that failed to apply.")] = False,
    since: Annotated[str | None, typer.Option("--since", help="Received since: 7d, 12h, 30m or a date.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many, newest first.")] = 50,
) -> None:
    """List stored webhook deliveries, newest first.

    \b
    Example:
        waba events list --failed
        waba events list --field message_template_status_update --since 7d --json
    """
    from waba_cli.services import events

    query = events.EventQuery(field=field, failed=failed, since=_since(since, "--since"), limit=limit)
    rows = events.list_events(command_context(), query)
    o = out()
    if o.json_mode:
        o.json([_row_json(r) for r in rows])
        return
    o.table(
        ["ID", "RECEIVED", "FIELD", "STATUS", "SUMMARY"],
        [(r.id, r.received_at, r.field, r.status, r.error or r.summary) for r in rows],
        status_column="STATUS",
        empty="no events",
    )


@command(app, "show", shared=("json",))
def show(event_id: Annotated[int, typer.Argument(metavar="ID", help="The event id (see `waba events list`).")]) -> None:
    """Show one delivery: its body as pretty JSON (with --json, also its headers and how applying it went).

    \b
    Example:
        waba events show 42
        waba events show 42 --json | jq .body.entry
    """
    import json

    from waba_cli.services.events import show_event

    row = show_event(command_context(), event_id)
    body = row.body
    o = out()
    if o.json_mode:
        o.json({**_row_json(row), "account_id": row.account_id, "headers": row.headers, "body": body})
        return
    o.note(f"event {row.id}: {row.field or '-'}, received {row.received_at:%Y-%m-%d %H:%M:%S}, {row.status}")
    outcome = row.error or row.summary
    if outcome:
        o.note(outcome)
    # a body that is not JSON is shown escaped (one line); pretty JSON keeps its own line breaks
    o.line(json.dumps(body, indent=2, ensure_ascii=False) if not isinstance(body, str) else printable(body))


def _print_event(o: "Output", row: "StoredEvent", ndjson: bool) -> None:
    if ndjson:
        o.ndjson(_row_json(row))
        return
    outcome = row.error or row.summary
    o.line(
        f"{row.received_at:%Y-%m-%d %H:%M:%S}  #{row.id}  {row.field or '-'}  {row.status}"
        + (f"  {printable(outcome)}" if outcome else "")
    )
    for line in row.gist:
        o.line(f"    {printable(line)}")
    o.stdout.flush()


@command(app, "tail", shared=("json",))
def tail(
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new deliveries as they come.")] = False,
    lines: Annotated[int, typer.Option("--lines", "-n", min=0, help="How many recent deliveries to start with.")] = 10,
) -> None:
    """Print the latest deliveries, oldest first; with --follow, new ones as they arrive (Ctrl-C stops).

    On a terminal, one line per delivery and under it who wrote and the start of what they wrote
    (`Ana Souza +16505550123: "Has my order shipped?"`), or each status and its recipient (`read
    +16505550123`), control characters escaped. NDJSON (one JSON object per line, unchanged) when
    piped or with --json.

    \b
    Example:
        waba events tail --follow
        waba events tail -f | jq -r .field
    """
    from waba_cli.services.events import tail_events

    o = out()
    ndjson = o.json_mode or not o.is_tty
    for row in tail_events(command_context(), lines, follow=follow, gist=not ndjson):
        _print_event(o, row, ndjson)


@command(app, "replay", shared=("json",))
def replay(
    event_id: Annotated[int | None, typer.Argument(metavar="[ID]", help="The event to apply again.")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Every event that failed or was not applied yet.")] = False,
) -> None:
    """Apply stored deliveries again; what was applied before stays applied once.

    Use it after fixing what made an event fail (`waba events list --failed`). Replaying an applied
    event changes nothing: messages, statuses and business events are keyed in the database.

    \b
    Example:
        waba events replay 42
        waba events replay --failed
    """
    from waba_cli.errors import UsageError
    from waba_cli.services.events import replay_events

    if (event_id is None) == (not failed):
        raise UsageError("give an event ID or --failed (not both)", "waba events replay 42, or --failed")
    results = [
        {
            "id": replayed_id,
            "field": outcome.field_text,
            "status": "failed" if outcome.error else "applied",
            "summary": outcome.summary,
            "error": outcome.error,
        }
        for replayed_id, outcome in replay_events(command_context(), event_id)
    ]
    o = out()
    if o.json_mode:
        o.json(results)
    elif not results:
        o.note("nothing to replay: no failed or unapplied events")
    for result in results if not o.json_mode else ():
        o.line(printable(f"event {result['id']}: {result['status']}: {result['error'] or result['summary']}"))
    if any(r["error"] for r in results):
        raise typer.Exit(1)


@command(app, "prune", shared=("json", "yes", "no_input"))
def prune(
    older_than: Annotated[str, typer.Option("--older-than", help="Age of the events to delete: 30d, 12w, ...")],
) -> None:
    """Delete applied raw deliveries older than a given age.

    Messages, statuses, template and account changes stay (analytics and `message list` read those);
    events that failed or are not applied yet are kept whatever their age.

    \b
    Example:
        waba events prune --older-than 30d --yes
    """
    from waba_cli.errors import ValidationError
    from waba_cli.services.events import prune_events

    if not older_than.strip()[-1:].isalpha():
        raise ValidationError("--older-than", f"{older_than!r} is not an age like 30d, 12h or 2w")
    before = _since(older_than, "--older-than")
    confirm(f"Delete applied webhook events received before {before:%Y-%m-%d %H:%M} UTC?")
    deleted, kept = prune_events(command_context(), before)
    o = out()
    if o.json_mode:
        o.json({"deleted": deleted, "kept_unapplied": kept, "before": before})
        return
    o.success(f"deleted {deleted} applied event(s) received before {before:%Y-%m-%d %H:%M} UTC")
    if kept:
        o.warn(f"kept {kept} older event(s) that failed or are not applied yet: `waba events list --failed`")
