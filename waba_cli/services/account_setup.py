"""Setting accounts up and changing them: the setup data, its validation, live verification.

The setup keys are the seed's 6-step setup JSON (plus limits, ``out_of_hours_message`` and
``knowledge_base_path``); the same model validates a file, the wizard's answers and ``--set``.
Kept apart from ``accounts`` (lookups) so that read-only commands do not build the pydantic model.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError
from sqlmodel import Session, col, select

from waba_cli.db.models.accounts import Account, PhoneNumber
from waba_cli.db.timestamps import utcnow
from waba_cli.errors import UsageError, ValidationError
from waba_cli.graph.errors import AuthError, GraphError
from waba_cli.services import validation as check
from waba_cli.services.accounts import find_account, get_account, numbers_of, resolve_account

if TYPE_CHECKING:
    from waba_cli.graph.api import GraphAPI
    from waba_cli.secrets import Cipher
    from waba_cli.services.context import CommandContext

SECRET_KEYS = ("access_token", "app_secret", "webhook_verify_token")
REQUIRED_KEYS = ("name", "waba_id", "app_id", "app_secret", "phone_number_id", "phone_number", "access_token")
TOKEN_RE = re.compile(r"^[A-Za-z0-9_\-.|]{32,4096}$")
APP_SECRET_RE = re.compile(r"^[0-9a-fA-F]{32}$")
VERIFY_TOKEN_RE = re.compile(r"^\S{8,128}$")
NEEDED_SCOPES = ("whatsapp_business_management", "whatsapp_business_messaging")
_VALUE_ERROR_PREFIX = "Value error, "


def _text(limit: int) -> Any:
    def validate(value: str | None) -> str | None:
        if value is None:
            return None
        if len(value) > limit:
            raise ValueError(f"is {len(value)} characters long; the limit is {limit}")
        return value or None

    return validate


class AccountSetup(BaseModel):
    """The 6-step setup, as a file, the wizard or an HTTP client would give it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    # step 1: Meta Business Account
    name: str
    waba_id: str
    meta_business_account_id: str | None = None
    app_id: str
    app_secret: str
    # step 2: phone number
    phone_number_id: str
    phone_number: str
    display_phone_number: str | None = None
    # step 3: access tokens
    access_token: str
    webhook_verify_token: str | None = None
    # step 4: business profile
    business_name: str | None = None
    business_description: str | None = None
    business_email: str | None = None
    business_vertical: str | None = None
    business_address: str | None = None
    # step 5: bot configuration
    enable_auto_reply: bool = False
    use_knowledge_base: bool = False
    greeting_message: str | None = None
    fallback_message: str | None = None
    out_of_hours_message: str | None = None
    knowledge_base_path: str | None = None
    enable_business_hours: bool = False
    business_hours_start: time | None = None
    business_hours_end: time | None = None
    business_timezone: str = "UTC"
    # step 6: webhook configuration
    webhook_url: str | None = None
    subscribed_webhook_events: list[str] = list(check.DEFAULT_WEBHOOK_FIELDS)
    # local sending limits (absent = no limit)
    daily_limit: int | None = None
    monthly_limit: int | None = None
    per_minute_limit: int | None = None

    @field_validator("waba_id", "meta_business_account_id", "app_id", "phone_number_id", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        return None if value is None else check.graph_id(str(value).strip())

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not 1 <= len(value) <= 100:
            raise ValueError("must be 1 to 100 characters")
        if value.isdigit():
            raise ValueError("must not be only digits (accounts are named by name or WABA id)")
        return value

    @field_validator("app_secret")
    @classmethod
    def _app_secret(cls, value: str) -> str:
        if not APP_SECRET_RE.match(value):
            raise ValueError("must be the app's 32-character hexadecimal secret (App settings > Basic)")
        return value

    @field_validator("access_token")
    @classmethod
    def _access_token(cls, value: str) -> str:
        if not TOKEN_RE.match(value):
            raise ValueError("does not look like a Meta access token (32+ characters, no spaces)")
        return value

    @field_validator("webhook_verify_token")
    @classmethod
    def _verify_token(cls, value: str | None) -> str | None:
        if value is not None and not VERIFY_TOKEN_RE.match(value):
            raise ValueError("must be 8 to 128 characters without spaces")
        return value

    @field_validator("phone_number")
    @classmethod
    def _phone(cls, value: str) -> str:
        return check.phone_number(value)

    @field_validator("business_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return check.email(value) if value else None

    @field_validator("business_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return check.timezone(value)

    @field_validator("business_hours_start", "business_hours_end", mode="before")
    @classmethod
    def _hours(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        if not isinstance(value, str | time):
            raise ValueError("must be a time of day as HH:MM or HH:MM:SS")  # noqa: TRY004 - pydantic wants ValueError
        return check.hours(value)

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        return check.https_url(value, max_length=200) if value else None

    @field_validator("subscribed_webhook_events")
    @classmethod
    def _fields(cls, value: list[str]) -> list[str]:
        return check.webhook_fields(value)[0]

    @field_validator("business_vertical")
    @classmethod
    def _vertical(cls, value: str | None) -> str | None:
        return check.vertical(value)[0] if value else None

    @field_validator("daily_limit", "monthly_limit", "per_minute_limit")
    @classmethod
    def _limit(cls, value: int | None) -> int | None:
        if value is not None and value < 1:
            raise ValueError("must be a positive whole number (leave it out for no limit)")
        return value

    _business_name = field_validator("business_name")(_text(100))
    _description = field_validator("business_description")(_text(256))
    _address = field_validator("business_address")(_text(256))
    _display = field_validator("display_phone_number")(_text(32))
    _messages = field_validator("greeting_message", "fallback_message", "out_of_hours_message")(_text(4096))

    @model_validator(mode="after")
    def _consistent(self) -> AccountSetup:
        if self.enable_business_hours:
            if self.business_hours_start is None or self.business_hours_end is None:
                raise ValueError("business_hours_start and business_hours_end are needed with enable_business_hours")
            if self.business_hours_start == self.business_hours_end:
                raise ValueError("business_hours_start and business_hours_end must differ")
        if self.daily_limit and self.monthly_limit and self.daily_limit > self.monthly_limit:
            raise ValueError("daily_limit cannot be larger than monthly_limit")
        return self


@dataclass
class SetupInput:
    """Validated setup data and the notes to show about it."""

    setup: AccountSetup
    notes: list[str] = field(default_factory=list)


def _first_error(exc: PydanticValidationError, source: str | None) -> ValidationError:
    error = exc.errors()[0]
    loc = ".".join(str(p) for p in error["loc"]) or "setup"
    kind = error["type"]
    if kind == "extra_forbidden":
        return ValidationError(loc, "unknown key", "see `waba account setup --help` for the keys", source=source)
    if kind == "missing":
        return ValidationError(loc, "is required", source=source)
    message = str(error["msg"]).removeprefix(_VALUE_ERROR_PREFIX)
    if not error["loc"]:
        first = message.split(" ", 1)[0]
        return ValidationError(first, message.split(" ", 1)[1] if " " in message else message, source=source)
    return ValidationError(loc, message, source=source)


def read_data_file(path: Path) -> dict[str, Any]:
    """A JSON or TOML file as a dict (by extension; otherwise JSON is tried first)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror})") from None
    suffix = path.suffix.lower()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None
    data: Any
    if suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{path}: not valid TOML ({exc})") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            if suffix == ".json":
                raise UsageError(f"{path}: not valid JSON ({exc})") from None
            try:
                data = tomllib.loads(text)
            except tomllib.TOMLDecodeError:
                raise UsageError(f"{path}: neither valid JSON nor TOML") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: must hold one object of setup keys, not a {type(data).__name__}")
    return data


def parse_setup(  # noqa: PLR0912 - one branch per cross-field rule
    data: dict[str, Any], *, region: str | None = None, source: str | None = None, base_dir: Path | None = None
) -> SetupInput:
    """Validate setup data; a bad value raises ``ValidationError`` naming its key."""
    notes: list[str] = []
    data = dict(data)
    if region and isinstance(data.get("phone_number"), str) and not data["phone_number"].strip().startswith("+"):
        try:
            data["phone_number"] = check.phone_number(data["phone_number"], region)
        except ValueError as exc:
            raise ValidationError("phone_number", str(exc), source=source) from None
    try:
        setup = AccountSetup.model_validate(data)
    except PydanticValidationError as exc:
        raise _first_error(exc, source) from None
    updates: dict[str, Any] = {}
    if isinstance(data.get("subscribed_webhook_events"), list):
        notes.extend(check.webhook_fields([str(v) for v in data["subscribed_webhook_events"]])[1])
    if isinstance(data.get("business_vertical"), str) and data["business_vertical"].strip():
        note = check.vertical(data["business_vertical"])[1]
        if note:
            notes.append(note)
    if setup.knowledge_base_path:
        kb = Path(setup.knowledge_base_path).expanduser()
        if not kb.is_absolute() and base_dir is not None:
            kb = base_dir / kb
        if kb.suffix.lower() not in (".toml", ".csv"):
            raise ValidationError("knowledge_base_path", f"{kb} must be a .toml or .csv file", source=source)
        if not kb.is_file():
            raise ValidationError("knowledge_base_path", f"{kb} does not exist", source=source)
        updates["knowledge_base_path"] = str(kb.resolve())
    elif setup.use_knowledge_base:
        notes.append("use_knowledge_base is on but knowledge_base_path is not set: no answers until it is")
    if setup.display_phone_number is None:
        updates["display_phone_number"] = check.display_phone(setup.phone_number)
    if updates:
        setup = setup.model_copy(update=updates)
    return SetupInput(setup, notes)


# -- live verification -----------------------------------------------------------------------


@dataclass
class Verification:
    """What Meta says about the credentials, WABA and number of a setup."""

    token_type: str | None = None
    token_expires_at: datetime | None = None
    scopes: list[str] = field(default_factory=list)
    waba: dict[str, Any] = field(default_factory=dict)
    phone: dict[str, Any] = field(default_factory=dict)


async def verify(
    api: GraphAPI, *, waba_id: str, phone_number_id: str, app_id: str, app_secret: str, access_token: str
) -> Verification:
    """Check the token (valid, this app's, scoped to the WABA), the WABA, and that the number is in it."""
    try:
        token = await api.debug_token(access_token, app_id=app_id, app_secret=app_secret)
    except AuthError as exc:
        raise ValidationError(
            "app_secret",
            f"Meta rejected the app id and secret ({exc.message})",
            "check app_id and app_secret under App settings > Basic",
        ) from None
    if not token.get("is_valid"):
        reason = (token.get("error") or {}).get("message", "expired or revoked")
        raise ValidationError(
            "access_token",
            f"Meta says the token is not valid: {reason}",
            "create a new system-user token in Business Settings",
        )
    if str(token.get("app_id", app_id)) != app_id:
        raise ValidationError("access_token", f"the token belongs to app {token.get('app_id')}, not to {app_id}")
    scopes = [str(s) for s in token.get("scopes", [])]
    missing = [s for s in NEEDED_SCOPES if s not in scopes]
    if missing:
        raise ValidationError("access_token", f"the token lacks the permission(s) {', '.join(missing)}")
    for grant in token.get("granular_scopes", []):
        targets = [str(t) for t in grant.get("target_ids", [])]
        if grant.get("scope") in NEEDED_SCOPES and targets and waba_id not in targets:
            raise ValidationError("waba_id", f"the token's {grant['scope']} permission does not cover WABA {waba_id}")
    expires = int(token.get("expires_at") or 0)
    result = Verification(
        token_type=token.get("type"),
        token_expires_at=datetime.fromtimestamp(expires, UTC) if expires else None,
        scopes=scopes,
    )
    try:
        result.waba = dict(await api.get_waba(waba_id))
        numbers = [dict(n) for n in await api.list_phone_numbers(waba_id)]
    except GraphError as exc:
        if exc.code in (100, 10) or (exc.code is not None and 200 <= exc.code <= 299):
            raise ValidationError(
                "waba_id", f"Meta cannot find WABA {waba_id} for this token ({exc.message})"
            ) from None
        raise
    phone = next((n for n in numbers if str(n.get("id")) == phone_number_id), None)
    if phone is None:
        known = ", ".join(str(n.get("id")) for n in numbers) or "none"
        raise ValidationError(
            "phone_number_id", f"{phone_number_id} is not a number of WABA {waba_id} (it has: {known})"
        )
    result.phone = phone
    return result


def verify_setup(ctx: CommandContext, setup: AccountSetup) -> Verification:
    """Verify a new account's credentials with Meta before it is saved."""
    from waba_cli.graph.client import Credentials
    from waba_cli.services.context import run

    async def check() -> Verification:
        async with ctx.graph(Credentials(setup.access_token, setup.app_id, setup.app_secret)) as api:
            return await verify(
                api,
                waba_id=setup.waba_id,
                phone_number_id=setup.phone_number_id,
                app_id=setup.app_id,
                app_secret=setup.app_secret,
                access_token=setup.access_token,
            )

    return run(check)


def verify_account(ctx: CommandContext, ref: str | None) -> tuple[Account, Verification]:
    """Verify a stored account with Meta and record what Meta says (token expiry, statuses)."""
    from waba_cli.services.context import run

    with ctx.db.session() as session:
        account = resolve_account(session, ref)
        numbers = numbers_of(session, account)
    creds = ctx.credentials(account)
    number = next((n for n in numbers if n.is_default), numbers[0] if numbers else None)
    phone_number_id = number.phone_number_id if number else ""

    async def check() -> Verification:
        async with ctx.graph(creds, account.id) as api:
            return await verify(
                api,
                waba_id=account.waba_id,
                phone_number_id=phone_number_id,
                app_id=account.app_id,
                app_secret=creds.app_secret or "",
                access_token=creds.access_token,
            )

    result = run(check)
    with ctx.db.transaction() as session:
        fresh = get_account(session, account.name)
        apply_verification(fresh, result)
        session.add(fresh)
        for row in numbers_of(session, fresh):
            if row.phone_number_id == phone_number_id:
                apply_phone_fields(row, result.phone)
                session.add(row)
    return fresh, result


# -- storing -----------------------------------------------------------------------------------


def ensure_new(session: Session, setup: AccountSetup, source: str | None = None) -> None:
    """Refuse a setup whose name, WABA or number is already configured."""
    existing = session.exec(
        select(Account).where((col(Account.name) == setup.name) | (col(Account.waba_id) == setup.waba_id))
    ).first()
    if existing is not None:
        key = "name" if existing.name == setup.name else "waba_id"
        raise ValidationError(
            key,
            f"account {existing.name} (WABA {existing.waba_id}) is already set up",
            f"change it with `waba account update {existing.name}`",
            source=source,
        )
    number = session.exec(select(PhoneNumber).where(PhoneNumber.phone_number_id == setup.phone_number_id)).first()
    if number is not None:
        raise ValidationError(
            "phone_number_id", f"{setup.phone_number_id} already belongs to another account", source=source
        )


def create_account(
    session: Session, cipher: Cipher, setup: AccountSetup, verification: Verification | None = None
) -> Account:
    """Add the account and its first number to ``session`` (the caller's transaction commits)."""
    from waba_cli.secrets import mask

    plain = setup.model_dump(exclude={*SECRET_KEYS, "phone_number_id", "phone_number", "display_phone_number"})
    account = Account(
        **plain,
        app_secret_enc=cipher.encrypt(setup.app_secret),
        access_token_enc=cipher.encrypt(setup.access_token),
        access_token_mask=mask(setup.access_token),
        webhook_verify_token_enc=cipher.encrypt(setup.webhook_verify_token) if setup.webhook_verify_token else None,
    )
    number = PhoneNumber(
        account_id=0,
        phone_number_id=setup.phone_number_id,
        phone_number=setup.phone_number,
        display_phone_number=setup.display_phone_number,
        is_default=True,
    )
    if verification is not None:
        apply_verification(account, verification)
        apply_phone_fields(number, verification.phone)
    session.add(account)
    session.flush()
    assert account.id is not None
    number.account_id = account.id
    session.add(number)
    session.flush()
    return account


def apply_verification(account: Account, verification: Verification) -> None:
    waba = verification.waba
    account.token_type = verification.token_type
    account.token_expires_at = verification.token_expires_at
    account.token_scopes = verification.scopes
    account.status = waba.get("status", account.status)
    account.account_review_status = waba.get("account_review_status", account.account_review_status)
    account.business_verification_status = waba.get(
        "business_verification_status", account.business_verification_status
    )
    account.currency = waba.get("currency", account.currency)
    account.timezone_id = waba.get("timezone_id", account.timezone_id)
    account.verified_at = utcnow()
    account.updated_at = utcnow()


def apply_phone_fields(number: PhoneNumber, data: dict[str, Any]) -> None:
    """Copy Meta's phone-number fields (reference §4.1) onto the local row."""
    throughput = data.get("throughput") or {}
    number.display_phone_number = data.get("display_phone_number") or number.display_phone_number
    number.verified_name = data.get("verified_name", number.verified_name)
    number.quality_rating = data.get("quality_rating", number.quality_rating)
    number.status = data.get("status", number.status)
    number.code_verification_status = data.get("code_verification_status", number.code_verification_status)
    number.name_status = data.get("name_status", number.name_status)
    number.messaging_limit = (
        data.get("whatsapp_business_manager_messaging_limit")
        or data.get("messaging_limit_tier")
        or number.messaging_limit
    )
    number.throughput_level = throughput.get("level", number.throughput_level)
    number.is_on_biz_app = data.get("is_on_biz_app", number.is_on_biz_app)
    number.platform_type = data.get("platform_type", number.platform_type)
    number.account_mode = data.get("account_mode", number.account_mode)
    number.is_pin_enabled = data.get("is_pin_enabled", number.is_pin_enabled)
    number.synced_at = utcnow()
    number.updated_at = utcnow()


# -- updating ----------------------------------------------------------------------------------

UPDATABLE = tuple(
    k
    for k in AccountSetup.model_fields
    if k not in (*SECRET_KEYS, "waba_id", "phone_number_id", "phone_number", "display_phone_number")
)


def parse_assignments(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs as setup values (JSON literals allowed: true, 100, ["messages"])."""
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValidationError(pair, "expected KEY=VALUE")
        if key in SECRET_KEYS:
            raise ValidationError(
                key,
                "is a secret and cannot be given on the command line",
                f"use --secret {key} (hidden prompt) or --from-file F",
            )
        if key not in UPDATABLE:
            raise ValidationError(key, "cannot be changed with --set", f"settable keys: {', '.join(UPDATABLE)}")
        values[key] = _literal(raw, key)
    return values


def _literal(raw: str, key: str) -> Any:
    field_type = AccountSetup.model_fields[key].annotation
    if raw == "" and key not in ("name",):
        return None
    if field_type in (str, str | None):
        return raw
    if key == "subscribed_webhook_events" and not raw.startswith("["):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if key in ("business_hours_start", "business_hours_end"):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def update_account(
    session: Session, cipher: Cipher | None, account: Account, values: dict[str, Any], *, source: str | None = None
) -> list[str]:
    """Validate ``values`` against the whole setup and apply them; returns the names changed."""
    from waba_cli.secrets import mask

    unknown = [k for k in values if k not in AccountSetup.model_fields]
    if unknown:
        raise ValidationError(unknown[0], "unknown key", source=source)
    fixed = [k for k in values if k in ("waba_id", "phone_number_id", "phone_number", "display_phone_number")]
    if fixed:
        raise ValidationError(fixed[0], "cannot be changed on an existing account", source=source)
    current: dict[str, Any] = {k: getattr(account, k) for k in UPDATABLE}
    # secrets are validated with placeholders that pass, unless being replaced
    current.update(
        app_secret="0" * 32,
        access_token="x" * 32,
        waba_id=account.waba_id,
        phone_number_id="1",
        phone_number="+15550000000",
        app_id=account.app_id,
    )
    merged = {**current, **values}
    validated = parse_setup(merged, source=source).setup
    if "name" in values and validated.name != account.name and find_account(session, validated.name):
        raise ValidationError("name", f"another account is already named {validated.name!r}", source=source)
    changed: list[str] = []
    for key in values:
        new = getattr(validated, key)
        if key in SECRET_KEYS:
            if cipher is None:
                raise UsageError("changing a secret needs the encryption key")
            setattr(account, f"{key}_enc", cipher.encrypt(new) if new else None)
            if key == "access_token":
                account.access_token_mask = mask(new)
        elif getattr(account, key) != new:
            setattr(account, key, new)
        changed.append(key)
    account.updated_at = utcnow()
    session.add(account)
    return changed
