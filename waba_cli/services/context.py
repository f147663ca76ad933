"""The run-time context of one command: settings, database, encryption key, Graph access, the account.

Each part is opened on first use, so a command pays only for what it touches: ``account list``
opens the database and nothing else; only commands that decrypt load the key (and cryptography);
only commands that talk to Meta import httpx.

The account a command acts on is resolved here and nowhere else, in one order: the command's own
ACC argument, ``--account``, ``WABA_ACCOUNT``, ``defaults.account`` (all in ``Settings.account``),
then the account chosen with `waba account use`, then the only one. Services read ``ctx.account``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from waba_cli.db.engine import Database, open_database
from waba_cli.settings import Settings

if TYPE_CHECKING:
    from waba_cli.db.models.accounts import Account
    from waba_cli.graph.api import GraphAPI
    from waba_cli.graph.client import CallRecord, Credentials
    from waba_cli.secrets import Cipher, KeyMaterial

T = TypeVar("T")


class CommandContext:
    """Lazily opened resources for one command run."""

    # Tests set this to a mock httpx transport (respx); None means real HTTP.
    transport: ClassVar[Any] = None
    # Tests set this to {"clock": ..., "sleep": ...}: the Graph client's retries and deadline on a fake clock.
    timing: ClassVar[dict[str, Any]] = {}

    def __init__(self, settings: Settings, *, dry_run: bool = False) -> None:
        self.settings = settings
        self.dry_run = dry_run
        self._db: Database | None = None
        self._key: KeyMaterial | None = None
        self._cipher: Cipher | None = None
        self._account_ref = settings.account
        self._account: Account | None = None
        # hears of every Graph retry not watched by the command itself (cli/ shows them on a terminal)
        self.retry_observer: Callable[[Exception, int, float], None] | None = None

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = open_database(self.settings.database_url, create=False)
        return self._db

    def name_account(self, ref: str | None, *, over_flag: bool = True) -> None:
        """The command names the account (name or WABA id) before it is looked up.

        An ACC argument outranks ``--account``; a file's account (``over_flag=False``: a template
        file's ``waba_account``) outranks ``WABA_ACCOUNT`` and the config, but not ``--account``.
        """
        if ref and (over_flag or not self.settings.account_from_flag):
            self._account_ref = ref
            self._account = None

    @property
    def account(self) -> Account:
        """The account the command acts on, looked up on first use.

        The one named (see the module docstring), else the default, else the only one; a usage
        error when the one named does not exist, when none is set up, or when several are and none is chosen.
        """
        if self._account is None:
            from waba_cli.services.accounts.store import resolve_account

            with self.db.session() as session:
                self._account = resolve_account(session, self._account_ref)
            from waba_cli.db.audit import note_account

            note_account(self._account.id)
        return self._account

    @property
    def named_account(self) -> Account | None:
        """The account if one is named, else None (for commands that otherwise cover every account)."""
        return self.account if self._account_ref else None

    def key(self) -> KeyMaterial:
        if self._key is None:
            from waba_cli.secrets import require_key

            self._key = require_key(self.settings)
        return self._key

    def reload_key(self) -> KeyMaterial:
        """Read the key again where it lives (a long-running process, after `waba secrets rotate-key`).

        A key from the environment cannot change under a running process: the keys the rotation
        left in the data directory are added to it (``find_key(with_pending=True)``).
        """
        from waba_cli.secrets import require_key

        self._key = require_key(self.settings, with_pending=True)
        self._cipher = None
        return self._key

    def cipher(self) -> Cipher:
        if self._cipher is None:
            from waba_cli.secrets import Cipher

            self._cipher = Cipher(self.key())
        return self._cipher

    def credentials(self, account: Account) -> Credentials:
        from waba_cli.graph.client import Credentials

        return Credentials(
            access_token=self.decrypt(account.access_token_enc, f"the access token of {account.name}"),
            app_id=account.app_id,
            app_secret=self.decrypt(account.app_secret_enc, f"the app secret of {account.name}"),
        )

    def decrypt(self, token: str, what: str) -> str:
        """A stored secret in clear; when the key in hand cannot read it, the key is read again first
        (a process that outlived `waba secrets rotate-key`: serve-webhook's auto-replies)."""
        from waba_cli.errors import KeyUnavailableError

        try:
            return self.cipher().decrypt(token, what)
        except KeyUnavailableError:
            before = self.key().keys
            if self.reload_key().keys == before:
                raise
            return self.cipher().decrypt(token, what)

    def run_graph(self, account: Account, call: Callable[[GraphAPI], Awaitable[T]]) -> T:
        """Run ``call`` in a Graph session with the account's credentials (its calls logged to the account)."""
        credentials = self.credentials(account)

        async def go() -> T:
            async with self.graph(credentials, account.id) as api:
                return await call(api)

        return run(go)

    @asynccontextmanager
    async def graph(
        self,
        credentials: Credentials | None,
        account_id: int | None = None,
        *,
        on_retry: Callable[[Exception, int, float], None] | None = None,
        **options: Any,
    ) -> AsyncIterator[GraphAPI]:
        """A Graph API session; every call made through it is logged to ``api_call`` at the end.

        ``on_retry(failure, attempt, delay)`` hears of each retry before its wait (``GraphClient``;
        default: ``retry_observer``);
        ``options`` override the ``[graph]`` settings (``timeout``, ``max_retries``: `health check`).
        """
        from waba_cli.graph.api import GraphAPI
        from waba_cli.graph.client import GraphClient

        calls: list[CallRecord] = []
        options = {**self.timing, **options}
        client = GraphClient.from_settings(
            self.settings,
            credentials,
            transport=self.transport,
            dry_run=self.dry_run,
            on_call=calls.append,
            on_retry=on_retry or self.retry_observer,
            **options,
        )
        try:
            async with client:
                yield GraphAPI(client)
        finally:
            if calls:
                self._record_calls(calls, account_id)

    def _record_calls(self, calls: list[CallRecord], account_id: int | None) -> None:
        from waba_cli.db.models.logs import ApiCall

        with self.db.transaction() as session:
            session.add_all(
                ApiCall(
                    account_id=account_id,
                    at=c.at,
                    method=c.method,
                    endpoint=c.endpoint,
                    status_code=c.status_code,
                    latency_ms=c.latency_ms,
                    error_code=c.error_code,
                    attempt=c.attempt,
                )
                for c in calls
            )

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
            self._db = None


def run(coroutine_factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run an async service call from a synchronous command."""
    return asyncio.run(coroutine_factory())
