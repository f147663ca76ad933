"""The request bounds of every waba server, on the protocol alone: a fake transport and a fake loop
whose timers the test fires by hand (no sockets, no waiting)."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

from waba_cli.http_limits import LimitedProtocol, Limits, uvicorn_options
from waba_cli.settings import load_settings
from waba_cli.webhook.server import limits_for

SMALL = Limits(
    max_header_bytes=200,
    max_headers=5,
    header_timeout=3.0,
    body_timeout=2.0,
    body_min_rate=100,
    keep_alive_timeout=4.0,
    max_connections=2,
    max_body_bytes=1000,
)


class Timer:
    def __init__(self, delay: float, callback: Any) -> None:
        self.delay, self.callback, self.cancelled = delay, callback, False

    def cancel(self) -> None:
        self.cancelled = True


class Loop:
    """call_later records its timers; create_task records (and closes) the app's coroutines."""

    def __init__(self) -> None:
        self.timers: list[Timer] = []
        self.tasks: list[Any] = []

    def call_later(self, delay: float, callback: Any, *args: Any) -> Timer:
        timer = Timer(delay, callback)
        self.timers.append(timer)
        return timer

    def create_task(self, coroutine: Any, **_: Any) -> Any:
        coroutine.close()
        self.tasks.append(coroutine)

        class Task:
            def add_done_callback(self, _callback: Any) -> None:
                pass

        return Task()

    def armed(self) -> list[Timer]:
        return [t for t in self.timers if not t.cancelled]


class Transport:
    def __init__(self) -> None:
        self.written = b""
        self.closing = False

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 8080)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class Fed:
    """Wraps the parser: records how many bytes it was given."""

    def __init__(self, parser: Any) -> None:
        self.parser, self.total = parser, 0

    def feed_data(self, data: bytes) -> None:
        self.total += len(data)
        self.parser.feed_data(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.parser, name)


async def _app(scope: Any, receive: Any, send: Any) -> None:  # never awaited: the fake loop closes it
    pass


def connect(limits: Limits = SMALL, state: ServerState | None = None) -> tuple[LimitedProtocol, Transport, Loop, Fed]:
    config = Config(app=_app, **uvicorn_options(limits))
    loop = Loop()
    protocol = LimitedProtocol(
        config=config, server_state=state or ServerState(), app_state={}, _loop=loop, limits=limits
    )  # type: ignore[arg-type]
    transport = Transport()
    protocol.connection_made(transport)  # type: ignore[arg-type]
    fed = Fed(protocol.parser)
    protocol.parser = fed  # type: ignore[assignment]
    return protocol, transport, loop, fed


def head(*headers: str, path: str = "/webhook", method: str = "POST") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: x", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def status(transport: Transport) -> int | None:
    return int(transport.written.split(b" ")[1]) if transport.written else None


def test_a_request_in_one_read_starts_the_app_and_arms_no_timer() -> None:
    protocol, transport, loop, _ = connect()
    loop.timers[0].cancel()  # the idle timer of a new connection (its own test below)
    protocol.data_received(head("Content-Length: 2") + b"{}")
    assert len(loop.tasks) == 1
    assert loop.armed() == []
    assert not transport.closing


def test_a_head_over_the_limit_is_431_closed_and_not_one_byte_past_the_limit_is_parsed() -> None:
    protocol, transport, loop, fed = connect()
    protocol.data_received(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 150)
    protocol.data_received(b"a" * 10_000)
    assert status(transport) == 431
    assert b"connection: close" in transport.written
    assert transport.closing
    assert fed.total == SMALL.max_header_bytes
    protocol.data_received(b"a" * 10_000)  # whatever was still in flight is not read
    assert fed.total == SMALL.max_header_bytes
    assert loop.tasks == []


