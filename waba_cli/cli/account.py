"""`waba account ...`: set up, list, show, update, remove, choose and verify accounts."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from waba_cli.cli.common import STATE, FileFormatOpt, command, command_context, confirm, group, note_stdin, out

if TYPE_CHECKING:
    from waba_cli.db.models.accounts import Account, PhoneNumber

app = group(
    "account",
    "Set up and manage WhatsApp Business Accounts.",
    examples=(
        "waba account setup --from-file acme.json",
        "waba account list",
        "waba account use acme",
    ),
)

AccArg = Annotated[str, typer.Argument(metavar="ACC", help="Account name or WABA id.")]
OptAccArg = Annotated[str | None, typer.Argument(metavar="[ACC]", help="Account name or WABA id.")]


def _summary(account: "Account", numbers: list["PhoneNumber"]) -> dict[str, Any]:
    return {
        "id": account.id,
        "name": account.name,
        "waba_id": account.waba_id,
        "phone_numbers": [n.phone_number for n in numbers],
        "default": account.is_default,
        "status": account.status,
        "access_token": account.access_token_mask,
    }


def _detail(account: "Account", numbers: list["PhoneNumber"]) -> dict[str, Any]:
    dumped = account.model_dump(
        exclude={"app_secret_enc", "access_token_enc", "webhook_verify_token_enc", "access_token_mask"}
    )
    # in the order the model declares them (the setup's steps), not the order the row was loaded in
    data = {name: dumped[name] for name in type(account).model_fields if name in dumped}
    data["access_token"] = account.access_token_mask
    # "" is what `waba secrets reset` leaves of a secret it dropped
    data["app_secret"] = "(set, encrypted)" if account.app_secret_enc else "(dropped)"
    token = account.webhook_verify_token_enc
    data["webhook_verify_token"] = "(set, encrypted)" if token else None if token is None else "(dropped)"
    data["default"] = data.pop("is_default")
    data["phone_numbers"] = [
        {
            "id": n.phone_number_id,
            "phone_number": n.phone_number,
            "display_phone_number": n.display_phone_number,
            "verified_name": n.verified_name,
            "quality_rating": n.quality_rating,
            "status": n.status,
            "default": n.is_default,
        }
        for n in numbers
    ]
    return data


@command(app, "setup", shared=("json", "no_input", "debug"))
def setup(
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from-file", "-f", metavar="F", help="Setup file (JSON or TOML) with the setup keys; - reads stdin."
        ),
    ] = None,
    file_format: FileFormatOpt = None,
    no_verify: Annotated[
        bool,
        typer.Option(
            "--no-verify", help="Skip the live checks, and change nothing at Meta (no subscribe, register or profile)."
        ),
    ] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted wizard where it stopped, without retyping.")
    ] = False,
) -> None:
    """Add an account: the 6-step setup wizard on a terminal, or the same keys from a file.

    On a terminal the wizard walks the six steps (Meta Business Account, Phone Number, Access
    Tokens, Business Profile, Bot Configuration, Webhook Configuration), checks every value as it
    is typed, lists the WABAs and numbers your access token reaches to choose from, and after step
    3 checks the token live (valid, expiry, both WhatsApp permissions for the WABA, the number's
    state). It shows a summary before saving; then it subscribes the app to the WABA, can register
    the number and push the business profile, prints the callback URL and verify token for the App
    Dashboard, and offers a live round trip. Ctrl-C keeps the answers (secrets encrypted) for
    --resume. With --from-file on a terminal it asks only for the required keys the file lacks.

    The keys are those of the setup form: name, waba_id, meta_business_account_id, app_id,
    app_secret, phone_number_id, phone_number, display_phone_number, access_token,
    webhook_verify_token, business_name, business_description, business_email, business_vertical,
    business_address, enable_auto_reply, use_knowledge_base, greeting_message, fallback_message,
    enable_business_hours, business_hours_start, business_hours_end, business_timezone, webhook_url,
    subscribed_webhook_events, plus the optional daily_limit, monthly_limit, per_minute_limit,
    out_of_hours_message and knowledge_base_path. Required: name, waba_id, app_id, app_secret,
    phone_number_id, phone_number, access_token.

    Without a terminal (or with --no-input) nothing is asked: a missing key is exit 2 naming every
    missing one, and nothing is written. Unless --no-verify, the live checks must pass before
    anything is saved, and the app is subscribed to the WABA when it is not. The account and its
    first number are saved in one transaction; secrets are stored only encrypted.

    \b
    Examples:
        waba account setup
        waba account setup --resume
        waba account setup --from-file acme.json
    """
    from waba_cli.errors import UsageError
    from waba_cli.services.accounts import progress as setup_progress
    from waba_cli.services.accounts import setup as account_setup

    ctx = command_context()
    from waba_cli.services.data_files import base_dir, source_name

    note_stdin(from_file)
    data = account_setup.read_data_file(from_file, file_format) if from_file is not None else {}
    source = source_name(from_file) if from_file is not None else None
    files_dir = base_dir(from_file) if from_file is not None else None
    progress = None
    if resume:
        progress = setup_progress.load(ctx.settings, ctx.cipher())
        if progress is None:
            raise UsageError(
                "nothing to resume: no interrupted `waba account setup` was found",
                "start one with `waba account setup`",
            )
    if not STATE.interactive:
        values = {**(progress.answers if progress else {}), **data}
        account_setup.require_complete(values, source=source if not progress else None)
        _setup_from_values(values, source, verify=not no_verify, base_dir=files_dir)
        if progress is not None:
            setup_progress.clear(ctx.settings)
        return
    if progress is None and not resume and data and not account_setup.missing_required(data):
        _setup_from_values(data, source, verify=not no_verify, base_dir=files_dir)
        return
    _run_wizard(data, source, progress=progress, verify=not no_verify)


def _setup_from_values(values: dict[str, Any], source: str | None, *, verify: bool, base_dir: Path | None) -> None:
    """The setup without prompts: check, save in one transaction, subscribe the app if needed."""
    from waba_cli.errors import WabaError
    from waba_cli.services.accounts import setup as account_setup

    ctx = command_context()
    parsed = account_setup.parse_setup(values, region=ctx.settings.region, source=source, base_dir=base_dir)
    o = out()
    for note in parsed.notes:
        o.note(f"note: {note}")
    account, numbers, report = account_setup.add_account(ctx, parsed.setup, verify=verify, source=source)
    subscribed = bool(report and report.subscribed)
    problem = None
    said = ", the app receives the WABA's webhooks" if subscribed else ""
    if report is not None and report.subscribed is False:
        try:
            account_setup.subscribe_app(ctx, account)
            subscribed, said = True, ", app subscribed to the WABA's webhooks"
        except WabaError as exc:
            problem = f"the app could not be subscribed to WABA {account.waba_id}: {exc}"
    if o.json_mode:
        o.json({**_summary(account, numbers), "verified": report is not None, "subscribed": subscribed})
    else:
        o.success(
            f"account {account.name} (WABA {account.waba_id}) saved"
            + (", credentials verified with Meta" if report else ", not verified (--no-verify)")
            + said
        )
    if problem:
        o.warn(problem + "; run `waba account subscribe " + account.name + "`")
    if ctx.settings.webhook_public_base_url:
        o.note(f"webhook callback URL for Meta's dashboard: {ctx.settings.webhook_public_base_url.rstrip('/')}/webhook")


def _run_wizard(data: dict[str, Any], source: str | None, *, progress: Any, verify: bool) -> None:
    from waba_cli.cli.account_wizard import SetupWizard
    from waba_cli.domain.setup_steps import BY_NAME
    from waba_cli.errors import ValidationError
    from waba_cli.services.accounts import progress as setup_progress
    from waba_cli.services.accounts import setup as account_setup
    from waba_cli.ui.prompts import Prompter

    ctx = command_context()
    ask = Prompter()
    answers: dict[str, Any] = {}
    if data:
        given = tuple(k for k in data if k in BY_NAME)
        unknown = [k for k in data if k not in BY_NAME]
        if unknown:
            raise ValidationError(
                unknown[0], "unknown key", "see `waba account setup --help` for the keys", source=source
            )
        parsed = account_setup.parse_setup(data, region=ctx.settings.region, source=source, names=given, together=False)
        answers = {k: parsed.setup[k] for k in given}
    if progress is None and not data and setup_progress.exists(ctx.settings):
        kept = setup_progress.load(ctx.settings, ctx.cipher())
        if kept is not None and ask.confirm(
            f"An interrupted setup{_named(kept.answers)} stopped at step {min(kept.step, 6)}/6. Continue it?"
        ):
            progress = kept
    if progress is not None:
        answers = {**_still_valid(progress.answers, ctx.settings.region), **answers}
        for key in progress.lost_secrets:
            ask.warn(f"{key}: saved with another encryption key; it is asked again")
        ask.ok(f"resuming{_named(answers)} at step {min(progress.step, 6)}/6")
    wizard = SetupWizard(
        ctx,
        ask,
        verify=verify,
        answers=answers,
        step=min(progress.step, 6) if progress else 1,
        choices=progress.choices if progress else None,
        only_missing=bool(data) and progress is None,
    )
    result = wizard.run()
    o = out()
    if o.json_mode:
        o.json({**_summary(result.account, result.numbers), "verified": result.report is not None, "done": result.done})
        return
    o.success(f"account {result.account.name} (WABA {result.account.waba_id}) is set up")


def _named(answers: dict[str, Any]) -> str:
    return f" of {answers['name']!r}" if answers.get("name") else ""


def _still_valid(answers: dict[str, Any], region: str | None) -> dict[str, Any]:
    """Saved answers that still pass their checks (the others are asked again)."""
    from waba_cli.errors import ValidationError
    from waba_cli.services.accounts.setup import check_value

    kept = {}
    for key, value in answers.items():
        try:
            kept[key] = check_value(key, value, region=region)[0]
        except ValidationError:
            continue
    return kept


@command(app, "list", shared=("json", "debug"))
def list_() -> None:
    """List accounts with their numbers; * marks the default.

    \b
    Example:
        waba account list --json
    """
    from waba_cli.services.accounts import store as accounts

    rows = accounts.list_accounts(command_context())
    o = out()
    if o.json_mode:
        o.json([_summary(a, n) for a, n in rows])
        return
    o.table(
        ["", "NAME", "WABA ID", "NUMBERS", "STATUS", "TOKEN"],
        [
            [
                "*" if a.is_default else "",
                a.name,
                a.waba_id,
                [x.phone_number for x in n],
                a.status or "",
                a.access_token_mask,
            ]
            for a, n in rows
        ],
        empty="no accounts yet: run `waba account setup --from-file F`",
    )


@command(app, "show", shared=("json", "account", "debug"))
def show(ref: OptAccArg = None) -> None:
    """Show an account's settings (secrets masked) and numbers.

    \b
    Example:
        waba account show acme
    """
    from waba_cli.services.accounts import store as accounts

    ctx = command_context()
    ctx.name_account(ref)
    account, numbers = accounts.show_account(ctx)
    data = _detail(account, numbers)
    o = out()
    if o.json_mode:
        o.json(data)
        return
    numbers_text = [f"{n['phone_number']} ({n['id']}){' *' if n['default'] else ''}" for n in data["phone_numbers"]]
    pairs = [(k, v) for k, v in data.items() if k not in ("phone_numbers", "id") and v not in (None, [], "")]
    o.details(f"account {account.name}", [*pairs, ("phone_numbers", numbers_text)])


@command(app, "update", shared=("json", "no_input", "debug"))
def update(
    ref: AccArg,
    assignments: Annotated[
        list[str] | None, typer.Option("--set", metavar="KEY=VALUE", help="Change a plain setting (repeatable).")
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from-file",
            "-f",
            metavar="F",
            help="JSON/TOML file of setup keys to change (secrets too); - reads stdin.",
        ),
    ] = None,
    file_format: FileFormatOpt = None,
    secret: Annotated[
        list[str] | None,
        typer.Option(
            "--secret",
            metavar="NAME",
            help="Prompt (hidden) for a new access_token, app_secret or webhook_verify_token.",
        ),
    ] = None,
    no_verify: Annotated[
        bool, typer.Option("--no-verify", help="Save changed credentials without asking Meta about them first.")
    ] = False,
) -> None:
    """Change an account's settings or secrets.

    Plain settings with --set KEY=VALUE; secrets only from a file or a hidden prompt, never as
    command-line arguments (they would land in shell history and process lists). Only what differs
    from the stored account is changed, and listed (secrets masked); nothing differs: "nothing
    changed". The account's own setup file may be applied again: its fixed keys (waba_id, the
    first number) must match the account. A new access_token, app_secret or app_id is verified with
    Meta before it is saved (unless --no-verify): a token Meta refuses saves nothing.

    \b
    Examples:
        waba account update acme --set daily_limit=5000 --set business_timezone=Europe/Berlin
        waba account update acme --secret access_token
        waba account update acme --from-file new-token.json
        waba account update acme --from-file setup.json      # the setup file again, edited
    """
    from waba_cli.domain.setup_steps import SECRET_KEYS
    from waba_cli.errors import UsageError, ValidationError
    from waba_cli.services.accounts import setup as account_setup

    ctx = command_context()
    ctx.name_account(ref)
    values: dict[str, Any] = account_setup.parse_assignments(assignments or [])
    source = None
    if from_file is not None:
        from waba_cli.services.data_files import source_name

        note_stdin(from_file)
        values.update(account_setup.read_data_file(from_file, file_format))
        source = source_name(from_file)
    for name in secret or []:
        if name not in SECRET_KEYS:
            raise ValidationError(name, f"is not a secret (secrets: {', '.join(SECRET_KEYS)})")
        if not STATE.interactive:
            raise UsageError(
                f"--secret {name} needs a terminal for the hidden prompt",
                "use --from-file F with the secret in it instead",
            )
        values[name] = typer.prompt(f"new {name}", hide_input=True, err=True)
    if not values:
        raise UsageError("nothing to change", "pass --set KEY=VALUE, --from-file F or --secret NAME")
    result = account_setup.update_account(ctx, values, source=source, verify=not no_verify)
    name = result.account.name
    o = out()
    if o.json_mode:
        o.json(
            {
                "account": name,
                "changed": result.changed,
                "changes": {k: {"from": old, "to": new} for k, (old, new) in result.changes.items()},
                "verified": result.report is not None,
            }
        )
        return
    if not result.changes:
        o.note(f"account {name}: nothing changed")
        return
    o.table(["setting", "was", "now"], [(key, old, new) for key, (old, new) in result.changes.items()])
    verified = ", credentials verified with Meta" if result.report is not None else ""
    o.success(f"account {name}: changed {', '.join(result.changed)}{verified}")


@command(app, "remove", shared=("json", "yes", "no_input", "debug"))
def remove(ref: AccArg) -> None:
    """Remove an account and everything stored for it (numbers, templates, messages, logs).

    Nothing changes at Meta. Asks first; without a terminal, --yes is required.

    \b
    Example:
        waba account remove acme --yes
    """
    from waba_cli.services.accounts import store as accounts

    ctx = command_context()
    ctx.name_account(ref)
    confirm(f"Remove account {ctx.account.name} (WABA {ctx.account.waba_id}) and all its local data?")
    account = accounts.remove_account(ctx)
    o = out()
    if o.json_mode:
        o.json({"removed": account.name, "waba_id": account.waba_id})
        return
    o.success(f"account {account.name} removed")


@command(app, "use", shared=("json", "debug"))
def use(ref: AccArg) -> None:
    """Make an account the default for commands without --account.

    \b
    Example:
        waba account use acme
    """
    from waba_cli.services.accounts import store as accounts

    ctx = command_context()
    ctx.name_account(ref)
    account = accounts.use_account(ctx)
    o = out()
    if o.json_mode:
        o.json({"default": account.name})
        return
    o.success(f"{account.name} is now the default account")


@command(app, "verify", shared=("json", "account", "debug"))
def verify(ref: OptAccArg = None) -> None:
    """Check an account live with Meta, as a table: exit 1 if any check fails.

    The checks: the token (valid, this app's), its expiry (a token that expires, like the App
    Dashboard's 24-hour one, is a warning with how to make a System User token), its scopes (both
    WhatsApp permissions, for this WABA; Embedded Signup's newer event scope is accepted), the WABA,
    each number (in the WABA, and what the number doctor says), and the app's subscription to the
    WABA (without it no webhook arrives). What Meta says is recorded: token expiry, statuses.

    \b
    Example:
        waba account verify acme
        waba account verify --json
    """
    from waba_cli.errors import OperationError
    from waba_cli.services.accounts import checks as account_checks

    ctx = command_context()
    ctx.name_account(ref)
    account, numbers, report = account_checks.check_account(ctx)
    default = next((n for n in numbers if n.is_default), numbers[0] if numbers else None)
    o = out()
    if o.json_mode:
        o.json(
            {
                "account": account.name,
                "ok": report.ok,
                "valid": report.token_valid,
                "token_type": report.token.get("type"),
                "token_expires_at": report.token_expires_at,
                "scopes": report.scopes,
                "waba_status": report.waba.get("status"),
                "phone_number_id": default.phone_number_id if default else None,
                "subscribed": report.subscribed,
                "checks": [c.as_dict() for c in report.checks],
            }
        )
    else:
        o.table(
            ["CHECK", "STATUS", "DETAIL"],
            [[c.name, c.status.upper(), c.detail] for c in report.checks],
            title=f"account {account.name} (WABA {account.waba_id})",
            status_column="STATUS",
        )
        for check in report.checks:
            if check.hint and check.status in (account_checks.FAILED, account_checks.WARNING):
                o.note(f"{check.name}: {check.hint}")
    failures = report.failures
    if failures:
        first = failures[0]
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        raise OperationError(f"account {account.name}: check {first.name} failed{more}: {first.detail}", first.hint)


@command(app, "subscribe", shared=("json", "account", "dry_run", "debug"))
def subscribe(ref: OptAccArg = None) -> None:
    """Subscribe the account's app to its WABA's webhooks (POST /{waba-id}/subscribed_apps).

    Without this subscription no webhook reaches the app, although the App Dashboard shows the
    callback URL as verified. `account setup` does it; this is for accounts set up otherwise, or
    whose subscription was removed. Meta wants it before any callback override.

    \b
    Example:
        waba account subscribe acme
    """
    from waba_cli.errors import DryRunRequest
    from waba_cli.services.accounts import setup as account_setup

    ctx = command_context()
    ctx.name_account(ref)
    account = ctx.account
    try:
        account_setup.subscribe_app(ctx, account)
    except DryRunRequest as exc:
        from waba_cli.cli.common import show_dry_run

        show_dry_run(exc.request)
        return
    o = out()
    if o.json_mode:
        o.json({"account": account.name, "waba_id": account.waba_id, "subscribed": True})
        return
    o.success(f"the app of {account.name} is subscribed to WABA {account.waba_id}'s webhooks")
