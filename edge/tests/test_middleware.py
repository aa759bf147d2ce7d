"""The edge's ingress guard (nextmodel_edge.middleware) on a small ASGI app, and the server's
bound on an unfinished request head (nextmodel_edge.server)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import httpx
import orjson
import pytest
import uvicorn

from nextmodel_edge.config import EdgeSettings
from nextmodel_edge.middleware import EdgeGuard, FailedAuthGuard
from nextmodel_edge.server import guarded_protocol


class App:
    """Answers 200 with the body's length; /deny answers 401; /slow waits for `release`."""

    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()

    async def __call__(self, scope, receive, send) -> None:
        self.calls += 1
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["path"].startswith("/slow"):
            await self.release.wait()
        status = 401 if scope["path"] == "/deny" else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": str(len(body)).encode()})


def guard(app: App, **settings) -> EdgeGuard:
    defaults = {"edge_max_in_flight": 2, "max_body_bytes": 1000, "max_header_bytes": 2000, "auth_failure_limit": 3,
                "auth_failure_window_seconds": 60.0}
    return EdgeGuard(app, EdgeSettings(**{**defaults, **settings}))


def client(asgi, source: str = "203.0.113.1") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi, client=(source, 1234)), base_url="http://edge")


def assert_openai_error(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == code


async def test_headers_past_the_limit_get_431_and_reach_no_route() -> None:
    app = App()
    async with client(guard(app)) as http:
        assert (await http.get("/v1/models", headers={"x-small": "a" * 1000})).status_code == 200
        answer = await http.get("/v1/models", headers={"x-big": "a" * 2100})
    assert_openai_error(answer, 431, "request_header_fields_too_large")
    assert app.calls == 1


async def test_a_declared_body_past_the_limit_gets_413_before_it_is_read() -> None:
    app = App()
    async with client(guard(app)) as http:
        assert (await http.post("/v1/chat/completions", content=b"x" * 1000)).text == "1000"
        answer = await http.post("/v1/chat/completions", content=b"x" * 1001)
    assert_openai_error(answer, 413, "request_too_large")
    assert answer.headers["connection"] == "close"
    assert app.calls == 1


async def test_a_chunked_body_is_cut_off_at_the_limit_while_it_is_read() -> None:
    app = App()

    async def chunks(count: int):
        for _ in range(count):
            yield b"x" * 300

    async with client(guard(app)) as http:
        assert (await http.post("/v1/chat/completions", content=chunks(3))).text == "900"
        answer = await http.post("/v1/chat/completions", content=chunks(10))
    assert_openai_error(answer, 413, "request_too_large")


async def test_past_max_in_flight_the_edge_sheds_with_503_but_never_health_or_the_dashboard() -> None:
    app = App()
    async with client(guard(app)) as http:
        admitted = [asyncio.create_task(http.get("/slow")) for _ in range(2)]
        while app.calls < 2:
            await asyncio.sleep(0.01)
        shed = await http.get("/v1/models")
        assert_openai_error(shed, 503, "overloaded")
        assert shed.headers["retry-after"] == "1"
        for path in ("/healthz", "/readyz", "/dashboard/", "/dashboard/js/app.js"):
            assert (await http.get(path)).status_code == 200, path
        app.release.set()
        assert [a.status_code for a in await asyncio.gather(*admitted)] == [200, 200]
        assert (await http.get("/v1/models")).status_code == 200


async def test_repeated_401s_from_one_address_get_429_for_every_key_of_that_address() -> None:
    app = App()
    edge = guard(app)
    async with client(edge, "198.51.100.7") as attacker, client(edge, "198.51.100.8") as neighbour:
        assert [(await attacker.get("/deny")).status_code for _ in range(3)] == [401, 401, 401]
        calls = app.calls
        slowed = await attacker.get("/v1/models")  # a good key from the same address
        assert_openai_error(slowed, 429, "too_many_failed_authentications")
        assert slowed.json()["error"]["type"] == "rate_limit_error"
        assert 59 <= int(slowed.headers["retry-after"]) <= 60
        assert app.calls == calls, "a refused request is not forwarded"
        assert (await neighbour.get("/v1/models")).status_code == 200
        assert (await attacker.get("/healthz")).status_code == 200


def test_the_failed_auth_window_passes_and_the_table_stays_bounded() -> None:
    now = [1000.0]
    guard_ = FailedAuthGuard(limit=2, window=10.0, max_sources=3, clock=lambda: now[0])
    guard_.failed("a")
    now[0] += 11  # the first failure's window is over: the count starts again
    guard_.failed("a")
    assert guard_.blocked_for("a") == 0
    guard_.failed("a")
    assert guard_.blocked_for("a") == pytest.approx(10.0)
    now[0] += 10.5
    assert guard_.blocked_for("a") == 0
    for source in ("b", "c", "d", "e"):
        guard_.failed(source)
    assert len(guard_) <= 3


def test_the_server_cuts_off_a_head_that_keeps_growing() -> None:
    async def app(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, http=guarded_protocol(16 * 1024),
                                           log_config=None, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(b"GET / HTTP/1.1\r\nhost: x\r\nx-small: 1\r\n\r\n")
            assert conn.recv(4096).startswith(b"HTTP/1.1 200")
            conn.sendall(b"GET / HTTP/1.1\r\nhost: x\r\nx-big: ")
            answer = b""
            for _ in range(64):  # 64 KiB of one header, in pieces, never finished
                try:
                    conn.sendall(b"a" * 1024)
                except OSError:
                    break
                time.sleep(0.002)
            while chunk := conn.recv(4096):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 431")
        assert orjson.loads(body)["error"]["code"] == "request_header_fields_too_large"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
