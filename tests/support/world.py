"""What every test's world is made of: the repository and its sample files, the seed's account
setup, a keyring in memory, and waba run in this process. The root conftest's fixtures build the
world from these; tests import them where they need the values themselves."""

from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from keyring.backend import KeyringBackend

from waba_cli.app import run

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "tests" / "fixtures"
# the Graph API base URL every command gets: it cannot be reached, a test's mock answers instead
GRAPH = "http://127.0.0.1:9/v23.0"

# The seed's setup example with its placeholders replaced by realistic values.
SEED_SETUP: dict[str, Any] = {
    "name": "My Business WhatsApp",
    "waba_id": "123456789012345",
    "meta_business_account_id": "987654321098765",
    "app_id": "670843887433847",
    "app_secret": "3f6c1d9e8b7a4c2d1e0f9a8b7c6d5e4f",
    "phone_number_id": "109283746501928",
    "phone_number": "+1 555 013 4567",
    "display_phone_number": "+1 (555) 013-4567",
    "access_token": "EAAGm0PX4ZCpsBAKZCyZBqZAt3vZBZCpLmnOpQrStUvWxYz0123456789abcdefGHIJ",
    "webhook_verify_token": "verify-7f3a9c2e51b8",
    "business_name": "My Insurance Company",
    "business_description": "Leading insurance provider",
    "business_email": "contact@mycompany.com",
    "business_vertical": "Insurance",
    "business_address": "123 Business St, City, State",
    "enable_auto_reply": True,
    "use_knowledge_base": True,
    "greeting_message": "Hello! How can I help you today?",
    "fallback_message": "I'm sorry, I didn't understand. Can you rephrase?",
    "enable_business_hours": True,
    "business_hours_start": "09:00:00",
    "business_hours_end": "17:00:00",
    "business_timezone": "UTC",
    "webhook_url": "https://yourdomain.com/api/whatsapp/webhook/webhook/",
    "subscribed_webhook_events": ["messages", "message_deliveries", "message_reads"],
}
SECRETS = ("access_token", "app_secret", "webhook_verify_token")


class MemoryKeyring(KeyringBackend):
    """A keyring that keeps passwords in a dict (stands in for the OS keyring)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def invoke(*args: str, stdin: str = "") -> Result:
    """Run waba in this process, as the console script would, capturing its output."""
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdout, sys.stderr, sys.stdin
    sys.stdout, sys.stderr, sys.stdin = out, err, io.StringIO(stdin)
    try:
        code = run(list(args))
    finally:
        sys.stdout, sys.stderr, sys.stdin = old
    return Result(code, out.getvalue(), err.getvalue())


class Terminal(io.StringIO):
    """Standard output as a terminal would be (Rich reads its size from COLUMNS and LINES)."""

    def isatty(self) -> bool:
        return True


def on_a_terminal(*args: str, columns: int = 100, lines: int = 40, pager: str | None = None) -> Result:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLUMNS", str(columns))
        patch.setenv("LINES", str(lines))
        patch.setenv("NO_COLOR", "1")
        if pager is not None:
            patch.setenv("PAGER", pager)
        stdout, stderr = Terminal(), io.StringIO()
        patch.setattr(sys, "stdout", stdout)
        patch.setattr(sys, "stderr", stderr)
        code = run(list(args))
    return Result(code, stdout.getvalue(), stderr.getvalue())
