"""Names stored in the database, read for shell completion: accounts, numbers, templates, flows.

A completion runs on every Tab press, so this is the cheapest possible read: a SQLite file is opened
read-only with the standard library (no SQLAlchemy, no migrations, no schema check), and a database
that does not exist is never created. Any other URL goes through SQLAlchemy with a short connect
timeout. Every failure (no database yet, an older schema, a server down) is an empty answer: a
completion must never print an error or prompt.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

Kind = Literal["account", "number", "template", "flow"]

# kind -> (query, parameter count); each row is (value, description). The account filter matches an
# account's name or WABA id (a NULL filter matches every account).
_QUERIES: dict[str, str] = {
    "account": "SELECT name, waba_id FROM account ORDER BY name",
    "number": (
        "SELECT p.phone_number_id, p.phone_number, p.display_phone_number, p.verified_name FROM phone_number p"
        " JOIN account a ON a.id = p.account_id WHERE p.gone_at IS NULL AND (:acc IS NULL OR a.name = :acc"
        " OR a.waba_id = :acc) ORDER BY p.phone_number"
    ),
    "template": (
        "SELECT DISTINCT t.name, t.status FROM message_template t JOIN account a ON a.id = t.account_id"
        " WHERE :acc IS NULL OR a.name = :acc OR a.waba_id = :acc ORDER BY t.name"
    ),
    "flow": (
        "SELECT f.name, f.status FROM flow f JOIN account a ON a.id = f.account_id"
        " WHERE :acc IS NULL OR a.name = :acc OR a.waba_id = :acc ORDER BY f.name"
    ),
}
CONNECT_TIMEOUT_SECONDS = 2


def stored_names(url: str, kind: Kind, account: str | None = None) -> list[tuple[str, str]]:
    """``(value, description)`` pairs of ``kind`` in the database at ``url``; [] when it cannot be read.

    Numbers give two values each: the phone-number id and the E.164 number (both are NUM).
    """
    try:
        rows = _read(url, _QUERIES[kind], {"acc": account or None})
    except Exception:  # noqa: BLE001 - a completion shows nothing rather than an error
        return []
    if kind == "number":
        pairs: list[tuple[str, str]] = []
        for number_id, e164, display, verified in rows:
            label = " ".join(str(part) for part in (display or e164, verified) if part)
            pairs += [(str(e164), f"{verified or ''} ({number_id})".strip()), (str(number_id), label)]
        return pairs
    return [(str(value), str(detail or "")) for value, detail in rows]


def _read(url: str, query: str, params: dict[str, Any]) -> Sequence[Sequence[Any]]:
    if url.startswith("sqlite"):
        return _read_sqlite(url, query, params)
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    connect_args = {"connect_timeout": CONNECT_TIMEOUT_SECONDS} if url.startswith("postgresql") else {}
    engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
    try:
        with engine.connect() as conn:
            # PostgreSQL needs the parameter's type to compare it with NULL
            typed = query.replace(":acc IS NULL", "CAST(:acc AS TEXT) IS NULL")
            return [tuple(row) for row in conn.execute(text(typed), params)]
    finally:
        engine.dispose()


def _read_sqlite(url: str, query: str, params: dict[str, Any]) -> Sequence[Sequence[Any]]:
    _, _, location = url.partition(":///")
    location = location.split("?", 1)[0]
    if not location or location == ":memory:":
        return []
    path = Path(location)
    if not path.is_file():  # never create a database: a completion only reads
        return []
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=0.5)
    try:
        return conn.execute(query, params).fetchall()
    finally:
        conn.close()
