"""Health runs in the database: the previous result of each check, a run and its results, the
transitions as history, and the pruning of old runs.

A check's status change is also written to the account's health log (``source = "check"``, named
by the number for a number's check), so `waba number show` lists it beside sync and webhook events.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, delete, func, select

from waba_cli.db.models.accounts import Account
from waba_cli.db.models.health import HealthResult, HealthRun
from waba_cli.db.models.logs import AccountHealthLog
from waba_cli.db.timestamps import aware
from waba_cli.domain import health as rules


@dataclass(frozen=True)
class Previous:
    """A check's result in the latest run that had it."""

    status: str
    data: dict[str, Any]
    at: datetime


def previous_results(session: Session, accounts: Sequence[Account]) -> dict[tuple[str, str], Previous]:
    """The latest result of every check of these accounts, by (account name, check)."""
    ids = [a.id for a in accounts if a.id is not None]
    if not ids:
        return {}
    latest = (
        select(func.max(HealthResult.id))
        .where(col(HealthResult.account_id).in_(ids))
        .group_by(col(HealthResult.account_id), col(HealthResult.check))
    )
    rows = session.exec(select(HealthResult).where(col(HealthResult.id).in_(latest))).all()
    names = {a.id: a.name for a in accounts}
    return {
        (names.get(row.account_id, row.account_name), row.check): Previous(row.status, row.data or {}, aware(row.at))
        for row in rows
    }


def save_run(
    session: Session,
    started_at: datetime,
    status: str,
    results: Sequence[tuple[Account, rules.Check]],
    changes: Sequence[rules.Change],
) -> HealthRun:
    """The run, each check's result, and each change in the accounts' health logs."""
    run = HealthRun(
        started_at=started_at,
        status=status,
        accounts=len({account.id for account, _ in results}),
        changes=len(changes),
    )
    session.add(run)
    session.flush()
    assert run.id is not None
    changed = {(c.account, c.check) for c in changes}
    for account, check in results:
        session.add(
            HealthResult(
                run_id=run.id,
                account_id=account.id,
                account_name=account.name,
                check=check.name,
                status=check.status,
                detail=check.detail,
                value=check.value,
                cached=check.cached_at is not None,
                data=check.data or None,
                at=started_at,
            )
        )
        if (account.name, check.name) in changed and account.id is not None:
            session.add(
                AccountHealthLog(
                    account_id=account.id,
                    checked_at=started_at,
                    source="check",
                    phone_number_id=check.phone_number_id,
                    check=check.name[:64],
                    status=check.status,
                    detail=check.detail,
                    data={"value": check.value} if check.value is not None else None,
                )
            )
    return run


def prune(session: Session, before: datetime) -> int:
    """Delete runs (and their results) started before ``before``."""
    old = list(session.exec(select(HealthRun.id).where(col(HealthRun.started_at) < before)).all())
    if not old:
        return 0
    session.exec(delete(HealthResult).where(col(HealthResult.run_id).in_(old)))
    session.exec(delete(HealthRun).where(col(HealthRun.id).in_(old)))
    return len(old)


def observations(
    session: Session, since: datetime, *, check: str | None = None, account: Account | None = None
) -> list[rules.Observation]:
    """Every result since ``since`` and, for each check, the last one before it (its state then)."""
    filters: list[Any] = []
    if check:
        filters.append((col(HealthResult.check) == check) | col(HealthResult.check).startswith(f"{check}:"))
    if account is not None:
        filters.append(HealthResult.account_id == account.id)
    recent = session.exec(
        select(HealthResult).where(col(HealthResult.at) >= since, *filters).order_by(col(HealthResult.id))
    ).all()
    before = (
        select(func.max(HealthResult.id))
        .where(col(HealthResult.at) < since, *filters)
        .group_by(col(HealthResult.account_name), col(HealthResult.check))
    )
    earlier = session.exec(select(HealthResult).where(col(HealthResult.id).in_(before))).all()
    return [_observation(row) for row in (*earlier, *recent)]


def _observation(row: HealthResult) -> rules.Observation:
    return rules.Observation(row.account_name, row.check, aware(row.at), row.status, row.detail)


def shown_transitions(found: Iterable[rules.Transition], since: datetime) -> list[rules.Transition]:
    """The transitions inside the window; a check first seen OK is not news."""
    return [t for t in found if t.at >= since and not (t.before is None and t.after == rules.OK)]
