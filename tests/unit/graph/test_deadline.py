"""While Meta gives no answer, a call retries within graph.deadline_seconds and then gives up with
one line saying what it tried; every retry is heard by ``on_retry`` as it happens."""

from __future__ import annotations

import errno
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.support.campaigns import FakeTime
from tests.support.graph import TOKEN
from waba_cli.graph.client import Credentials, GraphClient, network_reason
from waba_cli.graph.errors import GraphNetworkError

pytestmark = pytest.mark.anyio

Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]


def refused(request: httpx.Request | None = None) -> httpx.ConnectError:
    """What httpx raises for a closed port: the errno is in the chain, not in the message."""
    error = httpx.ConnectError("All connection attempts failed", request=request)
    error.__cause__ = ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed ('127.0.0.1', 1)")
    return error


class Meta:
    """Answers ``answers`` in turn (an exception is raised; the last one repeats), counting calls."""

    def __init__(self, fake: FakeTime, *answers: Any) -> None:
        self.fake = fake
        self.answers = list(answers)
        self.calls = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if answer == "blackhole":  # the connect hangs until its timeout
            await self.fake.sleep(5.0)
            raise httpx.ConnectTimeout("timed out", request=request)
        if answer == "refused":
            raise refused(request)
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, httpx.Response)
        return answer


def client(meta: Meta, heard: list[Any], **options: Any) -> GraphClient:
    return GraphClient(
        Credentials(TOKEN),
        transport=httpx.MockTransport(meta),
        sleep=meta.fake.sleep,
        clock=meta.fake.clock,
        on_retry=lambda failure, attempt, delay: heard.append((attempt, delay, failure.reason)),
        **options,
    )


async def test_refused_connections_give_up_within_the_deadline() -> None:
    meta, heard = Meta(FakeTime(), "refused"), []
    async with client(meta, heard, deadline=15.0, max_retries=10) as graph:
        start = meta.fake.now
        with pytest.raises(GraphNetworkError) as caught:
            await graph.get("debug_token")
    spent = meta.fake.now - start
    assert spent <= 15.0
    assert meta.calls == len(heard) + 1 >= 4
    assert {reason for _, _, reason in heard} == {"connection refused"}
    line = str(caught.value)
    assert line.startswith("Meta could not be reached: GET /debug_token at https://graph.facebook.com")
    assert f"{meta.calls} attempts in {spent:.1f} s (ConnectError: connection refused)" in line
    assert "graph.deadline_seconds" in line and "\n" not in line


async def test_a_blackholed_host_is_tried_as_often_as_fits() -> None:
    meta, heard = Meta(FakeTime(), "blackhole"), []
    async with client(meta, heard, deadline=15.0) as graph:
        start = meta.fake.now
        with pytest.raises(
            GraphNetworkError, match=r"2 attempts in 1[0-5]\.\d s \(ConnectTimeout: no connection within 5 s\)"
        ):
            await graph.get("debug_token")
    assert meta.fake.now - start <= 15.0
    assert meta.calls == 2


async def test_meta_answering_again_within_the_deadline_is_a_success() -> None:
    meta, heard = Meta(FakeTime(), "refused", "refused", httpx.Response(200, json={"id": "1234"})), []
    async with client(meta, heard, deadline=15.0) as graph:
        assert await graph.get("1234") == {"id": "1234"}
    assert [attempt for attempt, _, _ in heard] == [2, 3]


async def test_without_a_deadline_max_retries_ends_it_with_the_same_line() -> None:
    meta, heard = Meta(FakeTime(), "refused"), []
    async with client(meta, heard, max_retries=2) as graph:
        with pytest.raises(GraphNetworkError, match=r"Meta could not be reached: GET /\{id\} .* 3 attempts"):
            await graph.get("1234")
    assert meta.calls == 3


async def test_the_deadline_does_not_cut_a_send_meta_may_have_acted_on() -> None:
    meta, heard = Meta(FakeTime(), httpx.ReadTimeout("slow")), []
    async with client(meta, heard, deadline=15.0) as graph:
        with pytest.raises(GraphNetworkError) as caught:
            await graph.post("1234/messages", json={})
    assert heard == []
    assert caught.value.request_sent and "could not be reached" not in str(caught.value)


def test_reasons_are_a_few_words() -> None:
    timeout = httpx.Timeout(20.0, connect=5.0)
    assert network_reason(refused(), timeout) == "connection refused"
    assert network_reason(httpx.ConnectTimeout("x"), timeout) == "no connection within 5 s"
    assert network_reason(httpx.ReadTimeout("x"), timeout) == "no answer within 20 s"
    resolver = httpx.ConnectError("x")
    resolver.__cause__ = OSError(-2, "Name or service not known")
    assert network_reason(resolver, timeout) == "name or service not known"
