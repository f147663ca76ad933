"""`waba template ...`: write, check, submit, sync, inspect, preview and apply message templates."""

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from waba_cli.cli.common import (
    STATE,
    FileFormatOpt,
    command,
    command_context,
    confirm,
    group,
    note_stdin,
    out,
    show_dry_run,
)

if TYPE_CHECKING:
    from waba_cli.db.models.templates import MessageTemplate, TemplateEvent
    from waba_cli.domain.templates.forms import TemplateInput
    from waba_cli.domain.templates.render import Rendered
    from waba_cli.domain.templates.rules import Violation
    from waba_cli.services.context import CommandContext

app = group(
    "template",
    "Write, check, submit and sync message templates.",
    examples=(
        "waba template sync",
        "waba template create --from-file order_update.toml --submit",
        "waba template apply templates.toml --dry-run",
    ),
)

NameArg = Annotated[str, typer.Argument(metavar="NAME", help="Template name.")]
LanguageOpt = Annotated[
    str | None,
    typer.Option("--language", "-l", metavar="L", help="Language code (e.g. en_US); default: all/the only one."),
]
FromFileOpt = Annotated[
    Path | None, typer.Option("--from-file", "-f", metavar="F", help="Template file (JSON or TOML); - reads stdin.")
]


# -- helpers ----------------------------------------------------------------------------------------


def _naming_account(file_account: str | int | None) -> "CommandContext":
    """The context, told of a file's waba_account: --account, then the file's, then WABA_ACCOUNT/config/default."""
    ctx = command_context()
    ctx.name_account(str(file_account) if file_account is not None else None, over_flag=False)
    return ctx


def _show_problems(problems: Sequence[tuple[str, Sequence["Violation"]]]) -> None:
    o = out()
    for label, violations in problems:
        o.note(f"{label}:")
        for violation in violations:
            o.note(f"  {'error' if violation.is_error else 'warning'}: {violation.line()}")


def _checked(templates: Sequence["TemplateInput"]) -> None:
    """Refuse (exit 2) templates that break a rule, after listing every violation; show warnings."""
    from waba_cli.services.templates.files import TemplateRulesError, require_valid

    try:
        warnings = require_valid(templates)
    except TemplateRulesError as exc:
        _show_problems(exc.problems)
        raise
    _show_problems(warnings)


def _file_account(templates: Sequence["TemplateInput"]) -> str | int | None:
    from waba_cli.errors import UsageError

    named = {str(t.account) for t in templates if t.account is not None}
    if len(named) > 1:
        raise UsageError(f"the file names several accounts ({', '.join(sorted(named))})", "use one file per account")
    return next(iter(named), None)


def _summary(row: "MessageTemplate") -> dict[str, Any]:
    return {
        "name": row.name,
        "language": row.language,
        "category": row.category,
        "status": row.status,
        "id": row.template_id,
        "quality_score": row.quality_score,
        "parameter_format": row.parameter_format,
        "updated_at": row.updated_at,
    }


def _event(event: "TemplateEvent") -> dict[str, Any]:
    return {
        "at": event.at,
        "source": event.source,
        "event": event.event,
        "status": event.status,
        "category": event.category,
        "quality_score": event.quality_score,
        "reason": event.reason,
    }


def _rendered(rendered: "Rendered") -> dict[str, Any]:
    return {
        "header": rendered.header,
        "header_media": rendered.header_media,
        "body": rendered.body,
        "footer": rendered.footer,
        "buttons": rendered.buttons,
        "text": rendered.text,
        "problems": rendered.problems,
    }


def _component_lines(components: list[dict[str, Any]]) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    for component in components:
        kind = str(component.get("type", "?"))
        if kind == "BUTTONS":
            for button in component.get("buttons") or []:
                if isinstance(button, dict):
                    target = button.get("url") or button.get("phone_number") or button.get("example") or ""
                    label = button.get("text") or button.get("otp_type") or ""
                    lines.append((f"button {button.get('type', '?')}", f"{label} {target}".strip()))
        elif kind == "HEADER" and component.get("format") not in (None, "TEXT"):
            lines.append(("header", f"[{component.get('format')}]"))
        else:
            text = component.get("text")
            if text is None and kind == "BODY":
                text = "(written by Meta)"
            if text is None and component.get("code_expiration_minutes") is not None:
                text = f"code expires in {component['code_expiration_minutes']} minutes"
            lines.append((kind.lower(), str(text)))
    return lines


# -- commands ---------------------------------------------------------------------------------------


