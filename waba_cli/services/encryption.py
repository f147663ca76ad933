"""Setting waba up on a machine (``init``) and looking after the encryption key.

``init`` never replaces an existing key: losing it makes every stored secret unreadable.
``rotate_key`` re-encrypts every secret in one transaction. While it runs, the key store holds the
new key *and* the old one (MultiFernet), so a crash at any point leaves every secret readable;
only after the commit is the old key dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from waba_cli import private
from waba_cli.db.engine import open_database
from waba_cli.db.models.accounts import Account, PhoneNumber
from waba_cli.errors import KeyUnavailableError, UsageError
from waba_cli.secrets import (
    DROPPED,
    KEYRING_LOCATION,
    PENDING_FILE_NAME,
    KeyFileMissingError,
    KeyMaterial,
    find_key,
    keyring_available,
    new_key,
    store_keys,
    write_key_file,
)
from waba_cli.services.accounts.store import count_secrets
from waba_cli.settings import Settings

if TYPE_CHECKING:
    from waba_cli.services.context import CommandContext

KEY_FILE_NAME = "encryption.key"
CONFIG_TEMPLATE = """\
# waba configuration. Every setting is documented in config.example.toml.
"""


@dataclass
class InitReport:
    config_path: Path
    config_created: bool
    home: Path
    database: str
    revision: str
    key_source: str
    key_location: str
    key_created: bool
    warnings: list[str] = field(default_factory=list)


def init(settings: Settings) -> InitReport:
    """Create the config file, data directory, database and encryption key where missing.

    The data directory (and the config file's, when waba creates it) is 0700, every file in it 0600.
    """
    private.private_dir(settings.home)
    config_created = False
    if not settings.config_path.exists():
        private.private_dir(settings.config_path.parent)
        private.write_private(settings.config_path, CONFIG_TEMPLATE)
        config_created = True
    db = open_database(settings.database_url, migrate=True, create=True)
    from waba_cli.db.engine import current_revision

    revision = current_revision(db.engine) or ""
    try:
        material = find_key(settings)
    except KeyFileMissingError:
        # a key file named in the config and gone: a new one only while no secret depends on the old one
        with db.session() as session:
            if count_secrets(session):
                raise
        material = None
    finally:
        db.dispose()
    warnings: list[str] = []
    created = False
    if material is None:
        material, warnings = _create_key(settings)
        created = True
    return InitReport(
        settings.config_path,
        config_created,
        settings.home,
        db.url,
        revision,
        material.source,
        material.location,
        created,
        warnings,
    )


def _create_key(settings: Settings) -> tuple[KeyMaterial, list[str]]:
    """A new key in the OS keyring, or in a 0600 key file where there is none (and a warning saying so)."""
    key = new_key()
    if keyring_available(settings.keyring_timeout):
        return store_keys(KeyMaterial((key,), "keyring", KEYRING_LOCATION), (key,), settings), []
    path = settings.key_file or settings.home / KEY_FILE_NAME
    write_key_file(path, (key,))
    if settings.key_file is None:
        _set_key_file(settings.config_path, path)
    warning = (
        f"no OS keyring on this machine: the encryption key was written to {path} (mode 0600). "
        "Anyone who can read that file can decrypt your tokens: back it up safely, or set "
        "WABA_ENCRYPTION_KEY from a secret store instead."
    )
    return KeyMaterial((key,), "file", str(path)), [warning]


def _set_key_file(config_path: Path, key_path: Path) -> None:
    """Record the key file in the config (under [secrets], added if missing)."""
    text = config_path.read_text(encoding="utf-8") if config_path.exists() else ""
    line = f"key_file = {str(key_path)!r}\n".replace("'", '"')
    lines = text.splitlines(keepends=True)
    for index, existing in enumerate(lines):
        if existing.strip() == "[secrets]":
            lines.insert(index + 1, line)
            break
    else:
        lines.append(("\n" if text and not text.endswith("\n\n") else "") + "[secrets]\n" + line)
    private.write_private(config_path, "".join(lines), atomic=True)


@dataclass
class StoredSecret:
    """One encrypted value in the database, named for the operator."""

    account: str
    name: str  # access_token, app_secret, webhook_verify_token, or "pin of +1 555 ..."
    token: str

    @property
    def label(self) -> str:
        return f"{self.name} of {self.account}"


def stored_secrets(session: Session) -> list[StoredSecret]:
    """Every encrypted value: the accounts' tokens and secrets, the numbers' PINs (dropped ones too)."""
    found: list[StoredSecret] = []
    for account in session.exec(select(Account).order_by(col(Account.name))).all():
        found.append(StoredSecret(account.name, "access_token", account.access_token_enc))
        found.append(StoredSecret(account.name, "app_secret", account.app_secret_enc))
        if account.webhook_verify_token_enc is not None:
            found.append(StoredSecret(account.name, "webhook_verify_token", account.webhook_verify_token_enc))
    pinned = select(PhoneNumber, Account).join(Account).where(col(PhoneNumber.pin_enc).is_not(None))
    for number, account in session.exec(pinned).all():
        found.append(StoredSecret(account.name, f"PIN of {number.phone_number}", number.pin_enc or ""))
    return found


def _readable(material: KeyMaterial | None, secret: StoredSecret) -> bool:
    from waba_cli.secrets import Cipher

    if material is None or secret.token == DROPPED:
        return False
    try:
        Cipher(material).decrypt(secret.token)
    except UsageError:
        return False
    return True


@dataclass
class KeyStatus:
    source: str | None
    location: str | None
    keys: int
    secrets: int
    accounts: int
    readable: bool
    unreadable: list[str] = field(default_factory=list)  # "access_token of acme", ...
    dropped: list[str] = field(default_factory=list)  # dropped by `secrets reset`, to be given again
    problem: str | None = None  # why there is no key (the key file is gone ...)


def status(ctx: CommandContext) -> KeyStatus:
    """`waba secrets status`: where the key is, and whether it reads every stored secret."""
    problem = None
    try:
        material = find_key(ctx.settings)
    except KeyUnavailableError as exc:
        material, problem = None, exc.message
    with ctx.db.session() as session:
        accounts = len(session.exec(select(Account.id)).all())
        secrets = stored_secrets(session)
    dropped = [s.label for s in secrets if s.token == DROPPED]
    unreadable = [s.label for s in secrets if s.token != DROPPED and not _readable(material, s)]
    return KeyStatus(
        material.source if material else None,
        material.location if material else None,
        len(material.keys) if material else 0,
        len(secrets) - len(dropped),
        accounts,
        material is not None and not unreadable and not dropped,
        unreadable,
        dropped,
        problem,
    )


@dataclass
class ResetPlan:
    """What `waba secrets reset` would drop, and whether it needs a new key."""

    unreadable: list[StoredSecret]
    location: str | None  # the key kept, or None when a new one is created
    problem: str | None


@dataclass
class ResetReport:
    dropped: dict[str, list[str]]  # account -> names of the secrets dropped
    source: str
    location: str
    key_created: bool
    warnings: list[str] = field(default_factory=list)


def plan_reset(ctx: CommandContext) -> ResetPlan:
    """The secrets the current key cannot read (all of them when there is no key)."""
    problem = None
    try:
        material = find_key(ctx.settings)
    except KeyFileMissingError as exc:
        material, problem = None, exc.message
    with ctx.db.session() as session:
        secrets = stored_secrets(session)
    unreadable = [s for s in secrets if s.token != DROPPED and not _readable(material, s)]
    return ResetPlan(unreadable, material.location if material else None, problem)


def reset(ctx: CommandContext) -> ResetReport:
    """`waba secrets reset`: drop the secrets the key cannot read; create a key when there is none.

    A key that reads some secrets is kept (the readable ones stay); a key file that is gone is
    replaced by a new one. A dropped secret reads as "dropped, give it again" everywhere.
    """
    settings = ctx.settings
    try:
        material = find_key(settings)
    except KeyFileMissingError:
        material = None
    warnings: list[str] = []
    created = material is None
    if material is None:
        material, warnings = _create_key(settings)
    dropped: dict[str, list[str]] = {}

    def drop(account: str, name: str) -> None:
        dropped.setdefault(account, []).append(name)

    from waba_cli.secrets import Cipher

    cipher = Cipher(material)

    def lost(token: str | None) -> bool:
        if not token:
            return False
        try:
            cipher.decrypt(token)
        except UsageError:
            return True
        return False

    with ctx.db.transaction() as session:
        for account in session.exec(select(Account).with_for_update()).all():
            if lost(account.access_token_enc):
                account.access_token_enc = DROPPED
                account.access_token_mask = "(dropped)"  # noqa: S105 - a label, not a secret
                drop(account.name, "access_token")
            if lost(account.app_secret_enc):
                account.app_secret_enc = DROPPED
                drop(account.name, "app_secret")
            if lost(account.webhook_verify_token_enc):
                account.webhook_verify_token_enc = DROPPED
                drop(account.name, "webhook_verify_token")
            session.add(account)
        pinned = select(PhoneNumber, Account).join(Account).where(col(PhoneNumber.pin_enc).is_not(None))
        for number, account in session.exec(pinned).all():
            if lost(number.pin_enc):
                number.pin_enc = None
                drop(account.name, f"PIN of {number.phone_number}")
                session.add(number)
    return ResetReport(dropped, material.source, material.location, created, warnings)


@dataclass
class RotationReport:
    secrets: int
    source: str
    location: str
    pending_file: Path | None = None


def rotate_key(ctx: CommandContext) -> RotationReport:
    """`waba secrets rotate-key`: encrypt every secret with a new key; see the module docstring for the
    crash-safety order."""
    from waba_cli.secrets import Cipher

    settings, material = ctx.settings, ctx.key()
    fresh = new_key()
    combined = KeyMaterial((fresh, *material.keys), material.source, material.location)
    cipher = Cipher(combined)
    pending: Path | None = None
    count = 0
    with ctx.db.transaction() as session:
        for account in session.exec(select(Account).with_for_update()).all():
            for column in ("access_token_enc", "app_secret_enc"):
                if getattr(account, column) != DROPPED:  # dropped by `secrets reset`: nothing to rotate
                    setattr(account, column, cipher.rotate(getattr(account, column)))
                    count += 1
            if account.webhook_verify_token_enc:
                account.webhook_verify_token_enc = cipher.rotate(account.webhook_verify_token_enc)
                count += 1
            session.add(account)
        pinned = select(PhoneNumber).where(col(PhoneNumber.pin_enc).is_not(None)).with_for_update()
        for number in session.exec(pinned).all():
            number.pin_enc = cipher.rotate(number.pin_enc or "")
            count += 1
            session.add(number)
        session.flush()
        if material.source == "env":
            # the environment cannot be written: leave both keys in a file for the operator to move
            pending = settings.home / PENDING_FILE_NAME
            write_key_file(pending, combined.keys)
        else:
            store_keys(material, combined.keys, settings)
    if material.source != "env":
        store_keys(material, (fresh,), settings)
    return RotationReport(count, material.source, material.location, pending)
