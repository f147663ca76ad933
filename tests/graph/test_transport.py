"""The aiohttp transport behind the Graph client, against a real server on loopback."""

from __future__ import annotations

import gzip
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web

from waba_cli.graph.client import Credentials, GraphClient
from waba_cli.graph.errors import GraphNetworkError, RateLimited
from waba_cli.graph.transport import AiohttpTransport

pytestmark = pytest.mark.anyio
TOKEN = "EAAGtransporttest0123456789abcdefghijkl"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


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
                {"id": "wamid.X", "echo_auth": request.headers["Authorization"], "echo_query": dict(request.query)}
            ],
        }
    )


async def _gzipped(request: web.Request) -> web.Response:
    payload = gzip.compress(json.dumps({"id": "1", "name": "zipped"}).encode())
    return web.Response(body=payload, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/v23.0/{phone}/messages", _messages)
    app.router.add_get("/v23.0/zipped", _gzipped)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def no_sleep(_: float) -> None:
    return None


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