@command(app, "list", shared=("json", "account"))
def list_(
    status: Annotated[
        str | None,
        typer.Option(
            "--status", metavar="S", help="Only this status (APPROVED, PENDING, REJECTED, PAUSED, DRAFT ...)."
        ),
    ] = None,
    category: Annotated[
        str | None, typer.Option("--category", metavar="C", help="Only this category (MARKETING, ...).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", metavar="N", min=1, help="At most N templates.")] = 50,
) -> None:
    """List the account's templates (local drafts and Meta's), most recently changed first.

    The list is what waba knows; `waba template sync` fetches Meta's current state.

    \b
    Example:
        waba template list --status APPROVED --json
    """
    from waba_cli.services.templates.store import list_templates

    rows = list_templates(command_context(), status=status, category=category, limit=limit)
    o = out()
    if o.json_mode:
        o.json([_summary(r) for r in rows])
        return
    o.table(
        ["NAME", "LANGUAGE", "CATEGORY", "STATUS", "QUALITY", "ID", "UPDATED"],
        [[r.name, r.language, r.category, r.status, r.quality_score, r.template_id, r.updated_at] for r in rows],
        status_column="STATUS",
        empty="no templates: run `waba template sync`, or write one with `waba template create`",
    )


@command(app, "show", shared=("json", "account"))
def show(name: NameArg, language: LanguageOpt = None) -> None:
    """Show a template: components, status, quality, rejection reason and history.

    \b
    Example:
        waba template show order_update --language en_US
    """
    from waba_cli.services.templates.store import show_template

    shown = show_template(command_context(), name, language)
    row, events, rendered, detail = shown.row, shown.events, shown.preview, shown.rejection_detail
    o = out()
    if o.json_mode:
        o.json(
            {
                **_summary(row),
                "sub_category": row.sub_category,
                "rejected_reason": row.rejected_reason,
                "rejection_detail": detail,
                "previous_category": row.previous_category,
                "correct_category": row.correct_category,
                "message_send_ttl_seconds": row.message_send_ttl_seconds,
                "components": row.components,
                "history": [_event(e) for e in events],
                "preview": rendered.text,
                "synced_at": row.synced_at,
            }
        )
        return
    pairs: list[tuple[str, Any]] = [
        ("status", row.status),
        ("category", row.category + (f" (Meta will make it {row.correct_category})" if row.correct_category else "")),
        ("id", row.template_id or "(not submitted)"),
        ("quality", row.quality_score),
        ("parameters", row.parameter_format.lower()),
    ]
    if row.rejected_reason:
        pairs.append(("rejected", row.rejected_reason + (f": {detail}" if detail else "")))
    pairs += _component_lines(row.components)
    o.details(f"template {row.name} {row.language}", [(k, v) for k, v in pairs if v not in (None, "")])
    o.line("")
    o.line(rendered.text)
    o.line("")
    o.table(
        ["AT", "SOURCE", "EVENT", "STATUS", "CATEGORY", "QUALITY", "REASON"],
        [[e.at, e.source, e.event, e.status, e.category, e.quality_score, e.reason] for e in events],
        status_column="STATUS",
        title="history",
        empty="no history yet",
    )


def _from_flags(
    values: dict[str, Any], buttons: list[str], examples: list[str], url_examples: list[str]
) -> "TemplateInput":
    from waba_cli.domain.templates.forms import add_url_examples, examples_from_values, to_request
    from waba_cli.domain.templates.rules import ERR_PARAMETER, Violation

    data = {k: v for k, v in values.items() if v is not None}
    if buttons:
        data["buttons"] = buttons
    if examples:
        data["examples"] = examples_from_values(examples, data.get("body_text"))
    template = to_request(data)
    left = add_url_examples(template.request.get("components"), url_examples)
    if left:
        template.violations.append(
            Violation(
                "--url-example",
                f"{len(left)} value(s) for no URL button with a variable",
                "remove them",
                ERR_PARAMETER,
            )
        )
    return template


