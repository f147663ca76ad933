"""`waba flow ...`: WhatsApp Flows from the terminal: check, create, publish, sync, and the answers as a table."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from waba_cli.cli.common import command, command_context, confirm, group, out, show_dry_run

if TYPE_CHECKING:
    from waba_cli.db.models.flows import Flow
    from waba_cli.services.flows.lifecycle import Saved

app = group(
    "flow",
    "WhatsApp Flows: create, publish, sync, send's answers as a table, endpoint metrics.",
    examples=(
        "waba flow sync",
        "waba flow create booking --json booking.json --category APPOINTMENT_BOOKING",
        "waba flow responses booking --csv answers.csv",
    ),
)

FlowArg = Annotated[str, typer.Argument(metavar="FLOW", help="Flow name or id.")]
# --json names the Flow JSON file here (the contract's `flow create NAME --json FILE`), so these two
# commands do not take the shared --json; `waba --json flow create ...` still prints a document
FILE_SHARED = ("account", "dry_run", "no_input")
CHANGE_SHARED = ("json", "account", "dry_run", "no_input")
READ_SHARED = ("json", "account", "no_input")


def _summary(flow: "Flow") -> dict[str, Any]:
    return {
        "id": flow.flow_id,
        "name": flow.name,
        "status": flow.status,
        "categories": flow.categories,
        "validation_errors": flow.validation_errors,
        "json_version": flow.json_version,
        "data_api_version": flow.data_api_version,
        "endpoint_uri": flow.endpoint_uri,
        "health": flow.health,
        "first_screen": flow.first_screen,
        "preview_url": flow.preview_url,
        "synced_at": flow.synced_at,
        "updated_at": flow.updated_at,
    }


def _show_problems(problems: Any) -> None:
    from waba_cli.domain.text import printable

    o = out()
    for problem in problems:
        where = problem.where()
        o.note(f"  {problem.rule}: {printable(problem.message)}" + (f" ({where})" if where else ""))


def _checked(call: Any) -> Any:
    """Run a create/upload; a Flow JSON that breaks local rules lists every problem, then exits 2."""
    from waba_cli.services.flows.lifecycle import FlowJsonError

    try:
        return call()
    except FlowJsonError as exc:
        _show_problems(exc.problems)
        raise


def _saved(saved: "Saved", verb: str) -> None:
    """Show a created or uploaded flow with Meta's validation errors; exit 1 when there are any."""
    from waba_cli.domain.flow_json import meta_error_line
    from waba_cli.domain.text import printable

    o = out()
    if saved.dry_run_requests:
        if o.json_mode:
            o.json({"dry_run": True, "requests": saved.dry_run_requests})
            return
        for request in saved.dry_run_requests:
            show_dry_run(request)
        return
    flow = saved.flow
    if o.json_mode:
        o.json(
            {
                **(_summary(flow) if flow else {}),
                "validation_errors": saved.validation_errors,
                "published": saved.published,
            }
        )
    elif flow is not None:
        o.success(f"{verb} flow {printable(flow.name)} ({flow.flow_id}): {flow.status}")
    for error in saved.validation_errors:
        o.note(f"  {printable(meta_error_line(error))}")
    if saved.validation_errors:
        count = len(saved.validation_errors)
        o.note(f"Meta found {count} validation error{'s' if count != 1 else ''}: fix the JSON, then `waba flow upload`")
        raise typer.Exit(1)


