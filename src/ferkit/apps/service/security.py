"""Optional API key (401 when missing, 403 when wrong) and the origin check of the WebSocket.

A key may hold any characters: a client sends it as UTF-8, in the header as in the WebSocket's query. HTTP
servers hand header bytes over decoded as Latin-1, so the header's value is read back as UTF-8 before it is
compared; the query is already decoded as UTF-8."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from urllib.parse import urlsplit

from fastapi import Security
from fastapi.security import APIKeyHeader
from starlette.requests import HTTPConnection

from ferkit.apps.service.errors import ApiError

API_KEY_HEADER = "X-API-Key"
# Browsers cannot set headers on a WebSocket, so the live page passes the key as this query parameter.
API_KEY_QUERY = "api_key"

_header_scheme = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="the service's API key")


def check_api_key(given: str | None, expected: str) -> None:
    """Raise 401 if no key was given, 403 if it is not `expected` (compared in constant time)."""
    if not given:
        raise ApiError(401, "missing_api_key", f"this service needs an API key in the {API_KEY_HEADER} header",
                       headers={"WWW-Authenticate": API_KEY_HEADER})
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise ApiError(403, "invalid_api_key", "the API key is not valid")


def api_key_dependency(expected: str) -> Callable[[str | None], None]:
    """A FastAPI dependency enforcing `expected`; declared through a security scheme so OpenAPI shows it."""

    def require_api_key(given: str | None = Security(_header_scheme)) -> None:
        check_api_key(header_text(given) if given else given, expected)

    return require_api_key


def header_text(value: str) -> str:
    """A header's value as the client wrote it: its bytes (which the server decoded as Latin-1) read as UTF-8,
    or as they are when they are not UTF-8."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def is_allowed_origin(connection: HTTPConnection, cors_origins: tuple[str, ...]) -> bool:
    """Whether a WebSocket may be opened from the page that asks (same origin, or a configured CORS origin).

    WebSockets are not covered by CORS, so without this any web site could drive the service from its
    visitors' browsers. Clients that are not browsers send no Origin header and are allowed.
    """
    origin = connection.headers.get("origin")
    if origin is None or "*" in cors_origins or origin in cors_origins:
        return True
    return urlsplit(origin).netloc == connection.headers.get("host", "")
