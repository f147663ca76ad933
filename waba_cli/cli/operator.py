"""`waba operator ...`: who may see and change which account, on a PostgreSQL database shared by a team."""

from typing import Annotated

import typer

from waba_cli.cli.common import command, command_context, confirm, group, out

app = group(
    "operator",
    "Operators on PostgreSQL: login roles that see only the accounts granted to them (admins see all).",
    examples=(
        "waba operator add alice --account acme",
        "waba operator grant alice globex",
        "waba operator list --json",
        "waba operator whoami",
    ),
)

NameArg = Annotated[str, typer.Argument(metavar="NAME", help="The operator's database role (lowercase, digits, _).")]
AccArg = Annotated[str, typer.Argument(metavar="ACC", help="The account: its name or WABA id.")]


@command(app, "add", shared=("json", "debug"))
def add(
    name: NameArg,
    admin: Annotated[bool, typer.Option("--admin", help="An admin: sees every account, manages operators.")] = False,
    service: Annotated[
        bool, typer.Option("--service", help="A service role (serve-webhook): sees every account.")
    ] = False,
    accounts: Annotated[
        list[str] | None, typer.Option("--account", help="Grant this account (repeatable).", metavar="ACC")
    ] = None,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="No password: the server authenticates it (peer, certificate).")
    ] = False,
) -> None:
    """Create a login role for an operator; its generated password is printed once, never stored.

    Needs an admin connection (a role in waba_admin, or the database owner). The role can log in
    with a URL such as postgresql+psycopg://NAME:PASSWORD@HOST/DB; admins may add accounts and
    operators, operators only see and change the accounts granted to them.

    \b
    Example:
        waba operator add alice --account acme --account globex
        waba operator add bob --admin
        waba operator add webhook --service --no-password
    """
    from waba_cli.errors import UsageError
    from waba_cli.services import operators

    if admin and service:
        raise UsageError("--admin and --service exclude each other", "pick one")
    kind = "admin" if admin else "service" if service else "operator"
    granted = list(accounts or [])
    password = operators.add(command_context(), name, kind=kind, accounts=granted, password=not no_password)
    o = out()
    if o.json_mode:
        o.json({"name": name, "kind": kind, "accounts": granted, "password": password})
        return
    o.success(f"{kind} {name} added" + (f" with access to {', '.join(granted)}" if granted else ""))
    if password is not None:
        o.note("the password is shown once and stored nowhere; hand it over safely:")
        o.line(password)


@command(app, "grant", shared=("json", "debug"))
def grant(name: NameArg, account: AccArg) -> None:
    """Let an operator see and change an account (takes effect on their next statement).

    \b
    Example:
        waba operator grant alice acme
    """
    from waba_cli.services import operators

    added = operators.grant(command_context(), name, account)
    o = out()
    if o.json_mode:
        o.json({"name": name, "account": account, "granted": added})
    elif added:
        o.success(f"{name} may now use {account}")
    else:
        o.note(f"{name} already has {account}")


@command(app, "revoke", shared=("json", "debug"))
def revoke(name: NameArg, account: AccArg) -> None:
    """Take an account away from an operator, at once.

    \b
    Example:
        waba operator revoke alice acme
    """
    from waba_cli.services import operators

    removed = operators.revoke(command_context(), name, account)
    o = out()
    if o.json_mode:
        o.json({"name": name, "account": account, "revoked": removed})
    elif removed:
        o.success(f"{name} no longer has {account}")
    else:
        o.note(f"{name} did not have {account}")


@command(app, "list", shared=("json", "debug"))
def list_operators() -> None:
    """List the operators, admins and service roles with their accounts.

    \b
    Example:
        waba operator list --json
    """
    from waba_cli.services import operators

    found = operators.list_operators(command_context())
    o = out()
    if o.json_mode:
        o.json([{"name": r.name, "kind": r.kind, "login": r.can_login, "accounts": r.accounts} for r in found])
        return
    o.table(
        ["NAME", "KIND", "LOGIN", "ACCOUNTS"],
        [
            (r.name, r.kind, "yes" if r.can_login else "no", "all" if r.kind != "operator" else ", ".join(r.accounts))
            for r in found
        ],
        empty="no operators yet: add one with `waba operator add NAME --account ACC`",
    )


@command(app, "remove", shared=("json", "yes", "no_input", "debug"))
def remove(name: NameArg) -> None:
    """Drop an operator's role and grants (only roles in waba's groups).

    \b
    Example:
        waba operator remove alice --yes
    """
    from waba_cli.services import operators

    ctx = command_context()
    operators.require_postgres(ctx)
    operators.check_name(name)
    confirm(f"Remove operator {name} and their database role?")
    operators.remove(ctx, name)
    o = out()
    if o.json_mode:
        o.json({"name": name, "removed": True})
    else:
        o.success(f"operator {name} removed")


@command(app, "whoami", shared=("json", "debug"))
def whoami() -> None:
    """Show the database role waba connects as, what it may do, and the accounts it sees.

    \b
    Example:
        waba operator whoami
    """
    from waba_cli.services import operators

    me = operators.whoami(command_context())
    o = out()
    if o.json_mode:
        o.json({"role": me.role, "kind": me.kind, "admin": me.kind in ("admin", "superuser"), "accounts": me.accounts})
        return
    o.details("operator", [("role", me.role), ("kind", me.kind), ("accounts", ", ".join(me.accounts) or "none")])