def test_a_head_of_exactly_the_limit_passes_and_the_body_after_it_is_read() -> None:
    padding = SMALL.max_header_bytes - len(head("Content-Length: 2", "X-Pad: "))
    request = head("Content-Length: 2", "X-Pad: " + "p" * padding)
    assert len(request) == SMALL.max_header_bytes
    protocol, transport, loop, _fed = connect()
    protocol.data_received(request + b"{}")  # body in the same read as the head: it is not head
    assert transport.written == b""
    assert len(loop.tasks) == 1
    assert protocol.cycle.body == b"{}"
    assert not protocol.cycle.more_body


def test_each_request_on_a_connection_has_its_own_head_budget() -> None:
    protocol, transport, loop, _ = connect()
    request = head("Content-Length: 0", "X-Pad: " + "p" * 100)
    for _ in range(5):
        protocol.data_received(request)
        protocol.cycle.response_complete = True
    assert transport.written == b""
    assert len(loop.tasks) == 5  # 5 heads of 150 bytes: together over the limit, each within it


def test_more_than_max_headers_is_431() -> None:
    protocol, transport, _, _ = connect()
    protocol.data_received(head(*(f"X-{n}: 1" for n in range(SMALL.max_headers))))
    assert status(transport) == 431
    assert b"too many header fields" in transport.written
    assert transport.closing

    protocol, transport, loop, _ = connect()
    protocol.data_received(head(*(f"X-{n}: 1" for n in range(SMALL.max_headers - 1))))  # + Host: the maximum
    assert transport.written == b""
    assert len(loop.tasks) == 1


def test_an_unfinished_head_gets_header_timeout_from_its_first_read_then_408() -> None:
    protocol, transport, loop, _ = connect()
    protocol.data_received(b"POST /webhook HTTP/1.1\r\nHo")
    protocol.data_received(b"st: x\r\n")  # more bytes do not move the deadline
    [timer] = loop.armed()
    assert timer.delay == SMALL.header_timeout
    timer.callback()
    assert status(transport) == 408
    assert transport.closing
    assert loop.tasks == []


def test_a_head_finished_in_time_cancels_its_deadline() -> None:
    protocol, transport, loop, _ = connect()
    protocol.data_received(b"GET /healthz HTTP/1.1\r\n")
    protocol.data_received(b"Host: x\r\n\r\n")
    assert loop.armed() == []
    assert len(loop.tasks) == 1
    assert transport.written == b""


def test_a_body_gets_body_timeout_plus_its_declared_size_at_the_minimum_rate_then_408() -> None:
    protocol, transport, loop, _ = connect()
    protocol.data_received(head("Content-Length: 500") + b"{")
    [timer] = loop.armed()
    assert timer.delay == SMALL.body_timeout + 500 / SMALL.body_min_rate
    cycle = protocol.cycle
    timer.callback()
    assert status(transport) == 408
    assert transport.closing
    assert cycle.disconnected  # the app's receive() says http.disconnect, its send() writes nothing


def test_a_chunked_body_is_given_the_time_of_the_largest_body() -> None:
    protocol, _, loop, _ = connect()
    protocol.data_received(head("Transfer-Encoding: chunked") + b"1\r\n{")
    [timer] = loop.armed()
    assert timer.delay == SMALL.body_seconds(SMALL.max_body_bytes)


def test_a_body_finished_in_time_cancels_its_deadline() -> None:
    protocol, transport, loop, _ = connect()
    protocol.data_received(head("Content-Length: 2") + b"{")
    protocol.data_received(b"}")
    assert loop.armed() == []
    assert transport.written == b""


def test_a_body_still_arriving_after_an_early_answer_is_cut_off_without_a_second_answer() -> None:
    protocol, transport, loop, _ = connect()
    protocol.data_received(head("Content-Length: 500") + b"{")
    protocol.cycle.response_started = protocol.cycle.response_complete = True  # say, 413 on the declared size
    [timer] = loop.armed()
    timer.callback()
    assert transport.written == b""
    assert transport.closing