@command(app, "create", shared=FILE_SHARED)
def create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The new flow's name.")],
    json_file: Annotated[Path | None, typer.Option("--json", metavar="FILE", help="The Flow JSON file.")] = None,
    category: Annotated[
        list[str] | None,
        typer.Option(
            "--category",
            metavar="C",
            help="SIGN_UP, SIGN_IN, APPOINTMENT_BOOKING, LEAD_GENERATION, "
            "CONTACT_US, CUSTOMER_SUPPORT, SURVEY or OTHER (repeatable; default OTHER).",
        ),
    ] = None,
    endpoint_uri: Annotated[
        str | None, typer.Option("--endpoint-uri", metavar="URL", help="The flow's data endpoint (https://).")
    ] = None,
    clone: Annotated[
        str | None, typer.Option("--clone", metavar="FLOW", help="Start from a copy of this flow.")
    ] = None,
    publish: Annotated[bool, typer.Option("--publish", help="Publish it when Meta finds no validation error.")] = False,
) -> None:
    """Create a flow: check its JSON locally, create it, upload the JSON, show Meta's verdict.

    The Flow JSON is checked first (syntax with line and column, version, screen ids, a terminal
    screen, routing_model, data_api_version and endpoint for data exchange, the common components'
    required properties): a broken file is exit 2 and nothing is sent. Meta's validation errors
    are shown with line, column and pointers where Meta gives them; exit 1 when there are any.
    --dry-run prints the requests (create, upload, publish) and sends nothing.

    \b
    Example:
        waba flow create booking --json booking.json --category APPOINTMENT_BOOKING --publish
    """
    from waba_cli.services.flows.lifecycle import create_flow

    ctx = command_context()
    saved = _checked(
        lambda: create_flow(
            ctx,
            name,
            json_file,
            categories=category or [],
            endpoint_uri=endpoint_uri,
            clone=clone,
            publish=publish,
        )
    )
    _saved(saved, "published" if saved.published else "created")


@command(app, "upload", shared=FILE_SHARED)
def upload(
    flow_ref: FlowArg,
    json_file: Annotated[Path, typer.Option("--json", metavar="FILE", help="The Flow JSON file.")],
) -> None:
    """Upload a new Flow JSON to a draft flow (checked locally first, then by Meta).

    A published flow cannot change: make a new version with `waba flow create NAME --clone FLOW`.
    Exit 2 when the file breaks a local rule (nothing sent), 1 when Meta finds validation errors.

    \b
    Example:
        waba flow upload booking --json booking.json
    """
    from waba_cli.services.flows.lifecycle import upload_flow

    ctx = command_context()
    _saved(_checked(lambda: upload_flow(ctx, flow_ref, json_file)), "uploaded the JSON of")


def _changed(flow: "Flow", verb: str) -> None:
    from waba_cli.domain.text import printable

    o = out()
    if o.json_mode:
        o.json(_summary(flow))
        return
    o.success(f"{verb} flow {printable(flow.name)} ({flow.flow_id}): {flow.status}")


def _dry_run(call: Any) -> Any:
    from waba_cli.errors import DryRunRequest

    try:
        return call()
    except DryRunRequest as exc:
        show_dry_run(exc.request)
        return None


@command(app, "publish", shared=CHANGE_SHARED)
def publish(flow_ref: FlowArg) -> None:
    """Publish a draft flow: it becomes immutable and can be sent.

    \b
    Example:
        waba flow publish booking
    """
    from waba_cli.services.flows.lifecycle import publish_flow

    flow = _dry_run(lambda: publish_flow(command_context(), flow_ref))
    if flow is not None:
        _changed(flow, "published")


@command(app, "deprecate", shared=(*CHANGE_SHARED, "yes"))
def deprecate(flow_ref: FlowArg) -> None:
    """Deprecate a published flow: it can no longer be sent or opened (this cannot be undone).

    \b
    Example:
        waba flow deprecate booking --yes
    """
    from waba_cli.services.flows.lifecycle import deprecate_flow

    ctx = command_context()
    if not ctx.dry_run:
        confirm(f"Deprecate flow {flow_ref}? It can no longer be sent or opened")
    flow = _dry_run(lambda: deprecate_flow(ctx, flow_ref))
    if flow is not None:
        _changed(flow, "deprecated")


@command(app, "delete", shared=(*CHANGE_SHARED, "yes"))
def delete(flow_ref: FlowArg) -> None:
    """Delete a draft flow at Meta (published flows cannot be deleted: deprecate them).

    Its local row stays, marked DELETED, so the answers it collected remain readable.

    \b
    Example:
        waba flow delete booking_test --yes
    """
    from waba_cli.services.flows.lifecycle import delete_flow

    ctx = command_context()
    if not ctx.dry_run:
        confirm(f"Delete flow {flow_ref}?")
    flow = _dry_run(lambda: delete_flow(ctx, flow_ref))
    if flow is not None:
        _changed(flow, "deleted")


