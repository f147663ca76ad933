"""Column helpers shared by every table module."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import JSON, Column, ForeignKey, Integer, Table
from sqlmodel import Field


def table_of(model: Any) -> Table:
    """The Core table of a SQLModel table class, for statements written with SQLAlchemy Core."""
    return cast("Table", model.__table__)


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
