"""`waba sandbox serve` bounds each request like serve-webhook (one shared protocol, the defaults)."""

from __future__ import annotations

import socket
from typing import Any

from tests.support.hostile import MIB, answer, huge_head, status_of

TEXT = {"messaging_product": "whatsapp", "to": "+15551230001", "type": "text", "text": {"body": "hi"}}


def test_a_1_mib_header_and_101_headers_are_431_and_sends_still_work(start_sandbox: Any) -> None:
    sandbox = start_sandbox()
    port = int(sandbox.url.rsplit(":", 1)[1])
    status, _ = huge_head(port, MIB)
    assert status == 431
    with socket.create_connection(("127.0.0.1", port)) as sock:
        headers = "".join(f"X-{n}: 1\r\n" for n in range(100))
        sock.sendall(f"GET /v23.0/debug_token HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())
        assert status_of(answer(sock, 10)) == 431
    assert sandbox.send(TEXT).status_code == 200
