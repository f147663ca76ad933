"""`waba number ...`: sync, list, show and choose numbers; verify, register and deregister them; keep
their PIN; edit their business profile; and ask the doctor why one cannot send."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from waba_cli.cli.common import STATE, command, command_context, group, out, show_dry_run
from waba_cli.domain.text import printable

if TYPE_CHECKING:
    from waba_cli.db.models.accounts import PhoneNumber
    from waba_cli.db.models.logs import AccountHealthLog
    from waba_cli.domain.numbers import Diagnosis

app = group(
    "number",
    "Phone numbers: sync, register, verify, PIN, business profile, and why one cannot send.",
    examples=(
        "waba number list --sync",
        "waba number doctor +15550134567",
        "waba number register 109283746501928 --pin 123456",
    ),
)
profile_app = group(
    "profile",
    "A number's business profile: about, address, description, e-mail, websites, picture.",
    examples=(
        "waba number profile show +15550134567",
        'waba number profile set +15550134567 --about "Open 9-17"',
    ),
)
app.add_typer(profile_app)

NumArg = Annotated[str, typer.Argument(metavar="NUM", help="Phone-number id, or the number in any notation.")]
CHANGE_SHARED = ("json", "account", "dry_run", "no_input")
READ_SHARED = ("json", "account")


# -- rendering -------------------------------------------------------------------------------------


def _summary(number: "PhoneNumber") -> dict[str, Any]:
    """The keys `number list --json` promises, and a few more."""
    return {
        "id": number.phone_number_id,
        "display_phone_number": number.display_phone_number,
        "verified_name": number.verified_name,
        "quality_rating": number.quality_rating,
        "status": number.status,
        "messaging_limit": number.messaging_limit,
        "throughput": number.throughput_level,
        "default": number.is_default,
        "phone_number": number.phone_number,
        "name_status": number.name_status,
        "code_verification_status": number.code_verification_status,
        "platform_type": number.platform_type,
        "account_mode": number.account_mode,
        "is_on_biz_app": number.is_on_biz_app,
        "gone": number.gone_at is not None,
        "synced_at": number.synced_at,
    }


def _health_entry(entry: "AccountHealthLog") -> dict[str, Any]:
    return {"at": entry.checked_at, "check": entry.check, "status": entry.status, "detail": entry.detail}


def _diagnosis(diagnosis: "Diagnosis", default: bool) -> dict[str, Any]:
    facts = diagnosis.facts
    return {
        "id": facts.phone_number_id,
        "phone_number": facts.phone_number,
        "display_phone_number": facts.display_phone_number,
        "default": default,
        "can_send": diagnosis.can_send,
        "verdict": diagnosis.verdict,
        "reasons": [f.as_dict() for f in diagnosis.findings],
    }


def _dry_run(request: dict[str, Any]) -> None:
    """Show a request not sent; a PIN in it is masked (it would be a different one for real)."""
    body = request.get("json")
    if isinstance(body, dict) and "pin" in body:
        request = {**request, "json": {**body, "pin": "******"}}
    show_dry_run(request)


def _done(data: dict[str, Any], line: str) -> None:
    o = out()
    if o.json_mode:
        o.json(data)
    else:
        o.success(line)


# -- the list --------------------------------------------------------------------------------------


@command(app, "sync", shared=READ_SHARED)
def sync(
    page_size: Annotated[
        int | None, typer.Option("--page-size", metavar="N", help="Numbers per page asked of Meta (1-100).")
    ] = None,
) -> None:
    """Read every number of the account's WABA from Meta (all pages) and store them.

    One transaction: a sync that fails half way changes nothing. Changes of quality, status,
    messaging limit and display-name status go to the health log; numbers Meta no longer lists
    are marked gone (never deleted). Afterwards every number sends with `--from`.

    \b
    Example:
        waba number sync --json
    """
    from waba_cli.services.numbers.sync import sync_numbers

    result = sync_numbers(command_context(), page_size=page_size)
    o = out()
    for note in result.notes:
        o.note(f"note: {note}")
    if o.json_mode:
        o.json({**result.as_dict(), "numbers": [_summary(n) for n in result.numbers]})
        return
    o.success(
        f"{result.fetched} number(s) at Meta for {result.account}: {len(result.added)} new, "
        f"{len(result.changed)} change(s)"
        + (f", {len(result.gone)} gone" if result.gone else "")
        + (f", {len(result.back)} back" if result.back else "")
    )
    for change in result.changed:
        o.note(f"  {change.phone_number_id}: {change.field.replace('_', ' ')} {change.before} -> {change.after}")


@command(app, "list", shared=READ_SHARED)
def list_(
    with_sync: Annotated[bool, typer.Option("--sync", help="Read them from Meta first (`waba number sync`).")] = False,
) -> None:
    """List the account's numbers; * marks the sending default, quality is coloured.

    \b
    Example:
        waba number list --sync --json
    """
    from waba_cli.services.numbers.sync import list_numbers, sync_numbers

    ctx = command_context()
    if with_sync:
        sync_numbers(ctx)
    account, numbers = list_numbers(ctx)
    o = out()
    if o.json_mode:
        o.json([_summary(n) for n in numbers])
        return
    o.table(
        ["", "ID", "NUMBER", "NAME", "QUALITY", "STATUS", "LIMIT", "THROUGHPUT"],
        [
            [
                "*" if n.is_default else "",
                n.phone_number_id,
                n.display_phone_number or n.phone_number,
                n.verified_name,
                n.quality_rating,
                "GONE" if n.gone_at else n.status,
                n.messaging_limit,
                n.throughput_level,
            ]
            for n in numbers
        ],
        title=f"numbers of {account.name} (WABA {account.waba_id})",
        status_column="QUALITY",
        empty=f"account {account.name} has no number yet: run `waba number sync`",
    )


@command(app, "show", shared=READ_SHARED)
def show(num: NumArg) -> None:
    """Show one number: Meta's fields, its business profile, what the doctor says, recent health log.

    \b
    Example:
        waba number show +15550134567
    """
    from waba_cli.services.numbers.sync import show_number

    view = show_number(command_context(), num)
    number = view.number
    o = out()
    if view.profile_error:
        o.warn(f"the business profile could not be read: {view.profile_error}")
    data = {
        **_summary(number),
        "is_pin_enabled": number.is_pin_enabled,
        "pin_stored": number.pin_enc is not None,
        "name_status_since": number.name_status_since,
        "health_status": number.health_status,
        "registrations_left": view.registrations_left,
        "doctor": _diagnosis(view.diagnosis, number.is_default),
        "profile": view.profile,
        "health_log": [_health_entry(e) for e in view.health],
    }
    if o.json_mode:
        o.json(data)
        return
    shown = ("phone_number", "display_phone_number", "verified_name", "quality_rating", "status", "name_status")
    pairs: list[tuple[str, Any]] = [("id", number.phone_number_id)]
    pairs += [(k, data[k]) for k in shown if data[k] is not None]
    pairs += [
        ("code verification", number.code_verification_status),
        ("platform / throughput", f"{number.platform_type or '?'} / {number.throughput_level or '?'}"),
        ("messaging limit", number.messaging_limit),
        ("two-step PIN", "set" + (", kept by waba" if number.pin_enc else "") if number.is_pin_enabled else "not set"),
        ("register calls left (72 h)", view.registrations_left),
        ("default", number.is_default),
        ("doctor", view.diagnosis.verdict),
    ]
    if number.gone_at:
        pairs.append(("gone since", number.gone_at))
    for key, value in (view.profile or {}).items():
        if key != "messaging_product" and value not in (None, "", []):
            pairs.append((f"profile {key}", value))
    o.details(f"number {number.display_phone_number or number.phone_number}", pairs)
    for finding in view.diagnosis.findings:
        o.line(printable(f"  {finding.severity}: {finding.message}" + (f" -> {finding.next}" if finding.next else "")))
    if view.health:
        o.table(
            ["AT", "CHECK", "STATUS", "DETAIL"],
            [[e.checked_at, e.check, e.status, e.detail] for e in view.health],
            title="recent health log",
            status_column="STATUS",
        )


@command(app, "use", shared=READ_SHARED)
def use(num: NumArg) -> None:
    """Make a number the account's sending default (for `waba send` without --from).

    \b
    Example:
        waba number use +15550134568
    """
    from waba_cli.services.numbers.sync import use_number

    number = use_number(command_context(), num)
    _done(
        {"default": number.phone_number_id, "phone_number": number.phone_number},
        f"{number.phone_number} ({number.phone_number_id}) now sends by default",
    )


@command(app, "add", shared=CHANGE_SHARED)
def add(
    cc: Annotated[str | None, typer.Option("--cc", metavar="C", help="Country calling code, like 1 or 49.")] = None,
    phone_number: Annotated[
        str | None, typer.Option("--phone-number", metavar="N", help="The number without the country code.")
    ] = None,
    verified_name: Annotated[
        str | None, typer.Option("--verified-name", metavar="V", help="The display name customers see.")
    ] = None,
    phone_number_id: Annotated[
        str | None, typer.Option("--id", metavar="ID", help="Record a number the WABA already has at Meta.")
    ] = None,
) -> None:
    """Add a number to the WABA at Meta and record it, or record one Meta already has (--id).

    A new number still needs its ownership verified (`waba number request-code`, `verify-code`),
    an approved display name and registration (`waba number register`) before it sends.

    \b
    Examples:
        waba number add --cc 1 --phone-number 5550134569 --verified-name "Lucky Shrub"
        waba number add --id 109283746501946
    """
    from waba_cli.errors import DryRunRequest, UsageError
    from waba_cli.services.numbers import sync as numbers

    ctx = command_context()
    new = (cc, phone_number, verified_name)
    if phone_number_id is not None and any(v is not None for v in new):
        raise UsageError("give --id ID, or --cc, --phone-number and --verified-name, not both")
    try:
        if phone_number_id is not None:
            number = numbers.record_number(ctx, phone_number_id)
        elif cc is not None and phone_number is not None and verified_name is not None:
            number = numbers.add_number(ctx, cc=cc, phone_number=phone_number, verified_name=verified_name)
        else:
            raise UsageError("give --cc C --phone-number N --verified-name V (a new number), or --id ID")
    except DryRunRequest as exc:
        _dry_run(exc.request)
        return
    _done(_summary(number), f"{number.phone_number} ({number.phone_number_id}) recorded: {number.status or '?'}")


# -- ownership, registration, PIN ------------------------------------------------------------------


@command(app, "request-code", shared=CHANGE_SHARED)
def request_code(
    num: NumArg,
    method: Annotated[str, typer.Option("--method", metavar="sms|voice", help="How Meta sends the code.")] = "sms",
    language: Annotated[
        str, typer.Option("--language", metavar="L", help="Language of the message or call (en, en_US ...).")
    ] = "en_US",
) -> None:
    """Ask Meta to send the number a 6-digit code by SMS or voice call, to prove you own it.

    \b
    Example:
        waba number request-code +15550134569 --method voice
    """
    from waba_cli.errors import DryRunRequest
    from waba_cli.services.numbers.registration import request_code as ask

    try:
        number = ask(command_context(), num, method=method, language=language)
    except DryRunRequest as exc:
        _dry_run(exc.request)
        return
    _done(
        {"phone_number_id": number.phone_number_id, "requested": True, "method": method.lower()},
        f"code sent to {number.phone_number} by {method.lower()}; then: waba number verify-code {num} CODE",
    )


@command(app, "verify-code", shared=CHANGE_SHARED)
def verify_code(
    num: NumArg, code: Annotated[str, typer.Argument(metavar="CODE", help="The 6 digits received.")]
) -> None:
    """Prove ownership of the number with the code Meta sent.

    \b
    Example:
        waba number verify-code +15550134569 123456
    """
    from waba_cli.errors import DryRunRequest
    from waba_cli.services.numbers.registration import verify_code as verify

    try:
        number = verify(command_context(), num, code)
    except DryRunRequest as exc:
        _dry_run(exc.request)
        return
    _done(
        {"phone_number_id": number.phone_number_id, "code_verification_status": number.code_verification_status},
        f"{number.phone_number} verified; next: waba number register {num}",
    )


@command(app, "register", shared=CHANGE_SHARED)
def register(
    num: NumArg,
    pin: Annotated[
        str | None,
        typer.Option(
            "--pin", metavar="P", help="The 6-digit two-step PIN (default: the one waba keeps, or a new one)."
        ),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(
            "--data-localization-region", metavar="CC", help="Store data at rest in this country (DE, IN ...)."
        ),
    ] = None,
) -> None:
    """Register the number with the Cloud API so it can send and receive.

    Checks first what Meta would refuse: ownership not verified, display name not approved, or 10
    register/deregister calls in the last 72 hours. Without --pin, the PIN waba keeps is used, or a
    new one is generated, kept encrypted and printed once: it is the number's two-step PIN.

    \b
    Example:
        waba number register +15550134567
    """
    from waba_cli.errors import DryRunRequest
    from waba_cli.services.numbers.registration import register as do_register

    try:
        done = do_register(command_context(), num, pin=pin, region=region)
    except DryRunRequest as exc:
        _dry_run(exc.request)
        return
    number = done.number
    o = out()
    if o.json_mode:
        data = {**_summary(number), "registered": True, "registrations_left": done.registrations_left}
        if done.generated_pin:
            data["pin"] = done.generated_pin
        o.json(data)
        return
    o.success(f"{number.phone_number} registered with the Cloud API (status {number.status or '?'})")
    if done.generated_pin:
        o.line(f"two-step PIN: {done.generated_pin}")
        o.note("waba keeps it encrypted and uses it for the next `waba number register`; it is shown only now")
    o.note(f"{done.registrations_left} register/deregister call(s) left in the next 72 hours")


@command(app, "deregister", shared=("json", "account", "yes", "dry_run", "no_input"))
def deregister(num: NumArg) -> None:
    """Deregister the number from the Cloud API: it stops sending and receiving. Destructive.

    Type the number to confirm, or pass --yes (required without a terminal). Counts against the
    10 register/deregister calls Meta allows per 72 hours.

    \b
    Example:
        waba number deregister +15550134568 --yes
    """
    from waba_cli.errors import DryRunRequest, UsageError
    from waba_cli.services.numbers.registration import deregister as do_deregister

    ctx = command_context()

    def confirm(number: "PhoneNumber") -> None:
        if STATE.yes:
            return
        if not STATE.interactive:
            raise UsageError(f"deregister {number.phone_number}: refusing without confirmation", "add --yes")
        typed = typer.prompt(f"Type {number.phone_number} to deregister it", err=True)
        if "".join(ch for ch in typed if ch.isdigit()) != number.phone_number.lstrip("+"):
            raise typer.Exit(1)

    try:
        number, left = do_deregister(ctx, num, confirm=None if ctx.dry_run else confirm)
    except DryRunRequest as exc:
        _dry_run(exc.request)
        return
    _done(
        {**_summary(number), "deregistered": True, "registrations_left": left},
        f"{number.phone_number} deregistered; {left} register/deregister call(s) left in the next 72 hours",
    )


@command(app, "set-pin", shared=CHANGE_SHARED)
def set_pin(num: NumArg, pin: Annotated[str, typer.Argument(metavar="PIN", help="The new 6-digit PIN.")]) -> None:
    """Set or change the number's two-step verification PIN; waba keeps it encrypted.

    \b
    Example:
        waba number set-pin +15550134567 482915
    """
    from waba_cli.errors import DryRunRequest
    from waba_cli.services.numbers.registration import set_pin as do_set_pin

    try:
        number = do_set_pin(command_context(), num, pin)
    except DryRunRequest as exc:
        _dry_run(exc.request)
        return
    _done({"phone_number_id": number.phone_number_id, "pin_set": True}, f"two-step PIN of {number.phone_number} set")


# -- business profile ------------------------------------------------------------------------------


@command(profile_app, "show", shared=READ_SHARED)
def profile_show(num: NumArg) -> None:
    """Show the number's business profile as Meta has it.

    \b
    Example:
        waba number profile show +15550134567
    """
    from waba_cli.services.numbers.profile import show_profile

    number, profile = show_profile(command_context(), num)
    o = out()
    if o.json_mode:
        o.json({"phone_number_id": number.phone_number_id, **profile})
        return
    pairs = [(k, v) for k, v in profile.items() if k != "messaging_product"]
    o.details(f"business profile of {number.phone_number}", pairs)


@command(profile_app, "set", shared=CHANGE_SHARED)
def profile_set(
    num: NumArg,
    about: Annotated[str | None, typer.Option("--about", metavar="TEXT", help="1 to 139 characters.")] = None,
    address: Annotated[str | None, typer.Option("--address", metavar="TEXT", help="Up to 256 characters.")] = None,
    description: Annotated[
        str | None, typer.Option("--description", metavar="TEXT", help="Up to 256 characters.")
    ] = None,
    email: Annotated[str | None, typer.Option("--email", metavar="ADDR", help="Up to 128 characters.")] = None,
    vertical: Annotated[
        str | None, typer.Option("--vertical", metavar="V", help="RETAIL, HEALTH, PROF_SERVICES ... (or INSURANCE).")
    ] = None,
    website: Annotated[
        list[str] | None,
        typer.Option("--website", metavar="URL", help="http(s) URL, up to 2 (replaces the list)."),
    ] = None,
    picture: Annotated[
        Path | None, typer.Option("--picture", metavar="PATH", help="JPEG or PNG, at most 5 MB, at least 192 x 192.")
    ] = None,
) -> None:
    """Change the number's business profile; only the fields given change.

    Every value is checked against Meta's limits before any request (exit 2). --picture is
    uploaded with the resumable upload API of the account's app, then set on the profile.
    --dry-run prints the requests.

    \b
    Example:
        waba number profile set +15550134567 --about "Succulents, delivered" --website https://shop.example.com
    """
    from waba_cli.services.numbers.profile import ProfileChange, set_profile

    change = ProfileChange(about, address, description, email, vertical, website, picture)
    result = set_profile(command_context(), num, change)
    o = out()
    for note in result.notes:
        o.note(f"note: {note}")
    if result.dry_run:
        if o.json_mode:
            o.json({"dry_run": True, "requests": result.dry_run})
            return
        for request in result.dry_run:
            _dry_run(request)
        return
    _done(
        {"phone_number_id": result.number.phone_number_id, "changed": result.changed},
        f"business profile of {result.number.phone_number}: changed {', '.join(result.changed)}",
    )


# -- doctor ----------------------------------------------------------------------------------------


@command(app, "doctor", shared=READ_SHARED)
def doctor(
    num: Annotated[
        str | None, typer.Argument(metavar="[NUM]", help="One number (default: every number of the account).")
    ] = None,
    no_sync: Annotated[bool, typer.Option("--no-sync", help="Diagnose what waba stored; do not ask Meta.")] = False,
) -> None:
    """Say whether each number can send right now and, if not, why and the command that fixes it.

    Reads the numbers from Meta first (unless --no-sync), then checks ownership, display name,
    registration, status, quality, messaging limit and Meta's health status. Exit 0 when every
    number can send, 1 when one cannot: run it first when sends fail.

    \b
    Example:
        waba number doctor
        waba number doctor +15550134568 --json
    """
    from waba_cli.services.numbers.doctor import doctor as diagnose

    report = diagnose(command_context(), num, sync=not no_sync)
    o = out()
    if o.json_mode:
        o.json(
            {
                "account": report.account.name,
                "can_send": report.all_can_send,
                "synced": report.synced,
                "problem": report.problem.as_dict() if report.problem else None,
                "numbers": [
                    _diagnosis(d, report.defaults.get(d.facts.phone_number_id, False)) for d in report.diagnoses
                ],
            }
        )
    else:
        if report.problem is not None:
            o.warn(report.problem.message + (f" -> {report.problem.next}" if report.problem.next else ""))
        for diagnosis in report.diagnoses:
            _print_diagnosis(diagnosis, report.defaults.get(diagnosis.facts.phone_number_id, False))
    if not report.all_can_send:
        raise typer.Exit(1)


def _print_diagnosis(diagnosis: "Diagnosis", default: bool) -> None:
    o = out()
    facts = diagnosis.facts
    label = f"{facts.display_phone_number or facts.phone_number} ({facts.phone_number_id})" + (" *" if default else "")
    verdict = {"OK": "can send", "WARNING": "can send, with warnings", "BLOCKED": "cannot send"}[diagnosis.verdict]
    o.line(printable(f"{diagnosis.verdict:8} {label}: {verdict}"))
    for finding in diagnosis.findings:
        o.line(printable(f"  - {finding.message}"))
        if finding.next:
            o.line(printable(f"    next: {finding.next}"))
