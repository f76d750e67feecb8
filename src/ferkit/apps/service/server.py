"""How `ferkit serve` puts the app on the network: the uvicorn settings, and the connection limits uvicorn lacks.

The app itself (routes, limits on uploads and inference) is `app.py`; this file owns what happens per
connection, before a request reaches the app. uvicorn's HTTP protocols time out only a kept-alive connection
after a response: a connection that sends nothing, or its headers a byte at a time, stays open forever, and
uvicorn's `limit_concurrency` then answers every other client with a plain-text 503 once enough of them are
open (issue #13: ~130 idle connections took the service down). `GuardedHttpProtocol` adds, per connection:

- admission: a connection beyond `max_connections` in all, or `max_connections_per_client` from one IP
  address, gets a JSON 503 and is closed at once, before it can hold a place;
- an idle timeout: a connection with no request in progress (none yet, or only the rest of a body that
  nobody reads after an early answer) is closed after `idle_timeout_s`; uvicorn's keep-alive timeout, set to
  the same value, covers the time between requests;
- a header timeout: from its first byte, a request's head (request line and headers) must be complete
  within `header_timeout_s`, or the client gets a JSON 408 and the connection is closed.

The request body and the answer are the app's to time (`request_timeout_s`, 408 and 504). A WebSocket leaves
these timers when it upgrades; uvicorn's ping timeout watches it from then on.
"""

from __future__ import annotations

import asyncio
import http
import json
import logging
from collections.abc import Callable
from typing import Any, ClassVar

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ferkit.apps.service.config import ServeConfig

log = logging.getLogger(__name__)


def uvicorn_config(app: Any, config: ServeConfig, **settings: Any) -> uvicorn.Config:
    """The uvicorn configuration serving `app` under `config`; `settings` adds uvicorn's own (logging, ...)."""
    return uvicorn.Config(
        app,
        host=config.host,
        port=config.port,
        http=guarded_protocol(config),
        timeout_keep_alive=config.idle_timeout_s,  # type: ignore[arg-type]  # hinted int, used as a delay
        ws_max_size=config.max_upload_bytes,
        **settings,
    )


def guarded_protocol(config: ServeConfig) -> type[GuardedHttpProtocol]:
    """A `GuardedHttpProtocol` class for one server: `config`'s limits, and its own count of open connections."""

    class ServerProtocol(GuardedHttpProtocol):
        limits = config
        clients = ClientConnections()

    return ServerProtocol


class ClientConnections:
    """The open connections of one server, by client IP address.

    A connection counts until its transport closes. A WebSocket's transport moves to uvicorn's WebSocket
    protocol, so the HTTP protocol never hears it end: closed transports are dropped at each count instead.
    """

    def __init__(self) -> None:
        self._open: dict[asyncio.BaseTransport, str] = {}

    def count(self, host: str) -> int:
        self._open = {transport: h for transport, h in self._open.items() if not transport.is_closing()}
        return sum(h == host for h in self._open.values())

    def add(self, transport: asyncio.BaseTransport, host: str) -> None:
        self._open[transport] = host

    def discard(self, transport: asyncio.BaseTransport) -> None:
        self._open.pop(transport, None)


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with connection admission, an idle and a header timeout (module docstring).

    Subclasses set `limits` and `clients` (see `guarded_protocol`).
    """

    limits: ClassVar[ServeConfig]
    clients: ClassVar[ClientConnections]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        host = self._host(transport)
        refusal = self._refusal(host)
        super().connection_made(transport)
        if refusal:
            log.warning("refused a connection from %s: %s", host, refusal)
            self._answer_and_close(503, "too_many_connections", refusal)
            return
        if host is not None:
            self.clients.add(transport, host)
        self._arm(self.limits.idle_timeout_s, self.transport.close)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self.clients.discard(self.transport)
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm(self.limits.header_timeout_s, self._head_too_slow)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Answered before its body was read (413, 415, 401...): uvicorn discards the rest as it comes, and its first
        # byte cancels uvicorn's keep-alive timer for good; the rest gets one idle timeout to arrive, no more.
        if not self.transport.is_closing() and self.cycle.response_complete and self.cycle.more_body:
            self._arm(self.limits.idle_timeout_s, self.transport.close)

    def _refusal(self, host: str | None) -> str | None:
        """Why a new connection from `host` may not open (the message of the 503), or None to let it in."""
        if len(self.connections) >= self.limits.max_connections:
            return f"the server has {len(self.connections)} connections open, its limit; try again shortly"
        if host is not None and self.clients.count(host) >= self.limits.max_connections_per_client:
            return (f"this address has {self.limits.max_connections_per_client} connections open, the limit per "
                    "client; reuse or close one")
        return None

    @staticmethod
    def _host(transport: asyncio.BaseTransport) -> str | None:
        """The client's IP address; None on a Unix socket, where every client shares the server's user."""
        peer = transport.get_extra_info("peername")
        return peer[0] if isinstance(peer, tuple) else None

    def _head_too_slow(self) -> None:
        log.info("closed a connection from %s: request headers not complete after %.1f s",
                 self.client[0] if self.client else "?", self.limits.header_timeout_s)
        if self.cycle is not None and not self.cycle.response_complete:  # pipelined: an answer is being sent
            self.transport.close()
            return
        self._answer_and_close(408, "header_timeout", "the request headers did not arrive within "
                               f"{self.limits.header_timeout_s:g} s")

    def _answer_and_close(self, status: int, code: str, message: str) -> None:
        """Send the service's JSON error (as `errors.py` shapes it) outside any request, then close."""
        body = json.dumps({"code": code, "message": message}).encode()
        head = (f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\ncontent-type: application/json\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n")
        if status == 503:
            head += "retry-after: 1\r\n"
        self.transport.write(head.encode() + b"\r\n" + body)
        self.transport.close()

    def _arm(self, delay_s: float, expire: Callable[[], None]) -> None:
        self._disarm()
        self._timer = self.loop.call_later(delay_s, expire)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
