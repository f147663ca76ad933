"""Setting accounts up and changing them: the setup data, its validation, saving, updating.

The setup keys, their steps and checks are ``domain.setup_steps`` (the seed's 6-step setup JSON,
plus limits, ``out_of_hours_message`` and ``knowledge_base_path``); the pydantic model built from
it validates a file, the wizard's answers and ``--set`` alike. The live checks with Meta are
``account_checks``. Kept apart from ``accounts`` (lookups) so that read-only commands do not build
the model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator
from pydantic import ValidationError as PydanticValidationError
from sqlmodel import Session, col, select

from waba_cli.db.models.accounts import Account, PhoneNumber
from waba_cli.db.timestamps import utcnow
from waba_cli.domain import setup_steps as steps
from waba_cli.domain import validators as check
from waba_cli.domain.documents import loads_json
from waba_cli.errors import UsageError, ValidationError
from waba_cli.services.accounts.store import find_account, numbers_of, reload

if TYPE_CHECKING:
    from waba_cli.secrets import Cipher
    from waba_cli.services.accounts.checks import LiveReport
    from waba_cli.services.context import CommandContext

_VALUE_ERROR_PREFIX = "Value error, "
_CONFIG = ConfigDict(extra="forbid", str_strip_whitespace=True)
_ALL = tuple(f.name for f in steps.FIELDS)


@cache
def _model(names: tuple[str, ...]) -> type[BaseModel]:
    """The pydantic model of the setup fields ``names`` (in the order of ``steps.FIELDS``)."""
    fields: dict[str, Any] = {}
    validators: dict[str, Any] = {}
    for item in steps.FIELDS:
        if item.name not in names:
            continue
        default: Any = item.default
        if item.required:
            default = ...
        elif isinstance(default, tuple):
            default = Field(default_factory=partial(list, default))
        fields[item.name] = (item.type, default)
        if item.check is not None:
            decorate = field_validator(item.name, mode="before") if item.raw else field_validator(item.name)
            validators[f"check_{item.name}"] = decorate(item.check)
    return create_model("AccountSetup", __config__=_CONFIG, __validators__=validators, **fields)


@dataclass
class SetupInput:
    """Validated setup data (every key of the fields checked, normalised) and the notes to show about it."""

    setup: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def _first_error(exc: PydanticValidationError, source: str | None) -> ValidationError:
    error = exc.errors()[0]
    loc = ".".join(str(p) for p in error["loc"]) or "setup"
    kind = error["type"]
    if kind == "extra_forbidden":
        return ValidationError(loc, "unknown key", "see `waba account setup --help` for the keys", source=source)
    if kind == "missing":
        return ValidationError(loc, "is required", source=source)
    return ValidationError(loc, str(error["msg"]).removeprefix(_VALUE_ERROR_PREFIX), source=source)


def read_data_file(path: Path, fmt: str | None = None) -> dict[str, Any]:
    """A JSON or TOML file (standard input for ``-``) as a dict; see ``data_files.read_structured``."""
    from waba_cli.services.data_files import read_structured, source_name

    data = read_structured(path, fmt)
    if not isinstance(data, dict):
        raise UsageError(f"{source_name(path)}: must hold one object of setup keys, not a {type(data).__name__}")
    return data


def parse_setup(  # noqa: PLR0912 - one branch per cross-field rule
    data: dict[str, Any],
    *,
    region: str | None = None,
    source: str | None = None,
    base_dir: Path | None = None,
    names: tuple[str, ...] = _ALL,
    together: bool = True,
) -> SetupInput:
    """Validate setup data against the fields ``names`` (all: a whole setup) and, if ``together``, the
    rules across fields; a bad value raises ``ValidationError`` naming its key."""
    notes: list[str] = []
    data = dict(data)
    if region and isinstance(data.get("phone_number"), str) and not data["phone_number"].strip().startswith("+"):
        try:
            data["phone_number"] = check.phone_number(data["phone_number"], region)
        except ValueError as exc:
            raise ValidationError("phone_number", str(exc), source=source) from None
    try:
        setup = _model(names).model_validate(data).model_dump()
    except PydanticValidationError as exc:
        raise _first_error(exc, source) from None
    try:
        if together:
            steps.check_together(setup)
    except ValueError as exc:
        key, _, problem = str(exc).partition(" ")
        raise ValidationError(key, problem, source=source) from None
    if isinstance(data.get("subscribed_webhook_events"), list):
        notes.extend(check.webhook_fields([str(v) for v in data["subscribed_webhook_events"]])[1])
    if isinstance(data.get("business_vertical"), str) and data["business_vertical"].strip():
        note = check.vertical(data["business_vertical"])[1]
        if note:
            notes.append(note)
    if setup.get("knowledge_base_path"):
        kb = Path(setup["knowledge_base_path"]).expanduser()
        if not kb.is_absolute() and base_dir is not None:
            kb = base_dir / kb
        if kb.suffix.lower() not in (".toml", ".csv"):
            raise ValidationError("knowledge_base_path", f"{kb} must be a .toml or .csv file", source=source)
        if not kb.is_file():
            raise ValidationError("knowledge_base_path", f"{kb} does not exist", source=source)
        setup["knowledge_base_path"] = str(kb.resolve())
    elif setup.get("use_knowledge_base"):
        notes.append("use_knowledge_base is on but knowledge_base_path is not set: no answers until it is")
    if "phone_number" in setup and setup.get("display_phone_number") is None:
        setup["display_phone_number"] = check.display_phone(setup["phone_number"])
    return SetupInput(setup, notes)


def check_value(name: str, value: Any, *, region: str | None = None) -> tuple[Any, list[str]]:
    """One setup value checked as the wizard reads it, with the same checks as a file: its
    normalised value and the notes about it (a ``ValidationError`` names the key)."""
    parsed = parse_setup({name: value}, region=region, names=(name,), together=False)
    return parsed.setup[name], parsed.notes


def missing_required(values: dict[str, Any]) -> list[str]:
    """The required setup keys ``values`` lacks (or leaves empty), in the order of the steps."""
    return [f.name for f in steps.FIELDS if f.required and values.get(f.name) in (None, "")]


def require_complete(values: dict[str, Any], *, source: str | None = None) -> None:
    """Refuse, with every missing key at once, setup values that lack required ones (no prompts)."""
    missing = missing_required(values)
    if missing:
        where = f"add them to {source}" if source else "give them in a setup file: --from-file F (JSON or TOML)"
        raise ValidationError(
            ", ".join(missing),
            "is required" if len(missing) == 1 else "are required",
            f"{where}; `waba account setup --help` lists every key (without a terminal nothing is asked)",
            source=source,
        )


# -- storing -----------------------------------------------------------------------------------


def add_account(
    ctx: CommandContext, setup: dict[str, Any], *, verify: bool = True, source: str | None = None
) -> tuple[Account, list[PhoneNumber], LiveReport | None]:
    """`waba account setup --from-file`: check the setup with Meta (unless not ``verify``; the first
    failed check refuses it), then save the account and its first number in one transaction."""
    from waba_cli.services.accounts.checks import check_setup, require_passing

    with ctx.db.session() as session:
        ensure_new(session, setup, source=source)
    ctx.cipher()  # fail on a missing key before talking to Meta
    report = None
    if verify:
        report = check_setup(ctx, setup)
        require_passing(report, source, unless=("subscription",))  # the caller subscribes the app
    account, numbers = save_account(ctx, setup, report, source=source)
    return account, numbers, report


def save_account(
    ctx: CommandContext, setup: dict[str, Any], report: LiveReport | None = None, *, source: str | None = None
) -> tuple[Account, list[PhoneNumber]]:
    """Save the account and its first number in one transaction (the wizard, after its summary)."""
    cipher = ctx.cipher()
    with ctx.db.transaction() as session:
        ensure_new(session, setup, source=source)
        account = create_account(session, cipher, setup, report)
        numbers = numbers_of(session, account)
    return account, numbers


def taken(ctx: CommandContext, key: str, value: str) -> str | None:
    """Why a new account cannot have ``value`` as its name, WABA or first number, or None."""
    with ctx.db.session() as session:
        try:
            ensure_new(session, {"name": "", "waba_id": "", "phone_number_id": "", key: value})
        except ValidationError as exc:
            return exc.problem
    return None


def ensure_new(session: Session, setup: dict[str, Any], source: str | None = None) -> None:
    """Refuse a setup whose name, WABA or number is already configured."""
    existing = session.exec(
        select(Account).where((col(Account.name) == setup["name"]) | (col(Account.waba_id) == setup["waba_id"]))
    ).first()
    if existing is not None:
        key = "name" if existing.name == setup["name"] else "waba_id"
        raise ValidationError(
            key,
            f"account {existing.name} (WABA {existing.waba_id}) is already set up",
            f"change it with `waba account update {existing.name}`; its other numbers come with "
            f"`waba number sync --account {existing.name}`",
            source=source,
        )
    number = session.exec(select(PhoneNumber).where(PhoneNumber.phone_number_id == setup["phone_number_id"])).first()
    if number is not None:
        raise ValidationError(
            "phone_number_id", f"{setup['phone_number_id']} already belongs to another account", source=source
        )


def create_account(
    session: Session, cipher: Cipher, setup: dict[str, Any], report: LiveReport | None = None
) -> Account:
    """Add the account and its first number to ``session`` (the caller's transaction commits)."""
    from waba_cli.secrets import mask
    from waba_cli.services.numbers.store import apply_fields

    number_keys = {f.name for f in steps.fields_of(2)}
    plain = {k: v for k, v in setup.items() if k not in number_keys and not steps.BY_NAME[k].secret}
    verify_token = setup["webhook_verify_token"]
    account = Account(
        **plain,
        app_secret_enc=cipher.encrypt(setup["app_secret"]),
        access_token_enc=cipher.encrypt(setup["access_token"]),
        access_token_mask=mask(setup["access_token"]),
        webhook_verify_token_enc=cipher.encrypt(verify_token) if verify_token else None,
    )
    number = PhoneNumber(account_id=0, **{k: setup[k] for k in number_keys}, is_default=True)
    if report is not None:
        apply_report(account, report)
        meta = report.numbers.get(setup["phone_number_id"])
        if meta is not None:
            apply_fields(number, meta, utcnow())  # type: ignore[arg-type]
    session.add(account)
    session.flush()
    assert account.id is not None
    number.account_id = account.id
    session.add(number)
    session.flush()
    return account


def apply_report(account: Account, report: LiveReport) -> None:
    """Record what Meta said of the token and the WABA (a valid token's report)."""
    waba = report.waba
    account.token_type = report.token.get("type")
    account.token_expires_at = report.token_expires_at
    account.token_scopes = report.scopes
    account.status = waba.get("status", account.status)
    account.account_review_status = waba.get("account_review_status", account.account_review_status)
    account.business_verification_status = waba.get(
        "business_verification_status", account.business_verification_status
    )
    account.currency = waba.get("currency", account.currency)
    account.timezone_id = waba.get("timezone_id", account.timezone_id)
    account.verified_at = utcnow()
    account.updated_at = utcnow()


def subscribe_app(ctx: CommandContext, account: Account) -> None:
    """Subscribe the account's app to its WABA's webhooks (``POST /{waba-id}/subscribed_apps``, empty
    body). Meta wants this before any callback override, and without it no webhook arrives (§5.2)."""

    ctx.run_graph(account, lambda api: api.subscribe_app(account.waba_id))


# -- updating ----------------------------------------------------------------------------------


def parse_assignments(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs as setup values (JSON literals allowed: true, 100, ["messages"])."""
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValidationError(pair, "expected KEY=VALUE")
        if key in steps.SECRET_KEYS:
            raise ValidationError(
                key,
                "is a secret and cannot be given on the command line",
                f"use --secret {key} (hidden prompt) or --from-file F",
            )
        if key not in steps.UPDATABLE:
            raise ValidationError(key, "cannot be changed with --set", f"settable keys: {', '.join(steps.UPDATABLE)}")
        values[key] = _literal(raw, key)
    return values


def _literal(raw: str, key: str) -> Any:
    field_type = steps.BY_NAME[key].type
    if raw == "" and key not in ("name",):
        return None
    if field_type in (str, str | None):
        return raw
    if key == "subscribed_webhook_events" and not raw.startswith("["):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if key in ("business_hours_start", "business_hours_end"):
        return raw
    try:
        return loads_json(raw, key)
    except json.JSONDecodeError:
        return raw


@dataclass
class Update:
    """What `waba account update` did: the changes (key -> (before, after), secrets masked), in the
    order given, and Meta's report on changed credentials (None: not asked, or --no-verify)."""

    account: Account
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    report: LiveReport | None = None

    @property
    def changed(self) -> list[str]:
        return list(self.changes)


# credentials Meta checks together: a change of one is verified with the others (debug_token)
_CREDENTIALS = ("access_token", "app_secret", "app_id")


def update_account(
    ctx: CommandContext, values: dict[str, Any], *, source: str | None = None, verify: bool = True
) -> Update:
    """`waba account update`: validate ``values`` with the account's other settings and apply what
    differs in one transaction. The fixed keys (the WABA and the first number) may be given when
    they equal the stored ones: the account's own setup file applies again. Changed credentials
    are verified with Meta first (unless not ``verify``): a refused token saves nothing."""
    from waba_cli.secrets import mask

    if any(k in steps.SECRET_KEYS for k in values):
        ctx.cipher()  # fail on a missing key before anything else
    with ctx.db.session() as session:
        account = reload(session, ctx.account)
        numbers = numbers_of(session, account)
        unknown = [k for k in values if k not in steps.BY_NAME]
        if unknown:
            raise ValidationError(unknown[0], "unknown key", source=source)
        # the settings stored in plain, and the secrets being replaced (the others cannot be read back)
        names = tuple(f.name for f in steps.FIELDS if f.name in steps.UPDATABLE or f.name in values)
        current: dict[str, Any] = {k: getattr(account, k) for k in steps.UPDATABLE}
        validated = parse_setup({**current, **values}, source=source, names=names).setup
        _same_fixed(account, numbers, {k: validated[k] for k in values if steps.BY_NAME[k].fixed}, source)
        if "name" in values and validated["name"] != account.name and find_account(session, validated["name"]):
            raise ValidationError("name", f"another account is already named {validated['name']!r}", source=source)
    changes, secrets = _differences(ctx, account, [k for k in values if not steps.BY_NAME[k].fixed], validated)
    report = None
    if verify and any(key in changes for key in _CREDENTIALS):
        from waba_cli.services.accounts.checks import check_credentials, require_passing

        def now(key: str) -> str:
            return str(secrets[key] if key in secrets else validated.get(key) or _secret(ctx, account, key) or "")

        app_id = validated["app_id"] if "app_id" in changes else account.app_id
        report = check_credentials(ctx, account, app_id, now("app_secret"), now("access_token"))
        require_passing(report, source)
    if not changes:
        return Update(account, changes, report)
    with ctx.db.transaction() as session:
        row = reload(session, account)
        for key in changes:
            if key in steps.SECRET_KEYS:
                new = secrets[key]
                setattr(row, f"{key}_enc", ctx.cipher().encrypt(new) if new else None)
                if key == "access_token":
                    row.access_token_mask = mask(new)
            else:
                setattr(row, key, validated[key])
        if report is not None:
            apply_report(row, report)
        row.updated_at = utcnow()
        session.add(row)
    return Update(row, changes, report)


def _differences(
    ctx: CommandContext, account: Account, keys: list[str], validated: dict[str, Any]
) -> tuple[dict[str, tuple[Any, Any]], dict[str, Any]]:
    """The changes of ``keys`` (key -> (before, after), secrets masked) and the new secrets' values."""
    from waba_cli.secrets import mask

    changes: dict[str, tuple[Any, Any]] = {}
    secrets: dict[str, Any] = {}
    for key in keys:
        new = validated[key]
        if key in steps.SECRET_KEYS:
            old = _secret(ctx, account, key)
            if old != new:
                secrets[key] = new
                changes[key] = (mask(old) if old else None, mask(new) if new else None)
        elif getattr(account, key) != new:
            changes[key] = (getattr(account, key), new)
    return changes, secrets


def _secret(ctx: CommandContext, account: Account, key: str) -> str | None:
    stored = getattr(account, f"{key}_enc")
    return ctx.cipher().decrypt(stored, f"the {key} of {account.name}") if stored else None


def _same_fixed(account: Account, numbers: list[PhoneNumber], given: dict[str, Any], source: str | None) -> None:
    """Refuse fixed keys (the WABA, the first number) that differ from what the account has."""
    if not given:
        return
    if "waba_id" in given and given["waba_id"] != account.waba_id:
        raise ValidationError(
            "waba_id",
            f"cannot be changed on an existing account (it is {account.waba_id}, the file says {given['waba_id']})",
            "set up another account for another WABA",
            source=source,
        )
    number_keys = [k for k in ("phone_number_id", "phone_number", "display_phone_number") if k in given]
    if not number_keys:
        return
    wanted = given.get("phone_number_id")
    number = next((n for n in numbers if n.phone_number_id == wanted), None) if wanted else None
    if number is None and wanted is None:  # a number without its id: one of the account's
        number = next((n for n in numbers if n.phone_number == given.get("phone_number")), None)
    if number is None:
        shown = wanted or given.get("phone_number")
        raise ValidationError(
            "phone_number_id" if wanted else "phone_number",
            f"cannot be changed on an existing account ({shown} is not one of its numbers)",
            "numbers are added with `waba number add` or `waba number sync`",
            source=source,
        )
    for key in number_keys:
        stored, value = getattr(number, key), given[key]
        if key == "display_phone_number":  # Meta formats it its own way: the digits count
            stored, value = _digits(stored), _digits(value)
        if value is not None and stored is not None and value != stored:
            raise ValidationError(
                key,
                f"cannot be changed on an existing account (it is {getattr(number, key)}, the file says {given[key]})",
                source=source,
            )


def _digits(value: Any) -> str | None:
    return "".join(ch for ch in str(value) if ch.isdigit()) if value else None
