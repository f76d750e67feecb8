"""Structured logs: one JSON line per request (method, path, status, latency), and a formatter for them."""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("ferkit.access")

# The `extra=` key under which a log record carries its structured fields.
FIELDS = "fields"


class AccessLogMiddleware:
    """Logs every HTTP request and WebSocket session once it ends, with its status and duration."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        # A WebSocket that is closed without ever being accepted was refused (403 in the handshake).
        status = {"status": 500 if scope["type"] == "http" else 403}

        async def send_and_record(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["status"] = message["status"]
            elif message["type"] == "websocket.accept":
                status["status"] = 101
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            client = scope.get("client")
            fields = {
                "method": scope.get("method", "WEBSOCKET"),
                "path": scope["path"],
                "status": status["status"],
                "latency_ms": round((time.perf_counter() - start) * 1000.0, 2),
                "client": client[0] if client else None,
            }
            access_log.info("request", extra={FIELDS: fields})


class JsonLineFormatter(logging.Formatter):
    """Formats a record as one JSON object: time, level, logger, message, its structured fields, any error."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, FIELDS, {}))
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)
