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
    """Show where the encryption key comes from and how many secrets it protects.

    \b
    Example:
        waba secrets status
    """
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
    }
    if o.json_mode:
        o.json(data)
        return
    if report.source is None:
        o.warn("no encryption key found: set WABA_ENCRYPTION_KEY or run `waba init`")
    o.details(
        "encryption key",
        [
            ("source", report.location or "none"),
            ("keys", report.keys),
            ("secrets", f"{report.secrets} in {report.accounts} account(s)"),
            ("readable", report.readable if report.accounts else "nothing stored yet"),
        ],
    )


@command(app, "rotate-key", shared=("json", "yes", "no_input", "debug"))
def rotate_key() -> None:
    """Create a new key and re-encrypt every stored secret with it, in one transaction.

    The new key replaces the old one where the old one was kept (keyring or key file). A key from
    WABA_ENCRYPTION_KEY cannot be written back: the new keys are left in a 0600 file in the data
    directory, to be moved into the variable (both keys, comma-separated, work meanwhile).

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
