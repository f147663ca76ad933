"""The aiohttp transport behind the Graph client, against a real server on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web

from tests.support.graph import no_sleep
from waba_cli.graph.client import CallRecord, Credentials, GraphClient
from waba_cli.graph.errors import GraphNetworkError, RateLimited
from waba_cli.graph.transport import AiohttpTransport

pytestmark = pytest.mark.anyio
TOKEN = "EAAGtransporttest0123456789abcdefghijkl"


async def _messages(request: web.Request) -> web.Response:
    body = await request.json()
    if body.get("to") == "throttle":
        return web.json_response(
            {
                "error": {
                    "message": "(#130429) Rate limit hit",
                    "type": "OAuthException",
                    "code": 130429,
                    "fbtrace_id": "Ab",
                }
            },
            status=400,
        )
    return web.json_response(
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": body["to"], "wa_id": body["to"]}],
            "messages": [
                {
                    "id": "wamid.X",
                    "echo_auth": request.headers["Authorization"],
                    "echo_query": dict(request.query),
                    "echo_type": request.headers.get("Content-Type"),
                    "echo_agent": request.headers.get("User-Agent"),
                    "echo_body": body,
                }
            ],
        }
    )


async def _dropped(request: web.Request) -> web.Response:
    assert request.transport is not None
    request.transport.close()  # the request arrived; the answer never leaves
    return web.Response()


async def _gzipped(request: web.Request) -> web.Response:
    payload = gzip.compress(json.dumps({"id": "1", "name": "zipped"}).encode())
    return web.Response(body=payload, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/v23.0/{phone}/messages", _messages)
    app.router.add_post("/v23.0/{phone}/dropped", _dropped)
    app.router.add_get("/v23.0/zipped", _gzipped)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_sends_through_aiohttp_with_auth_and_query(server: str) -> None:
    transport = AiohttpTransport()
    async with GraphClient(Credentials(TOKEN, "1", "0" * 32), base_url=server, transport=transport) as client:
        answer: dict[str, Any] = await client.post("/1234/messages", json={"to": "15550001111", "type": "text"})
    message = answer["messages"][0]
    assert message["echo_auth"] == f"Bearer {TOKEN}"
    assert "appsecret_proof" in message["echo_query"]
    assert answer["contacts"][0]["wa_id"] == "15550001111"


async def test_graph_errors_and_retries_work_unchanged(server: str) -> None:
    async with GraphClient(
        Credentials(TOKEN), base_url=server, transport=AiohttpTransport(), max_retries=2, sleep=no_sleep
    ) as client:
        with pytest.raises(RateLimited):
            await client.post("/1234/messages", json={"to": "throttle"})


async def test_compressed_answers_are_decoded_once(server: str) -> None:
    async with GraphClient(Credentials(TOKEN), base_url=server, transport=AiohttpTransport()) as client:
        assert await client.get("/zipped") == {"id": "1", "name": "zipped"}


async def test_a_refused_connection_is_a_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    transport = AiohttpTransport()
    request = httpx.Request("GET", f"http://127.0.0.1:{port}/v23.0/x")
    with pytest.raises(httpx.ConnectError):
        await transport.handle_async_request(request)
    await transport.aclose()
    async with GraphClient(
        Credentials(TOKEN), base_url=f"http://127.0.0.1:{port}", transport=AiohttpTransport(), max_retries=0
    ) as client:
        with pytest.raises(GraphNetworkError):
            await client.get("/x")


async def test_plain_sends_skip_httpx_but_send_what_httpx_sends(server: str) -> None:
    calls: list[CallRecord] = []
    body = {"to": "15550001111", "type": "text", "text": {"body": "Grüße 👋"}}
    async with GraphClient(
        Credentials(TOKEN, "1", "0" * 32), base_url=server, transport=AiohttpTransport(), on_call=calls.append
    ) as client:
        plain: dict[str, Any] = await client.post("/1234/messages", json=body)
        # extra headers take the general route, through httpx's request and response models
        general: dict[str, Any] = await client.post("/1234/messages", json=body, headers={"X-Trace": "1"})
    echoed = [answer["messages"][0] for answer in (plain, general)]
    for key in ("echo_auth", "echo_query", "echo_agent", "echo_body"):
        assert echoed[0][key] == echoed[1][key]
    assert echoed[0]["echo_body"] == body
    assert echoed[0]["echo_type"].startswith("application/json")
    assert [(c.method, c.endpoint, c.status_code, c.attempt) for c in calls] == [("POST", "/{id}/messages", 200, 1)] * 2


@pytest.mark.parametrize("extra", [None, {"X-Trace": "1"}], ids=["plain", "through-httpx"])
async def test_an_answer_lost_after_sending_is_not_retried(server: str, extra: dict[str, str] | None) -> None:
    calls: list[CallRecord] = []
    async with GraphClient(
        Credentials(TOKEN), base_url=server, transport=AiohttpTransport(), sleep=no_sleep, on_call=calls.append
    ) as client:
        with pytest.raises(GraphNetworkError) as caught:
            await client.post("/1234/dropped", json={"to": "1"}, headers=extra)
    assert not caught.value.retryable  # Meta may have sent it: resending could duplicate the message
    assert [(c.status_code, c.attempt) for c in calls] == [(None, 1)]
    assert TOKEN not in str(caught.value)


@pytest.fixture
async def closing_server() -> AsyncIterator[tuple[str, list[int]]]:
    """Reads a request's headers and closes the connection without reading its body (or answering).

    Yields the base URL and, per request, how many bytes of body the server had read (none).
    """
    seen: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        seen.append(0)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", seen
    server.close()
    await server.wait_closed()


async def test_a_connection_broken_while_writing_the_request_is_a_write_error(
    closing_server: tuple[str, list[int]],
) -> None:
    base, seen = closing_server
    transport = AiohttpTransport()
    big = b'{"to": "1", "pad": "' + b"x" * 16_000_000 + b'"}'  # far more than the socket buffers hold
    try:
        with pytest.raises(httpx.WriteError):
            await transport.exchange("POST", f"{base}/v23.0/1/messages", [], big, httpx.Timeout(10.0))
    finally:
        await transport.aclose()
    assert seen == [0]  # the server did get the start of it, and never the whole request


async def test_a_send_that_failed_while_writing_is_not_sent_and_retried(
    closing_server: tuple[str, list[int]],
) -> None:
    base, seen = closing_server
    calls: list[CallRecord] = []
    async with GraphClient(
        Credentials(TOKEN), base_url=base, transport=AiohttpTransport(), sleep=no_sleep, on_call=calls.append,
        max_retries=1,
    ) as client:  # fmt: skip
        with pytest.raises(GraphNetworkError) as caught:
            await client.post("/1234/messages", json={"to": "1", "pad": "x" * 16_000_000})
    assert caught.value.retryable
    assert not caught.value.request_sent
    assert "WriteError" in str(caught.value)
    assert [c.attempt for c in calls] == [1, 2]  # retried: Meta cannot have acted on half a request
    assert len(seen) == 2


async def test_a_small_request_written_whole_before_the_server_hung_up_stays_in_doubt(
    closing_server: tuple[str, list[int]],
) -> None:
    base, _ = closing_server
    async with GraphClient(Credentials(TOKEN), base_url=base, transport=AiohttpTransport(), sleep=no_sleep) as client:
        with pytest.raises(GraphNetworkError) as caught:
            await client.post("/1234/messages", json={"to": "1"})
    # it all went out before the close: from here it cannot be told from a lost answer
    assert caught.value.request_sent
    assert not caught.value.retryable


async def test_idle_connections_are_not_kept_past_the_keepalive_timeout() -> None:
    """So a connection the server closes when idle (uvicorn: 5 s) is never written to stale."""
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while await reader.readuntil(b"\r\n\r\n"):
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    transport = AiohttpTransport(keepalive_timeout=0.2)
    try:
        for pause in (0.0, 0.05, 0.5):
            await asyncio.sleep(pause)
            answer = await transport.exchange("GET", f"{base}/x", [], None, httpx.Timeout(5.0))
            assert answer.status == 200
    finally:
        await transport.aclose()
        server.close()
    assert connections == 2  # reused after 50 ms, a new one after 500 ms idle
    assert AiohttpTransport()._keepalive_timeout < 5  # under uvicorn's default