@command(app, "create", shared=("json", "account", "dry_run", "no_input"))
def create(
    from_file: FromFileOpt = None,
    file_format: FileFormatOpt = None,
    name: Annotated[str | None, typer.Option("--name", metavar="NAME", help="lowercase_with_underscores.")] = None,
    category: Annotated[
        str | None, typer.Option("--category", metavar="C", help="MARKETING, UTILITY or AUTHENTICATION.")
    ] = None,
    language: Annotated[str, typer.Option("--language", "-l", metavar="L", help="Language code.")] = "en_US",
    header_text: Annotated[
        str | None, typer.Option("--header-text", metavar="TEXT", help="Header (one variable at most).")
    ] = None,
    header_example: Annotated[
        str | None, typer.Option("--header-example", metavar="V", help="Example for the header variable.")
    ] = None,
    header_file: Annotated[
        Path | None, typer.Option("--header-file", metavar="PATH", help="Image/video/PDF example for a media header.")
    ] = None,
    body: Annotated[
        str | None, typer.Option("--body", metavar="TEXT", help="Body text with {{1}} or {{name}} variables.")
    ] = None,
    footer: Annotated[str | None, typer.Option("--footer", metavar="TEXT", help="Footer text.")] = None,
    button: Annotated[
        list[str] | None,
        typer.Option(
            "--button",
            metavar="TYPE:TEXT[:VALUE]",
            help=(
                "QUICK_REPLY:TEXT, URL:TEXT:URL, PHONE_NUMBER:TEXT:+NUMBER, COPY_CODE:CODE, FLOW:TEXT:FLOW, "
                "OTP:TEXT (repeatable)."
            ),
        ),
    ] = None,
    example: Annotated[
        list[str] | None,
        typer.Option("--example", metavar="V", help="Example for the next body variable, or name=value (repeatable)."),
    ] = None,
    url_example: Annotated[
        list[str] | None, typer.Option("--url-example", metavar="V", help="Example suffix for a URL button's {{1}}.")
    ] = None,
    submit: Annotated[bool, typer.Option("--submit", help="Submit it to Meta for review at once.")] = False,
) -> None:
    """Write a template as a local draft (checked against Meta's rules); --submit sends it for review.

    From flags, or --from-file F (JSON or TOML) with the keys name, category, language,
    header_text, body_text, footer_text, buttons, examples (body values in order, or a table of
    named values) — or components in Meta's own shape — and optionally waba_account. Any broken
    rule is listed with its fix and nothing is saved (exit 2).

    \b
    Example:
        waba template create --name order_update --category UTILITY \\
            --body "Hi {{1}}, your order {{2}} has shipped." --example Ana --example 8812 \\
            --button "URL:Track it:https://example.com/track/{{1}}" --url-example 8812
        waba template create --from-file order_update.toml --submit
    """
    from waba_cli.errors import DryRunRequest, UsageError
    from waba_cli.services.templates import files
    from waba_cli.services.templates.submit import create_template

    flags = {
        "name": name,
        "category": category,
        "header_text": header_text,
        "header_example": header_example,
        "header_file": str(header_file) if header_file else None,
        "body_text": body,
        "footer_text": footer,
    }
    if from_file is not None:
        used = [f"--{k.replace('_text', '').replace('_', '-')}" for k, v in flags.items() if v is not None]
        used += [f for f, v in (("--button", button), ("--example", example), ("--url-example", url_example)) if v]
        if used:
            raise UsageError(f"{', '.join(used)} cannot be combined with --from-file", "put them in the file")
        from waba_cli.services.data_files import source_name

        note_stdin(from_file)
        loaded = files.load_templates(from_file, file_format)
        if len(loaded) != 1:
            raise UsageError(
                f"{source_name(from_file)} holds {len(loaded)} templates",
                "create several with `waba template apply FILE`",
            )
        template = loaded[0]
    else:
        if name is None and body is None and category is None:
            raise UsageError("nothing to create", "give --name, --category and --body (see --help), or --from-file F")
        template = _from_flags({**flags, "language": language}, button or [], example or [], url_example or [])
        files.resolve_media_files(template.request, Path.cwd())
    _checked([template])
    ctx = _naming_account(template.account)
    o = out()
    try:
        row = create_template(ctx, template, submit=submit)
    except DryRunRequest as exc:
        show_dry_run(exc.request)
        return
    if row is None:  # a dry run: nothing was written or sent
        if not submit:
            _draft_dry_run(template)
        return
    if o.json_mode:
        o.json({**_summary(row), "submitted": submit})
        return
    if submit:
        o.success(f"template {row.name} {row.language} submitted: {row.status} (id {row.template_id})")
    else:
        o.success(
            f"template {row.name} {row.language} saved as a draft; submit it with `waba template submit {row.name}`"
        )


def _draft_dry_run(template: "TemplateInput") -> None:
    o = out()
    o.note(f"dry run: template {template.label} would be saved as a draft, nothing was written")
    if o.json_mode:
        o.json({"dry_run": True, "request": template.request})
    else:
        o.line(_pretty(template.request))


def _pretty(data: Any) -> str:
    import json

    return json.dumps(data, indent=2, ensure_ascii=False)


