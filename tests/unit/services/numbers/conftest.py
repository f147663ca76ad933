"""The `waba number` tests' fixtures: the account's WABA synced with its numbers."""

from __future__ import annotations

from typing import Any

import pytest
import respx

from tests.support.numbers import list_numbers, meta_number, second, third


@pytest.fixture
def synced(waba: Any, account: Any, graph: respx.MockRouter) -> list[dict[str, Any]]:
    """The account's WABA synced with three healthy numbers."""
    listed = [meta_number(), second(), third()]
    list_numbers(graph, listed)
    result = waba("number", "sync", "--json")
    assert result.code == 0, result.err
    return listed
