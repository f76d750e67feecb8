"""Connections to the real server (`ferkit serve`'s uvicorn settings) over loopback: slow and idle clients.

Every loop is bounded in count and time. Clients that misbehave connect from 127.0.0.2 (Linux routes all of
127/8 to loopback), so the well-behaved request, from 127.0.0.1, is a different client for the per-client limit.
"""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from urllib.parse import urlsplit

import httpx
import pytest
from websockets.sync.client import connect as ws_connect

from ferkit.apps.service import ServeConfig

OTHER_CLIENT = "127.0.0.2"


@contextmanager
def _connections(url: str, count: int, source: str = OTHER_CLIENT) -> Iterator[list[socket.socket]]:
    """`count` TCP connections to the server at `url` from address `source`, closed on exit."""
    address = urlsplit(url)
    with ExitStack() as stack:
        yield [stack.enter_context(socket.create_connection((address.hostname, address.port), timeout=2,
                                                            source_address=(source, 0)))
               for _ in range(count)]


def _read_until_closed(sock: socket.socket, within_s: float) -> bytes:
    """All the server sends until it closes the connection; fails if the connection is still open after `within_s`."""
    received = b""
    deadline = time.monotonic() + within_s
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"the connection was still open after {within_s} s (received {received!r})")


def _error_of(raw: bytes) -> tuple[int, str]:
    """(status, error code) of one raw HTTP response carrying the service's JSON error body."""
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head.lower(), raw
    return int(head.split()[1]), json.loads(body)["code"]


def _request(close: bool = False) -> bytes:
    """A whole GET /healthz; with `close`, one that asks the server to close the connection after answering."""
    return b"GET /healthz HTTP/1.1\r\nHost: test\r\n" + (b"Connection: close\r\n" if close else b"") + b"\r\n"


# ---- many connections ----


def test_many_idle_connections_from_one_client_leave_other_clients_answered(live_service, jpeg_bytes):
    config = ServeConfig(workers=1)
    with live_service(config) as url, _connections(url, config.max_connections + 22):
        assert httpx.get(f"{url}/readyz", timeout=5).json()["status"] == "ready"
        response = httpx.post(f"{url}/v1/predict", content=jpeg_bytes, headers={"content-type": "image/jpeg"},
                              timeout=5)
        assert response.status_code == 200, response.text


def test_a_connection_over_the_per_client_limit_gets_a_json_503_and_is_closed(live_service):
    with live_service(ServeConfig(workers=1, max_connections_per_client=3)) as url, _connections(url, 4) as socks:
        assert _error_of(_read_until_closed(socks[-1], within_s=3)) == (503, "too_many_connections")
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200  # another client still gets in


def test_a_closed_connection_gives_its_client_place_back(live_service):
    with live_service(ServeConfig(workers=1, max_connections_per_client=1)) as url:
        for _ in range(3):  # one after another: each is admitted once the server has closed the previous one
            with _connections(url, 1) as [sock]:
                sock.sendall(_request(close=True))
                assert _read_until_closed(sock, within_s=3).startswith(b"HTTP/1.1 200")


def test_a_connection_over_the_server_wide_limit_gets_a_json_503_and_is_closed(live_service):
    config = ServeConfig(workers=1, max_connections=4)
    with live_service(config) as url, _connections(url, 5, source="127.0.0.3") as socks:
        assert _error_of(_read_until_closed(socks[-1], within_s=3)) == (503, "too_many_connections")


# ---- timeouts ----


@pytest.mark.parametrize("before", [b"", _request()], ids=["fresh", "after_a_request"])
def test_an_idle_connection_is_closed_after_the_idle_timeout(live_service, before):
    with live_service(ServeConfig(workers=1, idle_timeout_s=0.3)) as url, _connections(url, 1) as [sock]:
        sock.sendall(before)
        start = time.monotonic()
        received = _read_until_closed(sock, within_s=3)
    assert time.monotonic() - start >= 0.2
    assert received.startswith(b"HTTP/1.1 200") if before else received == b""


@pytest.mark.parametrize("before", [b"", _request()], ids=["first_request", "after_a_request"])
def test_a_request_head_that_arrives_too_slowly_is_answered_408_and_closed(live_service, before):
    config = ServeConfig(workers=1, header_timeout_s=0.5, idle_timeout_s=5)
    with live_service(config) as url, _connections(url, 1) as [sock]:
        sock.sendall(before)
        if before:
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        start = time.monotonic()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
        for _ in range(30):  # one header line every 0.1 s, never the blank line that ends the head
            if select.select([sock], [], [], 0.1)[0]:
                break
            sock.sendall(b"X-Slow: 1\r\n")
        answer = _read_until_closed(sock, within_s=3)
    assert 0.4 <= time.monotonic() - start < 2.5
    assert _error_of(answer) == (408, "header_timeout")


def test_a_body_that_nobody_reads_must_arrive_within_the_idle_timeout(live_service):
    config = ServeConfig(workers=1, idle_timeout_s=0.5)
    with live_service(config) as url, _connections(url, 1) as [sock]:
        # /healthz answers at once without reading the body; the client then trickles the rest of it.
        sock.sendall(b"POST /healthz HTTP/1.1\r\nHost: test\r\nContent-Length: 100000\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 405")
        start = time.monotonic()
        for _ in range(30):
            if select.select([sock], [], [], 0.1)[0]:
                break
            sock.sendall(b"x")
        assert _read_until_closed(sock, within_s=3) == b""
    assert time.monotonic() - start < 2.5


def test_a_websocket_session_outlives_the_idle_and_header_timeouts(live_service, jpeg_bytes):
    config = ServeConfig(workers=1, idle_timeout_s=0.3, header_timeout_s=0.3)
    with live_service(config) as url, ws_connect(url.replace("http", "ws", 1) + "/v1/live", open_timeout=5) as ws:
        time.sleep(0.8)
        ws.send(jpeg_bytes)
        assert json.loads(ws.recv(timeout=5))["type"] == "result"