@command(app, "validate", shared=("json", "account"))
def validate(
    name: Annotated[str | None, typer.Argument(metavar="[NAME]", help="A stored template (all its languages).")] = None,
    from_file: FromFileOpt = None,
    file_format: FileFormatOpt = None,
    language: LanguageOpt = None,
) -> None:
    """Check templates against every rule Meta applies, before anything is sent.

    Each violation names the component, the fix and the Meta error it prevents. Any violation is
    exit 2; warnings (an unusual language code, a button type waba does not check) are not.

    \b
    Example:
        waba template validate --from-file templates.toml
        waba template validate order_update
    """
    from waba_cli.errors import UsageError
    from waba_cli.services.templates import files
    from waba_cli.services.templates.store import stored_requests

    if (name is None) == (from_file is None):
        raise UsageError("give a template NAME or --from-file F (one of them)")
    if from_file is not None:
        note_stdin(from_file)
        checked = files.load_templates(from_file, file_format)
    else:
        checked = stored_requests(command_context(), name or "", language)
    found = [(t, files.check(t)) for t in checked]
    o = out()
    if o.json_mode:
        o.json(
            {
                "valid": not any(v.is_error for _, vs in found for v in vs),
                "templates": [
                    {
                        "name": t.name,
                        "language": t.language,
                        "valid": not any(v.is_error for v in vs),
                        "violations": [v.as_dict() for v in vs],
                    }
                    for t, vs in found
                ],
            }
        )
        files.require_valid(checked)
        return
    _checked(checked)
    o.success(f"{len(checked)} template(s) follow Meta's rules: {', '.join(t.label for t in checked)}")


@command(app, "submit", shared=("json", "account", "dry_run"))
def submit(name: NameArg, language: LanguageOpt = None) -> None:
    """Submit a local draft to Meta for review (POST /{waba-id}/message_templates).

    Records Meta's id and status; approval arrives by webhook or `waba template sync`.

    \b
    Example:
        waba template submit order_update --language en_US
    """
    from waba_cli.errors import DryRunRequest
    from waba_cli.services.templates import files
    from waba_cli.services.templates.submit import submit_template

    try:
        row = submit_template(command_context(), name, language)
    except files.TemplateRulesError as exc:
        _show_problems(exc.problems)
        raise
    except DryRunRequest as exc:
        show_dry_run(exc.request)
        return
    o = out()
    if o.json_mode:
        o.json(_summary(row))
        return
    o.success(f"template {row.name} {row.language} submitted: {row.status} (id {row.template_id})")


@command(app, "sync", shared=("json", "account"))
def sync() -> None:
    """Fetch every template from Meta (all pages) and bring the local copies up to date.

    Status, category, quality score, rejection reason and components are updated; each change is
    added to the template's history. Local drafts Meta has under the same name and language become
    Meta's copy; templates Meta no longer lists are marked DELETED.

    \b
    Example:
        waba template sync --json
    """
    from waba_cli.services.templates.sync import sync_templates

    result = sync_templates(command_context())
    o = out()
    if o.json_mode:
        o.json(result.as_dict())
        return
    o.success(
        f"{result.fetched} template(s) at Meta for {result.account}: {result.added} new, {result.updated} changed "
        f"({result.status_changes} status change(s)), {result.unchanged} unchanged"
        + (f", {result.drafts_matched} draft(s) matched" if result.drafts_matched else "")
        + (f", {result.gone} gone from Meta" if result.gone else "")
    )


@command(app, "delete", shared=("json", "account", "yes", "no_input", "dry_run"))
def delete(name: NameArg, language: LanguageOpt = None) -> None:
    """Delete a template at Meta and locally: one language with --language, else every language.

    Asks first; without a terminal, --yes is required. Deleting an APPROVED template blocks its
    name for 30 days; DISABLED templates cannot be deleted.

    \b
    Example:
        waba template delete order_update --language en_US --yes
    """
    from waba_cli.errors import DryRunRequest
    from waba_cli.services.templates.delete import delete_templates
    from waba_cli.services.templates.store import named_templates

    ctx = command_context()
    # two service calls around the operator's answer: read what would go, ask, then delete
    rows = named_templates(ctx, name, language)
    o = out()
    languages = ", ".join(r.language for r in rows)
    if not ctx.dry_run:
        confirm(f"delete template {name} ({languages}) at Meta and locally?")
    try:
        deleted = delete_templates(ctx, name, language)
    except DryRunRequest as exc:
        show_dry_run(exc.request)
        return
    if ctx.dry_run:  # only local drafts: nothing would have been sent
        if o.json_mode:
            o.json({"dry_run": True, "request": None, "local": [_summary(r) for r in rows]})
        else:
            o.note(f"dry run: the local copies of {name} ({languages}) would be removed; nothing was changed")
        return
    if o.json_mode:
        o.json(
            {
                "deleted": [
                    {
                        "name": d.name,
                        "language": d.language,
                        "id": d.template_id,
                        "status": d.status,
                        "at_meta": d.at_meta,
                    }
                    for d in deleted
                ]
            }
        )
        return
    for item in deleted:
        where = "at Meta and locally" if item.at_meta else "locally (a draft Meta never saw)"
        o.success(f"template {item.name} {item.language} deleted {where}")
        if item.at_meta and item.status == "APPROVED":
            o.note(f"note: Meta blocks the name {item.name} for 30 days")


