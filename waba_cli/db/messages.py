"""Message rows: the one forward-only status write, and the per-wamid lock taken before it.

Three writers move a message's status: the sender (``services.messaging``: queued, then accepted
or failed), campaign runs (the same in batches, keyed by the attempt's callback data until Meta's
wamid is known) and the webhook store (Meta's statuses in batches, keyed by wamid). All of them
write through ``apply_statuses``: one conditional UPDATE that applies ``domain.statuses`` in the
database, against the row as it is when the write lock is taken, so writers racing on a message end
at its furthest status whatever order they commit in. Per row it writes:

- status and status_at only forward, and the error with them: a forward ``failed`` writes its
  error, any other forward status clears it (a message's error is the one of its status);
- pricing when none is known yet (Meta sends the same with every status that has one);
- callback data and the wamid when the row has none yet (never the one it was found by: an index
  written for nothing would cost every webhook);
- updated_at, always.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import JSON, Text, bindparam, case, func, or_, text, update
from sqlalchemy import cast as sql_cast

from waba_cli.db import bulk
from waba_cli.db.models.base import table_of
from waba_cli.db.models.messages import Message
from waba_cli.domain.statuses import STATUS_RANK, UNRANKED, carries_error

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.sql.dml import Update

MESSAGE = table_of(Message)
# what a status change finds its row by: the row's id (the sender), its wamid (webhooks) or its
# callback data (a campaign's attempt before Meta's answer is recorded)
Key = Literal["id", "wamid", "callback"]
_KEY_COLUMNS: dict[Key, str] = {"id": "id", "wamid": "wamid", "callback": "biz_opaque_callback_data"}


def _status_update(key: Key) -> Update:
    m = MESSAGE.c
    found_by = _KEY_COLUMNS[key]
    forward = case(STATUS_RANK, value=m.status, else_=UNRANKED) < bindparam("b_rank")

    def moved(column: str, parameter: str) -> Any:
        return case((forward, bindparam(parameter, type_=m[column].type)), else_=m[column])

    values: dict[str, Any] = {
        "status": moved("status", "b_status"),
        "status_at": moved("status_at", "b_at"),
        "error_code": moved("error_code", "b_code"),
        "error_title": moved("error_title", "b_title"),
        "error_details": moved("error_details", "b_details"),
        # rows written through the ORM may hold the JSON text 'null' where nothing is known yet
        "pricing": case(
            (
                or_(m.pricing.is_(None), sql_cast(m.pricing, Text) == "null"),
                bindparam("b_pricing", type_=JSON(none_as_null=True)),
            ),
            else_=m.pricing,
        ),
        "updated_at": bindparam("b_now", type_=m.updated_at.type),
    }
    for column, parameter in (("wamid", "b_wamid"), ("biz_opaque_callback_data", "b_biz")):
        if column != found_by:
            values[column] = func.coalesce(m[column], bindparam(parameter, type_=m[column].type))
    return update(MESSAGE).where(m[found_by] == bindparam("b_key", type_=m[found_by].type)).values(values)


# built once each: see bulk's note on reusing statements
_STATUS_UPDATES: dict[Key, Update] = {key: _status_update(key) for key in _KEY_COLUMNS}


def status_update(key: Key) -> Update:
    """The conditional UPDATE of a message's status, for rows made by ``status_change``."""
    return _STATUS_UPDATES[key]


def status_change(
    key: int | str,
    status: str,
    at: datetime,
    now: datetime,
    *,
    wamid: str | None = None,
    error_code: int | None = None,
    error_title: str | None = None,
    error_details: str | None = None,
    pricing: dict[str, Any] | None = None,
    callback_data: str | None = None,
) -> dict[str, Any]:
    """One status for the message found by ``key`` (its id, wamid or callback data), reported ``at``.

    ``status`` must be ranked; the error is kept only for one that carries it (``failed``).
    """
    error = carries_error(status)
    return {
        "b_key": key,
        "b_rank": STATUS_RANK[status],
        "b_status": status,
        "b_at": at,
        "b_code": error_code if error else None,
        "b_title": error_title if error else None,
        "b_details": error_details if error else None,
        "b_pricing": pricing,
        "b_biz": callback_data,
        "b_wamid": wamid,
        "b_now": now,
    }


def apply_statuses(conn: Connection, key: Key, changes: Sequence[Mapping[str, Any]]) -> None:
    """Apply status changes (from ``status_change``) in the caller's transaction."""
    bulk.executemany(conn, _STATUS_UPDATES[key], changes)


# PostgreSQL advisory locks in their own two-key space ("wa", hash of the wamid)
_WAMID_LOCK_SPACE = 0x7761
_LOCK_WAMIDS = text(
    "SELECT pg_advisory_xact_lock(:space, hashtext(w)) FROM unnest(CAST(:wamids AS text[])) AS w"
).bindparams(space=_WAMID_LOCK_SPACE)


def lock_wamids(conn: Connection, wamids: Iterable[str]) -> None:
    """Serialise status writes per wamid until the transaction ends (PostgreSQL; SQLite has one writer).

    A status webhook may race the sender recording the wamid Meta just returned: the webhook's
    UPDATE finds no row with that wamid yet, and the sender's read of ``message_status`` does not
    see the webhook's uncommitted row, so the status would be lost. Both take this lock first;
    whichever comes second then sees what the first committed. Locks are taken in sorted order, so
    two batches never wait on each other in a cycle.
    """
    if conn.dialect.name == "postgresql":
        ordered = sorted(set(wamids))
        if ordered:
            conn.execute(_LOCK_WAMIDS, {"wamids": ordered})
