"""Column helpers and the clock shared by every table module."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer
from sqlmodel import Field


def utcnow() -> datetime:
    """Now, in UTC, as every timestamp column stores it."""
    return datetime.now(UTC)


def foreign_key(table: str, *, nullable: bool = False, on_delete: str = "CASCADE", index: bool = True) -> Any:
    """An integer column referencing ``table.id``; indexed unless a composite index starts with it."""
    return Field(
        default=None if nullable else ...,
        sa_column=Column(Integer, ForeignKey(f"{table}.id", ondelete=on_delete), nullable=nullable, index=index),
    )


def json_column(default: Any = None) -> Any:
    factory = (lambda: list(default)) if isinstance(default, list) else None
    if factory:
        return Field(default_factory=factory, sa_column=Column(JSON, nullable=False))
    # None is SQL NULL, not the JSON text 'null', so "IS NULL" finds what is not known yet
    return Field(default=default, sa_column=Column(JSON(none_as_null=True), nullable=True))