@command(app, "sync", shared=("json", "account", "no_input"))
def sync() -> None:
    """Fetch every flow of the account from Meta: status, validation errors, JSON version, endpoint, health.

    \b
    Example:
        waba flow sync
    """
    from waba_cli.services.flows.catalogue import sync_flows

    result = sync_flows(command_context())
    o = out()
    if o.json_mode:
        o.json(result.as_dict())
        return
    o.success(
        f"{result.account}: {result.fetched} flows at Meta, {result.added} new, {result.updated} updated, "
        f"{result.unchanged} unchanged, {result.gone} gone"
    )


@command(app, "list", shared=READ_SHARED)
def list_(
    status: Annotated[str | None, typer.Option("--status", metavar="S", help="DRAFT, PUBLISHED, ...")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", metavar="N", help="At most N flows.")] = 50,
) -> None:
    """List the account's flows, newest first (as of the last `waba flow sync`, create or publish).

    \b
    Example:
        waba flow list --json
    """
    from waba_cli.domain.text import printable
    from waba_cli.services.flows.catalogue import list_flows

    flows = list_flows(command_context(), status=status, limit=limit)
    o = out()
    if o.json_mode:
        o.json([_summary(f) for f in flows])
        return
    o.table(
        ["ID", "NAME", "STATUS", "CATEGORIES", "ERRORS", "JSON", "ENDPOINT", "HEALTH"],
        [
            [
                f.flow_id,
                printable(f.name),
                f.status,
                f.categories,
                len(f.validation_errors),
                f.json_version,
                f.endpoint_uri,
                f.health,
            ]
            for f in flows
        ],
        status_column="STATUS",
        empty="no flows (create one with `waba flow create`, or fetch Meta's with `waba flow sync`)",
    )


@command(app, "show", shared=READ_SHARED)
def show(
    flow_ref: FlowArg,
    preview: Annotated[bool, typer.Option("--preview", help="Ask Meta for a fresh preview URL.")] = False,
) -> None:
    """Show a flow: status, categories, versions, endpoint, health, first screen, preview URL, errors.

    \b
    Example:
        waba flow show booking --preview
    """
    from waba_cli.domain.flow_json import meta_error_line
    from waba_cli.domain.text import printable
    from waba_cli.services.flows.catalogue import show_flow

    flow = show_flow(command_context(), flow_ref, preview=preview)
    o = out()
    if o.json_mode:
        o.json(_summary(flow))
        return
    o.details(
        f"flow {printable(flow.name)}",
        [
            ("id", flow.flow_id),
            ("status", flow.status),
            ("categories", flow.categories),
            ("JSON version", flow.json_version),
            ("data API version", flow.data_api_version),
            ("endpoint", flow.endpoint_uri),
            ("health", flow.health),
            ("first screen", flow.first_screen),
            ("preview", flow.preview_url or "(ask Meta for one: --preview)"),
            ("synced", flow.synced_at),
        ],
    )
    for error in flow.validation_errors:
        o.note(f"  {printable(meta_error_line(error))}")


@command(app, "metrics", shared=READ_SHARED)
def metrics(
    flow_ref: FlowArg,
    metric: Annotated[
        list[str] | None,
        typer.Option(
            "--metric",
            metavar="M",
            help="requests, errors, error_rate, latency, availability (repeatable; default all).",
        ),
    ] = None,
    granularity: Annotated[
        str, typer.Option("--granularity", metavar="DAY|HOUR|LIFETIME", help="One row per day, hour, or one in all.")
    ] = "DAY",
    since: Annotated[str | None, typer.Option("--since", metavar="7d", help="From a duration ago or a date.")] = None,
    until: Annotated[str | None, typer.Option("--until", metavar="DATE", help="Up to this date.")] = None,
    chart: Annotated[bool, typer.Option("--chart", help="Requests and errors per period as bars.")] = False,
) -> None:
    """An endpoint flow's health: requests, errors, error rate, latency and availability per period.

    Meta keeps these for flows with a data endpoint only: DAY goes back 90 days, HOUR 30.

    \b
    Example:
        waba flow metrics booking --granularity DAY --since 7d
        waba flow metrics booking --metric latency --metric availability --chart
    """
    from waba_cli.services.flows.metrics import flow_metrics

    result = flow_metrics(
        command_context(), flow_ref, metrics=metric or [], granularity=granularity, since=since, until=until
    )
    o = out()
    if o.json_mode:
        o.json(result.as_json())
        return
    if chart:
        _chart(result.rows)
        return
    o.table(
        ["PERIOD", "REQUESTS", "ERRORS", "ERROR RATE", "LATENCY P50", "LATENCY P90", "AVAILABILITY"],
        [
            [
                r.at,
                r.requests,
                r.errors,
                _percent(r.error_rate),
                f"≤{r.latency_p50} s" if r.latency_p50 is not None else None,
                f"≤{r.latency_p90} s" if r.latency_p90 is not None else None,
                _percent(r.availability),
            ]
            for r in result.rows
        ],
        title=f"{result.flow}: endpoint metrics by {result.granularity.lower()}",
        empty="Meta has no metrics for this period",
    )


def _percent(value: float | None) -> str | None:
    return f"{value * 100:.1f}%" if value is not None else None


def _chart(rows: Any) -> None:
    """Requests per period as bars, errors marked in the same bar (plain text: pipes and files too)."""
    o = out()
    if not rows:
        o.note("Meta has no metrics for this period")
        return
    most = max((r.requests or r.errors or 0) for r in rows) or 1
    width = 40
    for row in rows:
        total, errors = row.requests or 0, row.errors or 0
        bar = "█" * round(width * (total - min(errors, total)) / most) + "▒" * round(width * min(errors, total) / most)
        o.line(f"{row.at[:16]:16}  {bar:<{width}}  {total} requests, {errors} errors")


@command(app, "responses", shared=READ_SHARED)
def responses(
    flow_ref: FlowArg,
    since: Annotated[
        str | None, typer.Option("--since", metavar="7d", help="Newer than a duration (30m, 12h, 7d, 2w) or a date.")
    ] = None,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", metavar="FILE", help="Write the table as CSV (0600).")
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", metavar="table|csv|jsonl", help="How to print the table on stdout.")
    ] = "table",
    limit: Annotated[int | None, typer.Option("--limit", "-n", metavar="N", help="Only the newest N.")] = None,
) -> None:
    """The answers collected by a flow: one row per completion, one column per answered field.

    Nested answers get dotted names (address.city), lists are joined. A completion whose token
    waba never sent is kept, tied to the flow through the message it answers, token_known false.
    In CSV a cell starting with = + - @ is prefixed with ' so a spreadsheet does not run it.

    \b
    Example:
        waba flow responses booking --since 7d --csv answers.csv
    """
    from waba_cli.domain.text import printable
    from waba_cli.errors import ValidationError
    from waba_cli.services.flows.responses import flow_responses

    if output_format not in ("table", "csv", "jsonl"):
        raise ValidationError("--format", "must be table, csv or jsonl")
    if csv_file is not None and (csv_file.is_dir() or not csv_file.parent.is_dir()):
        raise ValidationError(
            "--csv", f"{csv_file} is a directory" if csv_file.is_dir() else f"no directory {csv_file.parent}"
        )
    table = flow_responses(command_context(), flow_ref, since=since, limit=limit)
    o = out()
    if csv_file is not None:
        from waba_cli.ui.tables import write_csv

        count = write_csv(csv_file, table.columns, table.rows())
        o.note(f"{count} responses of {printable(table.flow)} written to {csv_file}")
        if not o.json_mode:
            return
    if o.json_mode:
        o.json([r.as_json() for r in table.responses])
    elif output_format == "jsonl":
        for response in table.responses:
            o.ndjson(response.as_json())
    elif output_format == "csv":
        from waba_cli.ui.tables import csv_text

        o.stdout.write(csv_text(table.columns, table.rows()))
    else:
        o.table(
            [c.upper() for c in table.columns],
            [[printable(c) if isinstance(c, str) else c for c in row] for row in table.rows()],
            empty=f"no responses to {table.flow} yet",
        )
