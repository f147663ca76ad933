"""`waba health ...`: cron-ready checks with Nagios exit codes (`check`) and their history (`history`)."""

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from waba_cli.cli.common import STATE, command, command_context, group, out

if TYPE_CHECKING:
    from waba_cli.services.health.check import HealthReport

app = group(
    "health",
    "Cron-ready health checks with Nagios exit codes, history and alerts on change.",
    examples=(
        "waba health check --all",
        "waba health check --format nagios",
        "waba health history --since 7d",
    ),
)

UNKNOWN_EXIT = 3  # Nagios' UNKNOWN: `health check` never exits 2 for a failure of its own


class Format(StrEnum):
    text = "text"
    json = "json"
    nagios = "nagios"
    prometheus = "prometheus"


def _unknown_line(message: str, args: list[str]) -> str:
    """What a monitor reads when `health check` itself fails (bad arguments, no account, no key)."""
    import json

    joined = " ".join(args)
    if "--json" in args or "--format json" in joined or "--format=json" in joined:
        return json.dumps({"status": "UNKNOWN", "error": message, "accounts": []})
    return f"WABA UNKNOWN - {message}"


@command(app, "check", shared=("json", "account"), failure_exit=UNKNOWN_EXIT, failure_stdout=_unknown_line)
def check(
    all_accounts: Annotated[
        bool, typer.Option("--all", help="Check every account (default: the current one).")
    ] = False,
    output_format: Annotated[
        Format, typer.Option("--format", help="text (line and table), json, nagios (with perfdata), prometheus.")
    ] = Format.text,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the first line.")] = False,
    textfile: Annotated[
        Path | None,
        typer.Option("--textfile", metavar="PATH", help="--format prometheus: write PATH atomically (mode 0600)."),
    ] = None,
    notify_url: Annotated[
        str | None,
        typer.Option("--notify", metavar="URL", help="POST a JSON summary here when a status changed."),
    ] = None,
    max_age: Annotated[
        str | None,
        typer.Option("--max-age", metavar="AGE", help="Reuse Meta's answers younger than AGE (10m; 0: always ask)."),
    ] = None,
    canary: Annotated[
        str | None,
        typer.Option("--canary", metavar="PHONE", help="Send the canary template to PHONE and wait for delivered."),
    ] = None,
    canary_template: Annotated[
        str | None,
        typer.Option("--canary-template", metavar="NAME", help="The template --canary sends (health.canary_template)."),
    ] = None,
) -> None:
    """Check every account's health and print one line a monitor reads, then the checks.

    Checks: the token (validity, expiry, permissions), Meta's health_status of the WABA, each number
    (status, quality, messaging limit, name, throughput, health_status), webhooks (the app is
    subscribed; silence and failed deliveries), delivery (failed share of outbound messages),
    templates (rejected, paused or disabled since the last run; quality; health_status), the
    account's limits, and Flow alerts. Exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (a check that
    cannot run; bad arguments too). Meta's answers younger than --max-age are reused and marked
    cached. Each run is stored and says what changed; --notify posts only then.

    \b
    Examples:
        waba health check
        waba health check --all --format nagios
        waba health check --all --quiet --notify https://hooks.slack.com/services/T0/B0/XXXX
        waba health check --all --format prometheus --textfile /var/lib/node_exporter/waba.prom
        waba health check --canary +15551230001 --canary-template hello_world
    """
    from waba_cli.errors import UsageError
    from waba_cli.services.health.check import CheckRequest, check_health

    if STATE.json:
        output_format = Format.json
    if textfile is not None and output_format is not Format.prometheus:
        raise UsageError("--textfile goes with --format prometheus")
    if textfile is not None and not textfile.expanduser().parent.is_dir():
        raise UsageError(
            f"--textfile {textfile}: its directory does not exist "
            "(node_exporter's --collector.textfile.directory; create it first)"
        )
    request = CheckRequest(
        all_accounts=all_accounts,
        max_age=max_age,
        notify_url=notify_url,
        canary_to=canary,
        canary_template=canary_template,
    )
    report = check_health(command_context(), request)
    _render(report, output_format, quiet=quiet, textfile=textfile)
    raise typer.Exit(report.exit_code)