@command(app, "preview", shared=("json", "account"))
def preview(
    name: NameArg,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param", "-p", metavar="V", help="A value, in order; name=value for named templates (repeatable)."
        ),
    ] = None,
    language: LanguageOpt = None,
) -> None:
    """Show the message as the customer would see it, with --param values (default: the examples).

    Positional templates take --param V in order (header, body, then URL button suffixes); named
    templates take --param name=value.

    \b
    Example:
        waba template preview order_update --param Ana --param 8812 --param Friday --param 8812
    """
    from waba_cli.services.templates.store import preview_template

    row, rendered = preview_template(command_context(), name, param or [], language)
    o = out()
    if o.json_mode:
        o.json({"name": row.name, "language": row.language, "status": row.status, **_rendered(rendered)})
        return
    o.line(rendered.text)
    for problem in rendered.problems:
        o.warn(problem)


@command(app, "apply", shared=("json", "account", "dry_run"))
def apply(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="Templates file (JSON list or TOML [[template]]); - reads stdin.")
    ],
    file_format: FileFormatOpt = None,
    detailed_exitcode: Annotated[
        bool,
        typer.Option(
            "--detailed-exitcode",
            help="Exit 0 nothing to do, 1 error (a change refused or failed too), 2 changes planned or applied.",
        ),
    ] = False,
) -> None:
    """Make Meta's templates match a file: prints the plan (create / edit / unchanged / only on Meta), then applies it.

    Meta's edit rules are respected: only APPROVED, REJECTED and PAUSED templates are edited, the
    category of an approved template never changes, and an approved template is edited at most
    once a day and 10 times in 30 days; what would break them is refused and shown. Templates only
    Meta has are left alone. --dry-run prints the plan and sends nothing.

    Exit codes: 0 the file matches Meta (now), 1 a change was refused or failed (the others are
    still applied), 2 bad input. With --detailed-exitcode, as terraform plan's: 0 nothing to do,
    1 any error (bad input too), 2 changes planned (--dry-run) or applied. With --dry-run that is
    the drift check for CI.

    \b
    Example:
        waba template apply templates.toml --dry-run
        waba template apply templates.toml
        waba template apply templates.toml --dry-run --detailed-exitcode   # CI: 2 = drift
    """
    from waba_cli.errors import EXIT_FAILED, OperationError
    from waba_cli.services.templates import files
    from waba_cli.services.templates.apply import apply_templates

    if detailed_exitcode:
        STATE.failure_exit = EXIT_FAILED  # every failure is 1: 2 means changes
    note_stdin(file)
    loaded = files.load_templates(file, file_format)
    _checked(loaded)
    result = apply_templates(_naming_account(_file_account(loaded)), loaded)
    o = out()
    counts = result.counts()
    if o.json_mode:
        o.json(
            {
                "dry_run": result.dry_run,
                "account": result.account,
                "counts": counts,
                "plan": [i.as_dict() for i in result.items],
            }
        )
    else:
        o.table(
            ["ACTION", "NAME", "LANGUAGE", "STATUS", "CHANGES", "NOTE"],
            [
                [i.action.replace("_", " "), i.name, i.language, i.status, i.changes, i.outcome or i.reason]
                for i in result.items
            ],
            title=f"plan for {result.account}",
            empty="the file holds no templates",
        )
        o.note(", ".join(f"{n} {a.replace('_', ' ')}" for a, n in counts.items() if n))
        if result.dry_run:
            o.note("dry run: nothing was sent")
    refused = [i for i in result.items if i.action == "refused"]
    if result.failed or refused:
        said = [f"{i.name} {i.language}: {i.reason}" for i in refused]
        said += [f"{i.name} {i.language}: {i.outcome}" for i in result.failed]
        what = " and ".join(
            f"{len(group)} change(s) {word}"
            for group, word in ((refused, "refused"), (result.failed, "failed"))
            if group
        )
        raise OperationError(f"{what}: " + "; ".join(said))
    if detailed_exitcode and (counts["create"] or counts["edit"]):
        raise typer.Exit(2)
