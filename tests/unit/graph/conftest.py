"""The graph tests run on anyio's asyncio backend, against a respx router for the Graph API."""

from __future__ import annotations

import pytest
import respx


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def router() -> respx.MockRouter:
    return respx.MockRouter(assert_all_called=False)
