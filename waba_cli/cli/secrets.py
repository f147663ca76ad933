"""`waba secrets ...`: where the encryption key lives, and rotating it."""

from waba_cli.cli.common import command, command_context, confirm, group, out

app = group(
    "secrets",
    "The encryption key that protects stored tokens and secrets.",
    examples=(
        "waba secrets status",
        "waba secrets rotate-key --yes",
    ),
)


@command(app, "status", shared=("json", "debug"))
def status() -> None:
    """Show where the encryption key comes from and whether it reads every stored secret.

    Exit 0 when every stored secret can be decrypted (or none is stored), 1 when any cannot: no
    key, a key file that is gone, a different key, or secrets dropped by `waba secrets reset` and
    not given again. The ways out are printed: set WABA_ENCRYPTION_KEY, restore the key file, or
    `waba secrets reset`.

    \b
    Example:
        waba secrets status
        waba secrets status --json || echo "a stored secret cannot be read"
    """
    import typer

    from waba_cli.secrets import LOST_KEY_HINT
    from waba_cli.services.encryption import status as key_status

    report = key_status(command_context())
    o = out()
    data = {
        "source": report.source,
        "location": report.location,
        "keys": report.keys,
        "secrets": report.secrets,
        "accounts": report.accounts,
        "readable": report.readable,
        "unreadable": report.unreadable,
        "dropped": report.dropped,
        "problem": report.problem,
    }
    failed = bool(report.unreadable or report.dropped)
    if o.json_mode:
        o.json(data)
    else:
        stored = report.secrets + len(report.dropped)
        if report.source is None:
            o.warn(report.problem or "no encryption key found")
        o.details(
            "encryption key",
            [
                ("source", report.location or "none"),
                ("keys", report.keys),
                ("secrets", f"{report.secrets} in {report.accounts} account(s)"),
                ("readable", report.readable if stored else "nothing stored yet"),
                *([("unreadable", ", ".join(report.unreadable))] if report.unreadable else []),
                *([("dropped", ", ".join(report.dropped))] if report.dropped else []),
            ],
        )
        if report.unreadable:
            o.warn(f"{len(report.unreadable)} secret(s) cannot be decrypted: {LOST_KEY_HINT}")
        elif report.dropped:
            o.warn("dropped secrets have to be given again: waba account update ACC --secret NAME (or --from-file F)")
        elif report.source is None:
            o.note("next: waba init (creates a key)")
    if failed:
        raise typer.Exit(1)


@command(app, "reset", shared=("json", "yes", "no_input", "debug"))
def reset() -> None:
    """Drop the stored secrets the key cannot read, so that they can be given again.

    For a lost key: the key file is gone, the keyring entry was wiped, WABA_ENCRYPTION_KEY was
    replaced. Secrets the current key reads are kept; the others (access tokens, app secrets,
    verify tokens, PINs) are removed, and a new key is created if there is none. Give each one
    again with `waba account update ACC --secret NAME` (a hidden prompt) or `--from-file F`.
    Asks first on a terminal; elsewhere needs --yes.

    \b
    Example:
        waba secrets reset --yes
        waba account update acme --secret access_token --secret app_secret
    """
    from waba_cli.services.encryption import plan_reset
    from waba_cli.services.encryption import reset as do_reset

    ctx = command_context()
    plan = plan_reset(ctx)
    o = out()
    if not plan.unreadable and plan.location is not None:
        if o.json_mode:
            o.json({"dropped": {}, "key_source": None, "key_location": plan.location, "key_created": False})
        else:
            o.success(f"nothing to reset: {plan.location} reads every stored secret")
        return
    where = f"with the key in {plan.location}" if plan.location else "and create a new key"
    names = ", ".join(s.label for s in plan.unreadable) or "none"
    confirm(f"Drop {len(plan.unreadable)} secret(s) that cannot be decrypted ({names}) {where}?")
    report = do_reset(ctx)
    for warning in report.warnings:
        o.warn(warning)
    if o.json_mode:
        o.json(
            {
                "dropped": report.dropped,
                "key_source": report.source,
                "key_location": report.location,
                "key_created": report.key_created,
            }
        )
        return
    count = sum(len(names) for names in report.dropped.values())
    created = " (created)" if report.key_created else ""
    o.success(f"{count} secret(s) dropped; the key is in {report.location}{created}")
    for account, dropped in report.dropped.items():
        secrets = [name for name in dropped if not name.startswith("PIN ")]
        if secrets:
            flags = " ".join(f"--secret {name}" for name in secrets)
            o.note(f"give them again: waba account update {_quoted(account)} {flags} (or --from-file F)")
        for name in dropped:
            if name.startswith("PIN "):
                o.note(f"the {name} is no longer kept: give it with `waba number register NUM --pin P`")


def _quoted(name: str) -> str:
    import shlex

    return shlex.quote(name)


@command(app, "rotate-key", shared=("json", "yes", "no_input", "debug"))
def rotate_key() -> None:
    """Create a new key and re-encrypt every stored secret with it, in one transaction.

    The new key replaces the old one where the old one was kept (keyring or key file). A key from
    WABA_ENCRYPTION_KEY cannot be written back: the new keys are left in a 0600 file in the data
    directory, to be moved into the variable (both keys, comma-separated, work meanwhile).
    A running serve-webhook reads the new key by itself (from that file, for a key from the
    environment): no restart needed.

    \b
    Example:
        waba secrets rotate-key --yes
    """
    from waba_cli.services.encryption import rotate_key as rotate

    ctx = command_context()
    confirm(f"Re-encrypt every secret with a new key stored in {ctx.key().location}?")
    report = rotate(ctx)
    o = out()
    where = str(report.pending_file) if report.pending_file else report.location
    if o.json_mode:
        o.json({"secrets": report.secrets, "key_source": report.source, "new_key_location": where})
        return
    o.success(f"{report.secrets} secret(s) re-encrypted; the new key is in {where}")
    if report.pending_file:
        o.warn(
            f"set {report.location} to the content of {report.pending_file} (new key first, old key "
            "after the comma), then delete that file"
        )
