"""Rate cards: what a message costs per market and pricing category, read from CSV or TOML.

A CSV has a header with ``country`` (or ``market``), ``category``, ``price`` and ``currency``; a
TOML file a ``[[rate]]`` table per line with the same keys (or ``currency`` once at the top).
``*`` as the country prices a category in every market not listed. One currency per card.
"""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path
from typing import Any

from waba_cli.domain.analytics import RateCard
from waba_cli.domain.documents import loads_toml
from waba_cli.errors import ValidationError
from waba_cli.files import read_text

_OPTION = "--rate-card"


def read_rate_card(path: Path) -> RateCard:
    """The rate card in ``path`` (exit 2 naming the line when it cannot be read)."""
    try:
        raw = read_text(path.expanduser())
    except OSError as exc:
        raise ValidationError(_OPTION, f"cannot read {path}: {exc.strerror or exc}") from None
    if path.suffix.lower() == ".toml":
        try:
            document = loads_toml(raw, str(path))
        except tomllib.TOMLDecodeError as exc:
            raise ValidationError(_OPTION, f"{path}: {exc}") from None
        rows: list[dict[str, Any]] = [dict(r) for r in document.get("rate", [])]
        for row in rows:
            row.setdefault("currency", document.get("currency"))
    else:
        rows = [dict(r) for r in csv.DictReader(raw.splitlines())]
    return _card(path, rows)


def _card(path: Path, rows: list[dict[str, Any]]) -> RateCard:
    prices: dict[tuple[str, str], float] = {}
    currencies: set[str] = set()
    for number, row in enumerate(rows, start=2):
        lowered = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
        country = str(lowered.get("country") or lowered.get("market") or "").strip().upper()
        category = str(lowered.get("category") or "").strip().lower().replace("-", "_")
        currency = str(lowered.get("currency") or "").strip().upper()
        try:
            price = float(lowered.get("price") or "")
        except ValueError:
            problem = f"{path} line {number}: price {lowered.get('price')!r} is not a number"
            raise ValidationError(_OPTION, problem) from None
        if not country or not category or not currency or price < 0:
            raise ValidationError(_OPTION, f"{path} line {number}: needs country, category, price >= 0 and currency")
        prices[(country, category)] = price
        currencies.add(currency)
    if not prices:
        raise ValidationError(_OPTION, f"{path} has no prices")
    if len(currencies) > 1:
        raise ValidationError(_OPTION, f"{path} mixes currencies: {', '.join(sorted(currencies))}")
    return RateCard(currencies.pop(), prices)
