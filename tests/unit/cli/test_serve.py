"""`waba serve-webhook` refuses, in one line, an address it cannot listen on."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port on 127.0.0.1 that another socket listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


@pytest.fixture
def no_exec(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server must not start: its ``serve`` would replace this process (exec)."""
    from waba_cli.webhook import server

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("serve-webhook started the server")

    monkeypatch.setattr(server, "serve", refuse)


def test_a_port_in_use_is_one_line_and_exit_1_before_anything_else(
    waba: Any, business: dict[str, Any], taken_port: int, no_exec: None
) -> None:
    result = waba("serve-webhook", "--host", "127.0.0.1", "--port", str(taken_port))

    assert result.code == 1
    assert result.out == ""
    [line] = result.err.strip().splitlines()
    assert line.startswith(f"waba: serve-webhook cannot listen on 127.0.0.1:{taken_port}: Address already in use")
    assert "another process listens there; stop it or choose another --port" in line


def test_an_address_not_on_this_machine_is_refused_naming_it(
    waba: Any, business: dict[str, Any], no_exec: None
) -> None:
    # TEST-NET-1 (RFC 5737): never an address of this machine, and nothing is sent to it
    result = waba("serve-webhook", "--host", "192.0.2.1", "--port", "8080")

    assert result.code == 1
    [line] = result.err.strip().splitlines()
    assert "serve-webhook cannot listen on 192.0.2.1:8080" in line
    assert "check --host" in line


def test_a_host_that_cannot_be_resolved_is_bad_input(
    waba: Any, business: dict[str, Any], no_exec: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_such_name(*args: Any, **kwargs: Any) -> Any:  # the resolver's answer, without asking one
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)

    result = waba("serve-webhook", "--host", "nowhere.invalid", "--port", "8080")

    assert result.code == 2
    [line] = result.err.strip().splitlines()
    assert "--host 'nowhere.invalid' cannot be resolved (Name or service not known)" in line
