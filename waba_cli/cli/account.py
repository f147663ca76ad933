"""`waba account ...`: set up, list, show, update, remove, choose and verify accounts."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from waba_cli.cli.common import STATE, command, command_context, confirm, group, out

if TYPE_CHECKING:
    from waba_cli.db.models.accounts import Account, PhoneNumber

app = group("account", "Set up and manage WhatsApp Business Accounts.")

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
    data["app_secret"] = "(set, encrypted)"  # noqa: S105 - a label, not a secret
    data["webhook_verify_token"] = "(set, encrypted)" if account.webhook_verify_token_enc else None
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
        typer.Option("--from-file", "-f", metavar="F", help="Setup file (JSON or TOML) with the setup keys."),
    ] = None,
    no_verify: Annotated[
        bool, typer.Option("--no-verify", help="Save without checking the credentials with Meta.")
    ] = False,
) -> None:
    """Add an account: the 6-step setup from a JSON or TOML file.

    The keys are those of the setup form: name, waba_id, meta_business_account_id, app_id,
    app_secret, phone_number_id, phone_number, display_phone_number, access_token,
    webhook_verify_token, business_name, business_description, business_email, business_vertical,
    business_address, enable_auto_reply, use_knowledge_base, greeting_message, fallback_message,
    enable_business_hours, business_hours_start, business_hours_end, business_timezone, webhook_url,
    subscribed_webhook_events, plus the optional daily_limit, monthly_limit, per_minute_limit,
    out_of_hours_message and knowledge_base_path. Required: name, waba_id, app_id, app_secret,
    phone_number_id, phone_number, access_token.

    Unless --no-verify, the token is checked with Meta (valid, this app's, scoped to the WABA) and
    the number must belong to the WABA before anything is saved. The account and its first number
    are saved in one transaction; secrets are stored only encrypted.

    \b
    Example:
        waba account setup --from-file acme.json
    """
    from waba_cli.errors import UsageError
    from waba_cli.services import account_setup

    if from_file is None:
        raise UsageError("--from-file is required", "write the setup keys to a JSON or TOML file (see --help)")
    ctx = command_context()
    data = account_setup.read_data_file(from_file)
    parsed = account_setup.parse_setup(
        data, region=ctx.settings.region, source=str(from_file), base_dir=from_file.parent
    )
    o = out()
    for note in parsed.notes:
        o.note(f"note: {note}")
    account, numbers, verification = account_setup.add_account(
        ctx, parsed.setup, verify=not no_verify, source=str(from_file)
    )
    if o.json_mode:
        o.json({**_summary(account, numbers), "verified": verification is not None})
        return
    o.success(
        f"account {account.name} (WABA {account.waba_id}) saved"
        + (", credentials verified with Meta" if verification else ", not verified (--no-verify)")
    )
    if ctx.settings.webhook_public_base_url:
        o.note(f"webhook callback URL for Meta's dashboard: {ctx.settings.webhook_public_base_url.rstrip('/')}/webhook")


@command(app, "list", shared=("json", "debug"))
def list_() -> None:
    """List accounts with their numbers; * marks the default.

    \b
    Example:
        waba account list --json
    """
    from waba_cli.services import accounts

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
    from waba_cli.services import accounts

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
        typer.Option("--from-file", "-f", metavar="F", help="JSON/TOML file of setup keys to change (secrets too)."),
    ] = None,
    secret: Annotated[
        list[str] | None,
        typer.Option(
            "--secret",
            metavar="NAME",
            help="Prompt (hidden) for a new access_token, app_secret or webhook_verify_token.",
        ),
    ] = None,
) -> None:
    """Change an account's settings or secrets.

    Plain settings with --set KEY=VALUE; secrets only from a file or a hidden prompt, never as
    command-line arguments (they would land in shell history and process lists).

    \b
    Examples:
        waba account update acme --set daily_limit=5000 --set business_timezone=Europe/Berlin
        waba account update acme --secret access_token
        waba account update acme --from-file new-token.json
    """
    from waba_cli.domain.setup_steps import SECRET_KEYS
    from waba_cli.errors import UsageError, ValidationError
    from waba_cli.services import account_setup

    ctx = command_context()
    ctx.name_account(ref)
    values: dict[str, Any] = account_setup.parse_assignments(assignments or [])
    source = None
    if from_file is not None:
        values.update(account_setup.read_data_file(from_file))
        source = str(from_file)
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
    account, changed = account_setup.update_account(ctx, values, source=source)
    o = out()
    if o.json_mode:
        o.json({"account": account.name, "changed": changed})
        return
    o.success(f"account {account.name}: changed {', '.join(changed)}")


@command(app, "remove", shared=("json", "yes", "no_input", "debug"))
def remove(ref: AccArg) -> None:
    """Remove an account and everything stored for it (numbers, templates, messages, logs).

    Nothing changes at Meta. Asks first; without a terminal, --yes is required.

    \b
    Example:
        waba account remove acme --yes
    """
    from waba_cli.services import accounts

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
    from waba_cli.services import accounts

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
    """Check an account's credentials live with Meta and refresh what Meta says about it.

    Checks that the token is valid, belongs to the app and covers the WABA, and that the default
    number belongs to the WABA; records the token's expiry and the WABA's status.

    \b
    Example:
        waba account verify acme
    """
    from waba_cli.services import account_setup

    ctx = command_context()
    ctx.name_account(ref)
    account, result = account_setup.verify_account(ctx)
    expires = result.token_expires_at.isoformat() if result.token_expires_at else "never"
    o = out()
    if o.json_mode:
        o.json(
            {
                "account": account.name,
                "valid": True,
                "token_type": result.token_type,
                "token_expires_at": result.token_expires_at,
                "scopes": result.scopes,
                "waba_status": result.waba.get("status"),
                "phone_number_id": result.phone.get("id"),
            }
        )
        return
    o.success(f"{account.name}: token valid (expires: {expires}), WABA {result.waba.get('status', '?')}")
