"""Uploaded images, from request bytes to a BGR array, entirely in memory and with every limit checked first.

Order matters for safety: the body size is capped while it streams in (413), the content type is checked
before anything is parsed (415), the image header is read without decoding to refuse decompression bombs
(413), and only then is the image decoded (422 if that fails). Nothing is ever written to disk: Starlette's
own form parser spools files over 1 MiB to a temporary file, so multipart bodies are parsed here instead.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import cv2
import numpy as np
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from ferkit.apps.service.config import ServeConfig
from ferkit.apps.service.errors import ApiError
from ferkit.errors import ImageReadError
from ferkit.transforms.decode import header_size

MULTIPART = "multipart/form-data"
# Raw bodies are accepted with any image/* type; octet-stream is what many HTTP clients send for a file.
GENERIC_BINARY = "application/octet-stream"
IMAGE_MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp", "image/bmp", "image/tiff")


@dataclass(frozen=True)
class Upload:
    """One uploaded file: its bytes, the name the client gave it (for messages) and its size from the header."""

    data: bytes
    name: str
    width: int
    height: int


async def read_uploads(
    request: Request, field: str, raw_allowed: bool, config: ServeConfig, deadline: float
) -> list[Upload]:
    """The images of `request`: multipart parts named `field`, or (if `raw_allowed`) the raw body.

    Each is size-checked and header-inspected, but not decoded (see the module docstring).

    Raises:
        ApiError: 408 the body did not arrive by `deadline` (time.monotonic()), and every error below.
    """
    content_type = media_type(request)
    if content_type != MULTIPART:
        if not raw_allowed:
            raise ApiError(415, "unsupported_media_type", f"send {MULTIPART} with one '{field}' part per image")
        check_media_type(content_type, (MULTIPART, GENERIC_BINARY), "the request")
    try:
        body = await asyncio.wait_for(read_body(request, config.max_upload_bytes), deadline - time.monotonic())
    except asyncio.TimeoutError as exc:
        raise ApiError(408, "upload_timeout", "the upload did not arrive within the request timeout") from exc
    if content_type == MULTIPART:
        named = split_multipart(body, request.headers["content-type"], field)
        if not named:
            raise ApiError(422, "missing_image", f"the multipart body has no part named '{field}'")
    else:
        named = [("the request body", body)]
    return [inspect_image(data, name, config.max_pixels) for name, data in named]


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The request body, refusing (413) as soon as it exceeds `max_bytes`, before or while it arrives."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(f"the upload is {int(declared):,} bytes", max_bytes)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise _too_large("the upload is larger than that", max_bytes)
            chunks.append(chunk)
    except ClientDisconnect as exc:
        raise ApiError(400, "client_disconnected", "the client closed the connection before the upload ended") from exc
    return b"".join(chunks)


def _too_large(what: str, max_bytes: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"the limit is {max_bytes:,} bytes and {what}")


def media_type(request: Request) -> str:
    """The request's media type without parameters, lower-case ('' when the header is missing)."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def check_media_type(content_type: str, allowed: tuple[str, ...], what: str) -> None:
    """415 unless `content_type` is an image type or one of `allowed`."""
    if content_type.startswith("image/") or content_type in allowed:
        return
    shown = f"'{content_type}'" if content_type else "no Content-Type"
    raise ApiError(
        415,
        "unsupported_media_type",
        f"{what} has {shown}; send an image (image/jpeg, image/png, ...) or {' or '.join(allowed)}",
    )


class _PartCollector:
    """python-multipart callbacks that keep each part's headers and bytes in memory."""

    def __init__(self) -> None:
        self.parts: list[tuple[dict[str, str], list[bytes]]] = []
        self._field = b""
        self._value = b""

    def callbacks(self) -> dict:
        return {
            "on_part_begin": lambda: self.parts.append(({}, [])),
            "on_header_field": lambda data, start, end: self._add_field(data[start:end]),
            "on_header_value": lambda data, start, end: self._add_value(data[start:end]),
            "on_header_end": self._end_header,
            "on_part_data": lambda data, start, end: self.parts[-1][1].append(data[start:end]),
        }

    def _add_field(self, data: bytes) -> None:
        self._field += data

    def _add_value(self, data: bytes) -> None:
        self._value += data

    def _end_header(self) -> None:
        self.parts[-1][0][self._field.decode("latin-1").lower()] = self._value.decode("latin-1")
        self._field = self._value = b""


def split_multipart(body: bytes, content_type_header: str, field: str) -> list[tuple[str, bytes]]:
    """The (file name, bytes) of every part named `field`, in order, parsed from `body` in memory.

    Raises:
        ApiError: 400 if the body is not valid multipart, 415 if a part is not an image.
    """
    _, params = parse_options_header(content_type_header)
    boundary = params.get(b"boundary")
    if not boundary:
        raise ApiError(400, "bad_multipart", "multipart/form-data without a boundary parameter")
    collector = _PartCollector()
    parser = MultipartParser(boundary, collector.callbacks())
    try:
        parser.write(body)
        parser.finalize()
    except Exception as exc:  # python-multipart raises several exception types on malformed input
        raise ApiError(400, "bad_multipart", f"the multipart body is malformed: {exc}") from exc

    files: list[tuple[str, bytes]] = []
    for headers, chunks in collector.parts:
        _, disposition = parse_options_header(headers.get("content-disposition", ""))
        if disposition.get(b"name", b"").decode("utf-8", "replace") != field:
            continue
        name = disposition.get(b"filename", field.encode()).decode("utf-8", "replace")
        part_type = parse_options_header(headers.get("content-type", ""))[0].decode("latin-1").lower()
        if part_type:  # a part without a type is taken as raw bytes; the decoder then judges them
            check_media_type(part_type, (GENERIC_BINARY,), f"part '{field}' ({name})")
        files.append((name, b"".join(chunks)))
    return files


def inspect_image(data: bytes, name: str, max_pixels: int) -> Upload:
    """Read only the image header: refuse non-images (422) and too many pixels (413) before decoding."""
    if not data:
        raise ApiError(422, "empty_image", f"{name}: the upload is empty")
    try:
        size = header_size(data, name, max_pixels)
    except ImageReadError as exc:
        raise ApiError(413, "too_many_pixels", str(exc)) from exc
    if size is None:
        raise ApiError(
            422, "not_an_image", f"{name}: not a recognised image format (use JPEG, PNG, WebP, BMP or TIFF)"
        )
    return Upload(data=data, name=name, width=size[0], height=size[1])


def decode_image(upload: Upload) -> np.ndarray:
    """The BGR uint8 image (EXIF orientation applied), or 422 naming the file if the data is corrupt."""
    image = cv2.imdecode(np.frombuffer(upload.data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ApiError(
            422, "undecodable_image", f"{upload.name}: the image header is valid but its data could not be decoded"
        )
    return image
