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

from sqlmodel import col, select

from waba_cli import private
from waba_cli.db.engine import open_database
from waba_cli.db.models.accounts import Account, PhoneNumber
from waba_cli.errors import UsageError
from waba_cli.secrets import (
    KEYRING_LOCATION,
    KeyMaterial,
    find_key,
    keyring_available,
    new_key,
    store_keys,
    write_key_file,
)
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
    db.dispose()

    warnings: list[str] = []
    material = find_key(settings)
    created = False
    if material is None:
        key = new_key()
        if keyring_available(settings.keyring_timeout):
            material = store_keys(KeyMaterial((key,), "keyring", KEYRING_LOCATION), (key,), settings)
        else:
            path = settings.home / KEY_FILE_NAME
            write_key_file(path, (key,))
            _set_key_file(settings.config_path, path)
            material = KeyMaterial((key,), "file", str(path))
            warnings.append(
                f"no OS keyring on this machine: the encryption key was written to {path} (mode 0600). "
                "Anyone who can read that file can decrypt your tokens: back it up safely, or set "
                "WABA_ENCRYPTION_KEY from a secret store instead."
            )
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
class KeyStatus:
    source: str | None
    location: str | None
    keys: int
    secrets: int
    accounts: int
    readable: bool


def status(ctx: CommandContext) -> KeyStatus:
    """`waba secrets status`: where the key is, and whether it reads the stored secrets."""
    from waba_cli.secrets import Cipher
    from waba_cli.services.accounts.store import count_secrets

    material = find_key(ctx.settings)
    with ctx.db.session() as session:
        accounts = session.exec(select(Account)).all()
        secrets = count_secrets(session)
    readable = True
    if material is not None and accounts:
        cipher = Cipher(material)
        try:
            for account in accounts:
                cipher.decrypt(account.access_token_enc)
        except UsageError:
            readable = False
    return KeyStatus(
        material.source if material else None,
        material.location if material else None,
        len(material.keys) if material else 0,
        secrets,
        len(accounts),
        readable and material is not None,
    )


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
            account.access_token_enc = cipher.rotate(account.access_token_enc)
            account.app_secret_enc = cipher.rotate(account.app_secret_enc)
            count += 2
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
            pending = settings.home / "encryption.key.new"
            write_key_file(pending, combined.keys)
        else:
            store_keys(material, combined.keys, settings)
    if material.source != "env":
        store_keys(material, (fresh,), settings)
    return RotationReport(count, material.source, material.location, pending)