def test_a_new_connection_that_sends_nothing_is_closed_after_keep_alive_timeout() -> None:
    _, transport, loop, _ = connect()
    [timer] = loop.armed()
    assert timer.delay == SMALL.keep_alive_timeout
    timer.callback()
    assert transport.closing
    assert transport.written == b""


def test_past_max_connections_a_new_one_is_answered_503_and_closed_at_once() -> None:
    state = ServerState()
    kept = [connect(state=state) for _ in range(SMALL.max_connections)]
    protocol, transport, _loop, fed = connect(state=state)
    assert status(transport) == 503
    assert transport.closing
    assert protocol not in state.connections
    assert len(state.connections) == SMALL.max_connections
    protocol.data_received(head())
    assert fed.total == 0
    protocol.connection_lost(None)
    kept[0][0].connection_lost(None)  # one closes: the next is served
    assert status(connect(state=state)[1]) is None


def test_the_protocol_and_its_limits_survive_pickling_for_worker_processes() -> None:
    options = pickle.loads(pickle.dumps(uvicorn_options(SMALL)))
    assert options["http"].keywords == {"limits": SMALL}
    assert options["timeout_keep_alive"] == SMALL.keep_alive_timeout


def test_the_config_files_defaults_are_the_limits_defaults(tmp_path: Any) -> None:
    settings = load_settings(config_path=tmp_path / "none.toml", env={"WABA_HOME": str(tmp_path)})
    assert limits_for(settings) == Limits()


def test_the_config_file_sets_every_limit(tmp_path: Any) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        "[webhook]\nmax_header_bytes = 1000\nmax_headers = 7\nheader_timeout = 1.5\nbody_timeout = 2\n"
        "body_min_rate = 50\nkeep_alive_timeout = 3\nmax_connections = 9\nmax_body_bytes = 4000\n"
    )
    limits = limits_for(load_settings(config_path=path, env={"WABA_HOME": str(tmp_path)}))
    assert limits == Limits(1000, 7, 1.5, 2.0, 50, 3.0, 9, 4000)


@pytest.mark.parametrize("key", ["max_header_bytes", "header_timeout", "body_min_rate", "max_connections"])
def test_a_limit_of_zero_is_refused(tmp_path: Any, key: str) -> None:
    from waba_cli.errors import ConfigError

    path = tmp_path / "config.toml"
    path.write_text(f"[webhook]\n{key} = 0\n")
    with pytest.raises(ConfigError, match=key):
        load_settings(config_path=path, env={"WABA_HOME": str(tmp_path)})


def test_a_body_larger_than_the_limit_in_one_read_is_read_whole() -> None:
    body = b"[" + b"1," * 600 + b"1]"
    protocol, transport, loop, fed = connect()
    protocol.data_received(head(f"Content-Length: {len(body)}") + body)
    assert transport.written == b""
    assert bytes(protocol.cycle.body) == body
    assert not protocol.cycle.more_body
    assert loop.tasks and fed.total == len(head(f"Content-Length: {len(body)}")) + len(body)


def test_a_pipelined_head_after_a_request_in_the_same_read_is_bounded_too() -> None:
    first = head(method="GET", path="/healthz")
    protocol, transport, _, fed = connect()
    protocol.data_received(first + b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 10_000)
    assert status(transport) == 431
    assert fed.total <= 2 * SMALL.max_header_bytes  # not the 10 kB read


def test_a_pipelined_head_split_across_reads_passes_when_it_fits() -> None:
    first = head(method="GET", path="/healthz")
    second = head("X-0: 1", "X-1: 1", "X-2: 1", method="GET", path="/healthz")
    protocol, transport, loop, _ = connect()
    protocol.data_received(first + second[:20])
    protocol.cycle.response_complete = True
    protocol.data_received(second[20:])
    assert transport.written == b""
    assert len(loop.tasks) == 2