def _render(report: "HealthReport", output_format: Format, *, quiet: bool, textfile: Path | None) -> None:
    from waba_cli.domain.text import printable
    from waba_cli.ui import health as formats

    o = out()
    if output_format is Format.json:
        document = report.as_dict()
        document["notified"] = _notified(report)
        o.json(document)
    elif output_format is Format.prometheus:
        exposition = formats.prometheus(report)
        if textfile is not None:
            formats.write_textfile(textfile, exposition)
        else:
            o.stdout.write(exposition)
    elif output_format is Format.nagios:
        text = formats.nagios(report)
        o.line(text.splitlines()[0] if quiet else text)
    else:
        o.line(printable(report.line))
        if not quiet:
            rows = [
                [account.account, c.name, c.status, printable(c.detail) + formats.cached_note(c)]
                for account in report.accounts
                for c in account.checks
            ]
            o.table(["ACCOUNT", "CHECK", "STATUS", "DETAIL"], rows, status_column="STATUS")
            for change in report.changes:
                o.line(f"changed: {change.account} {change.check} {change.before or 'new'} -> {change.after}")
    _tell_notification(report)


def _notified(report: "HealthReport") -> dict[str, object] | None:
    if report.notified is None:
        return None
    return {
        "ok": report.notified.ok,
        "attempts": report.notified.attempts,
        "status_code": report.notified.status_code,
        "error": report.notified.error,
    }


def _tell_notification(report: "HealthReport") -> None:
    """The notification's outcome on stderr: a failure is reported, never fatal."""
    from urllib.parse import urlsplit

    delivery = report.notified
    if delivery is None or report.notify_url is None:
        return
    parts = urlsplit(report.notify_url)
    where = f"{parts.scheme}://{parts.netloc}/…"  # the path of a Slack webhook URL is its secret
    o = out()
    if delivery.ok:
        o.note(f"notified {where} of {len(report.changes)} change(s)")
    else:
        o.warn(f"the notification to {where} failed after {delivery.attempts} attempt(s): {delivery.error}")


@command(app, "history", shared=("json", "account"))
def history(
    since: Annotated[str, typer.Option("--since", metavar="AGE", help="How far back: 7d, 12h, 30m.")] = "7d",
    check_name: Annotated[
        str | None, typer.Option("--check", metavar="NAME", help="One check (number: every number's).")
    ] = None,
) -> None:
    """Show the status changes of the health checks over time, with how long each state lasted.

    Repeats are left out: a check that stayed OK for a week is one line. Without --account, every
    account's checks.

    \b
    Examples:
        waba health history
        waba health history --since 30d --check token --json
    """
    from waba_cli.domain.health import duration_text
    from waba_cli.domain.text import printable
    from waba_cli.services.health.history import health_history

    found = health_history(command_context(), since, check_name)
    o = out()
    if o.json_mode:
        o.json(
            {
                "since": found.since,
                "transitions": [
                    {
                        "at": t.at,
                        "account": t.account,
                        "check": t.check,
                        "from": t.before,
                        "to": t.after,
                        "detail": t.detail,
                        "lasted_seconds": int(t.lasted.total_seconds()),
                        "current": t.current,
                    }
                    for t in found.transitions
                ],
            }
        )
        return
    rows = [
        [
            t.at,
            t.account,
            t.check,
            t.before or "new",
            t.after,
            duration_text(t.lasted) + (" (now)" if t.current else ""),
            printable(t.detail or ""),
        ]
        for t in found.transitions
    ]
    o.table(
        ["AT", "ACCOUNT", "CHECK", "FROM", "TO", "LASTED", "DETAIL"],
        rows,
        status_column="TO",
        empty=f"no status change since {found.since:%Y-%m-%d %H:%M} UTC",
    )
