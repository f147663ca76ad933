"""The Fernet key, encryption of stored secrets, masking, and key rotation.

Where the key comes from, first match wins:
1. ``WABA_ENCRYPTION_KEY`` (or ``WHATSAPP_ENCRYPTION_KEY``): a Fernet key, several separated by commas
   (the first encrypts, all decrypt), or any secret of at least 32 characters from which a key is
   derived with HKDF-SHA256;
2. the OS keyring, service ``waba-cli``, entry ``encryption-key`` (every call bounded by a timeout,
   because a locked or absent keyring daemon can otherwise hang a cron job forever);
3. the key file named by ``secrets.key_file`` in the config (``waba init`` writes one, mode 0600,
   only when no keyring backend exists).

cryptography and keyring are imported inside the functions that need them, so that read-only
commands never pay for them.
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from waba_cli.errors import KeyUnavailableError, OperationError

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

    from waba_cli.settings import Settings

KEYRING_SERVICE = "waba-cli"
KEYRING_ENTRY = "encryption-key"
ENV_VARS = ("WABA_ENCRYPTION_KEY", "WHATSAPP_ENCRYPTION_KEY")
MIN_PASSPHRASE = 32
_HKDF_INFO = b"waba-cli encryption key v1"

KeySource = Literal["env", "keyring", "file"]
T = TypeVar("T")


def mask(value: str | None) -> str:
    """``EAAG…6789`` for long values, ``…89`` for short ones; never more than 8 characters shown."""
    if not value:
        return ""
    if len(value) >= 16:
        return f"{value[:4]}…{value[-4:]}"
    return "…" + value[-2:] if len(value) > 4 else "…"


NO_KEY_HINT = (
    "set WABA_ENCRYPTION_KEY to a Fernet key (or any secret of 32+ characters), "
    "or run `waba init` to create one in the OS keyring"
)
# the ways out when secrets are stored and the key that encrypted them is gone (never `waba init`:
# it keeps whatever key it finds and cannot bring a lost one back)
LOST_KEY_HINT = (
    "set WABA_ENCRYPTION_KEY to the key the secrets were encrypted with, restore the key file or keyring "
    "entry from a backup, or run `waba secrets reset` to drop the secrets it cannot read and give them again"
)
# what `waba secrets reset` leaves in place of a secret it dropped (NOT NULL columns; nullable ones become NULL)
DROPPED = ""


@dataclass(frozen=True)
class KeyMaterial:
    """The keys in use and where they came from; ``keys[0]`` encrypts, every key decrypts."""

    keys: tuple[bytes, ...]
    source: KeySource
    location: str  # an env var name, "keyring (waba-cli/encryption-key)" or a file path

    def fernet(self) -> MultiFernet:
        from cryptography.fernet import Fernet, MultiFernet

        return MultiFernet([Fernet(key) for key in self.keys])


def _is_fernet_key(value: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(value.encode("ascii"))) == 32 and len(value) == 44
    except (ValueError, UnicodeEncodeError):
        return False


def _derive(passphrase: str) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(passphrase.encode())
    return base64.urlsafe_b64encode(raw)


def parse_keys(value: str, where: str) -> tuple[bytes, ...]:
    """Keys from a stored value: Fernet keys separated by commas, or one long passphrase."""
    value = value.strip()
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if parts and all(_is_fernet_key(part) for part in parts):
        return tuple(part.encode("ascii") for part in parts)
    if len(value) >= MIN_PASSPHRASE:
        return (_derive(value),)
    raise KeyUnavailableError(
        f"the encryption key in {where} is neither a Fernet key nor a secret of at least {MIN_PASSPHRASE} characters",
        NO_KEY_HINT,
    )


def _bounded(call: Callable[[], T], timeout: float, what: str) -> T:
    """Run a keyring call in a daemon thread so a hung keyring daemon cannot hang waba."""
    result: list[T] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            result.append(call())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            error.append(exc)

    worker = threading.Thread(target=run, name="waba-keyring", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError(f"the OS keyring did not answer within {timeout:g} s ({what})")
    if error:
        raise error[0]
    return result[0]


def keyring_available(timeout: float) -> bool:
    """True when a real keyring backend (not the fail/null one) is configured."""
    try:

        def probe() -> bool:
            import keyring
            from keyring.backends import fail

            backend = keyring.get_keyring()
            return not isinstance(backend, fail.Keyring) and float(getattr(backend, "priority", 1)) > 0

        return _bounded(probe, timeout, "finding a backend")
    except Exception:  # noqa: BLE001 - any keyring failure means "no usable keyring"
        return False


def _keyring_get(timeout: float) -> str | None:
    def get() -> str | None:
        import keyring

        value: str | None = keyring.get_password(KEYRING_SERVICE, KEYRING_ENTRY)
        return value

    try:
        return _bounded(get, timeout, "reading the key")
    except Exception:  # noqa: BLE001 - no keyring, locked keyring, timeout: all mean "not there"
        return None


def _keyring_set(value: str, timeout: float) -> None:
    def put() -> None:
        import keyring

        keyring.set_password(KEYRING_SERVICE, KEYRING_ENTRY, value)

    try:
        _bounded(put, timeout, "storing the key")
    except Exception as exc:  # noqa: BLE001
        raise OperationError(f"could not store the key in the OS keyring: {type(exc).__name__}") from None


KEYRING_LOCATION = f"keyring ({KEYRING_SERVICE}/{KEYRING_ENTRY})"


class KeyFileMissingError(KeyUnavailableError):
    """The key file named in the config is gone (`waba init` and `waba secrets reset` may create a new one)."""


# `waba secrets rotate-key` under a key from the environment leaves the new keys here (data directory)
PENDING_FILE_NAME = "encryption.key.new"


def find_key(
    settings: Settings, env: dict[str, str] | None = None, *, with_pending: bool = False
) -> KeyMaterial | None:
    """The key material to use, or None when there is none anywhere.

    ``with_pending`` (a running serve-webhook): a key from the environment also decrypts with the
    keys `secrets rotate-key` left in the data directory for the operator to move into the variable,
    so a process started before the rotation reads what was re-encrypted after it.
    """
    environ = os.environ if env is None else env
    for name in ENV_VARS:
        value = environ.get(name)
        if value:
            keys = parse_keys(value, name)
            pending = settings.home / PENDING_FILE_NAME
            if with_pending and pending.is_file():
                from waba_cli import private

                private.check(pending)
                extra = parse_keys(pending.read_text(encoding="ascii"), str(pending))
                keys += tuple(key for key in extra if key not in keys)
            return KeyMaterial(keys, "env", name)
    stored = _keyring_get(settings.keyring_timeout)
    if stored:
        return KeyMaterial(parse_keys(stored, KEYRING_LOCATION), "keyring", KEYRING_LOCATION)
    if settings.key_file is not None:
        from waba_cli import private

        private.check(settings.key_file)
        try:
            content = settings.key_file.read_text(encoding="ascii")
        except FileNotFoundError:
            raise KeyFileMissingError(
                f"the key file {settings.key_file} named in the config does not exist", LOST_KEY_HINT
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyUnavailableError(f"the key file {settings.key_file} cannot be read: {exc}") from None
        return KeyMaterial(parse_keys(content, str(settings.key_file)), "file", str(settings.key_file))
    return None


def require_key(settings: Settings, *, with_pending: bool = False) -> KeyMaterial:
    key = find_key(settings, with_pending=with_pending)
    if key is None:
        raise KeyUnavailableError("no encryption key found", NO_KEY_HINT)
    return key


def new_key() -> bytes:
    from cryptography.fernet import Fernet

    return Fernet.generate_key()


def write_key_file(path: Path, keys: tuple[bytes, ...]) -> None:
    """Write keys to ``path`` with mode 0600, atomically (a crash leaves the old file or the new one)."""
    from waba_cli import private

    private.private_dir(path.parent)
    private.write_private(path, b",".join(keys) + b"\n", atomic=True)


def store_keys(material: KeyMaterial, keys: tuple[bytes, ...], settings: Settings) -> KeyMaterial:
    """Put ``keys`` where ``material`` came from (keyring or file); env keys cannot be written."""
    if material.source == "keyring":
        _keyring_set(b",".join(keys).decode("ascii"), settings.keyring_timeout)
    elif material.source == "file":
        write_key_file(Path(material.location), keys)
    else:
        raise OperationError("keys from the environment cannot be written back")
    return KeyMaterial(keys, material.source, material.location)


class Cipher:
    """Encrypts and decrypts stored secrets with the key material."""

    def __init__(self, material: KeyMaterial) -> None:
        self.material = material
        self._fernet = material.fernet()

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str, what: str = "a stored secret") -> str:
        from cryptography.fernet import InvalidToken

        if token == DROPPED:
            raise KeyUnavailableError(
                f"{what} is not stored (`waba secrets reset` dropped it)",
                "give it again: waba account update ACC --secret NAME (or --from-file F)",
            )
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise KeyUnavailableError(
                f"cannot decrypt {what}: the encryption key in {self.material.location} is not the one "
                "it was encrypted with",
                "use the key that was in place when the account was set up (see `waba secrets status`), "
                "or run `waba secrets reset` to drop the secrets it cannot read and give them again",
            ) from None

    def rotate(self, token: str) -> str:
        return self._fernet.rotate(token.encode("ascii")).decode("ascii")


def redactor(values: list[str | None]) -> Callable[[str], str]:
    """A function that masks every one of ``values`` in a text (for errors and logs)."""
    secrets = sorted({v for v in values if v and len(v) >= 4}, key=len, reverse=True)

    def redact(text: str) -> str:
        for secret in secrets:
            text = text.replace(secret, mask(secret))
        return text

    return redact


def describe(material: KeyMaterial | None) -> dict[str, Any]:
    if material is None:
        return {"source": None, "location": None, "keys": 0}
    return {"source": material.source, "location": material.location, "keys": len(material.keys)}
