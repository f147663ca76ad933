"""`waba number doctor`: read the numbers from Meta, then say for each whether it can send and,
if not, why and what to run next (the decision is ``domain.numbers.diagnose``).

A token Meta refuses is the account's problem, reported once, not as every number's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from waba_cli.db.models.accounts import Account
from waba_cli.db.timestamps import utcnow
from waba_cli.domain import numbers as rules
from waba_cli.errors import NotFoundError
from waba_cli.services.numbers.store import facts_of, find_number, numbers_of
from waba_cli.services.numbers.sync import sync_numbers

if TYPE_CHECKING:
    from waba_cli.services.context import CommandContext


@dataclass
class DoctorReport:
    account: Account
    diagnoses: list[rules.Diagnosis]
    defaults: dict[str, bool]  # phone_number_id -> is the sending default
    synced: bool
    problem: rules.Finding | None = None  # about the account (the token), not one number

    @property
    def all_can_send(self) -> bool:
        blocked = self.problem is not None and self.problem.severity == rules.BLOCKED
        return not blocked and all(d.can_send for d in self.diagnoses)


def doctor(ctx: CommandContext, ref: str | None = None, *, sync: bool = True) -> DoctorReport:
    """`waba number doctor`: read the numbers from Meta (unless not ``sync``), then diagnose each."""
    from waba_cli.graph.errors import AuthError, GraphError, GraphNetworkError

    account = ctx.account
    problem: rules.Finding | None = None
    synced = False
    if sync:
        try:
            sync_numbers(ctx)
            synced = True
        except AuthError as exc:
            problem = rules.Finding(
                rules.BLOCKED,
                "token",
                f"Meta refused the account's access token ({exc.message})",
                f"`waba account update {account.name} --secret access_token`",
            )
        except (GraphError, GraphNetworkError) as exc:
            problem = rules.Finding(
                rules.WARNING,
                "not-synced",
                f"the numbers could not be read from Meta ({exc.message}); shown as last synced",
                "try again later",
            )
    now = utcnow()
    with ctx.db.session() as session:
        chosen = [find_number(session, account, ref, ctx.settings.region)] if ref else numbers_of(session, account)
    if not chosen:
        raise NotFoundError(f"account {account.name} has no number", "run `waba number sync`")
    diagnoses = [rules.diagnose(facts_of(n), now) for n in chosen]
    return DoctorReport(account, diagnoses, {n.phone_number_id: n.is_default for n in chosen}, synced, problem)
