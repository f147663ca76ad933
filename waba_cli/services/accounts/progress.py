"""The answers of an interrupted setup wizard, kept for `waba account setup --resume`.

Written after every answer, so Ctrl-C (or a closed terminal) at any step costs nothing already
typed. Plain answers are JSON; the secrets (app secret, access token, verify token) are encrypted
with waba's key like every stored secret, never written in plaintext. The file is the operator's
alone (0600, in a 0700 directory under the data directory) and is removed once the account is saved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from waba_cli import private
from waba_cli.db.timestamps import utcnow
from waba_cli.domain import setup_steps as steps
from waba_cli.domain.documents import loads_json
from waba_cli.errors import UsageError
from waba_cli.files import read_text

if TYPE_CHECKING:
    from waba_cli.secrets import Cipher
    from waba_cli.settings import Settings

FORMAT = 1
DIRECTORY = "setup"
FILE = "in-progress.json"


@dataclass
class Progress:
    """Where the wizard was: its answers so far and the step to continue at."""

    answers: dict[str, Any] = field(default_factory=dict)
    step: int = 1
    choices: dict[str, Any] = field(default_factory=dict)  # the wizard's own decisions (register, push profile)
    saved_at: datetime | None = None
    lost_secrets: list[str] = field(default_factory=list)  # encrypted with a key waba no longer has


def path_of(settings: Settings) -> Path:
    return settings.home / DIRECTORY / FILE


def save(settings: Settings, cipher: Cipher, progress: Progress) -> Path:
    """Write ``progress`` atomically; secrets encrypted, the file 0600 in a 0700 directory."""
    plain = {k: _jsonable(v) for k, v in progress.answers.items() if k not in steps.SECRET_KEYS}
    secret = {k: cipher.encrypt(str(v)) for k, v in progress.answers.items() if k in steps.SECRET_KEYS and v}
    document = {
        "format": FORMAT,
        "step": progress.step,
        "answers": plain,
        "secrets": secret,
        "choices": progress.choices,
        "saved_at": utcnow().isoformat(),
    }
    path = path_of(settings)
    private.private_dir(path.parent)
    private.write_private(path, json.dumps(document, indent=2), atomic=True)
    return path


def load(settings: Settings, cipher: Cipher) -> Progress | None:
    """The saved progress, or None when there is none (or it cannot be read)."""
    from waba_cli.errors import KeyUnavailableError

    path = path_of(settings)
    try:
        document = loads_json(read_text(path), str(path))
    except (OSError, ValueError, UsageError):
        return None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return None
    answers = {k: v for k, v in (document.get("answers") or {}).items() if k in steps.BY_NAME}
    lost = []
    for key, token in (document.get("secrets") or {}).items():
        if key not in steps.SECRET_KEYS:
            continue
        try:
            answers[key] = cipher.decrypt(str(token), f"the saved {key}")
        except KeyUnavailableError:
            lost.append(key)  # another key encrypted it (rotated or replaced): asked again
    saved_at = document.get("saved_at")
    return Progress(
        answers=answers,
        step=int(document.get("step") or 1),
        choices=dict(document.get("choices") or {}),
        saved_at=datetime.fromisoformat(saved_at) if isinstance(saved_at, str) else None,
        lost_secrets=lost,
    )


def exists(settings: Settings) -> bool:
    return path_of(settings).is_file()


def clear(settings: Settings) -> None:
    path_of(settings).unlink(missing_ok=True)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value
