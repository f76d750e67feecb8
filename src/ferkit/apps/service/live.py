"""The live WebSocket (`/v1/live`): the browser sends camera frames, the server answers each with its faces.

Protocol: the client sends binary messages, each one encoded image (JPEG, PNG or WebP). The server
answers with JSON text messages, either `{"type": "result", ..., "dropped_frames"}` (the fields of a
/v1/predict response, i.e. of `ImageResult.to_dict()`) or `{"type": "error", "code", "message"}`.

Stale frames are dropped, never queued: a reader task keeps only the newest frame that arrived while the
previous one was being recognised, so a client that sends faster than the server can answer gets answers
about its latest frames, and the server's memory per connection stays at one frame.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect, status

from ferkit.apps.service.config import ServeConfig
from ferkit.apps.service.errors import ApiError
from ferkit.apps.service.pool import InferencePool
from ferkit.apps.service.predict import reserve_place, run_prediction
from ferkit.apps.service.security import API_KEY_QUERY, check_api_key, is_allowed_origin
from ferkit.apps.service.uploads import inspect_image

log = logging.getLogger(__name__)


class LatestFrame:
    """A one-place mailbox: `put` replaces an unread frame (counting it as dropped); `None` ends the stream."""

    def __init__(self) -> None:
        self._slot: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=1)
        self.dropped = 0

    def put(self, frame: bytes | None) -> None:
        if self._slot.full():
            stale = self._slot.get_nowait()
            self.dropped += stale is not None
        self._slot.put_nowait(frame)

    async def get(self) -> bytes | None:
        return await self._slot.get()


def create_live_router(pool: InferencePool, config: ServeConfig) -> APIRouter:
    router = APIRouter()

    @router.websocket("/v1/live")
    async def live(websocket: WebSocket, api_key: Annotated[str | None, Query(alias=API_KEY_QUERY)] = None) -> None:
        if not is_allowed_origin(websocket, config.cors_origins):
            await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="origin not allowed")
            return
        if config.api_key:
            try:
                check_api_key(api_key, config.api_key)
            except ApiError as exc:
                await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason=exc.message)
                return
        await websocket.accept()
        frames = LatestFrame()
        reader = asyncio.create_task(_read_frames(websocket, frames))
        try:
            while (frame := await frames.get()) is not None:
                await websocket.send_json(await _answer(frame, frames.dropped, pool, config))
        except WebSocketDisconnect:
            pass
        finally:
            reader.cancel()

    return router


async def _read_frames(websocket: WebSocket, frames: LatestFrame) -> None:
    """Move incoming frames into `frames` until the client leaves or sends something that is not a frame."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            break
        if message.get("bytes") is None:
            await websocket.close(code=status.WS_1003_UNSUPPORTED_DATA, reason="send frames as binary messages")
            break
        frames.put(message["bytes"])
    frames.put(None)


async def _answer(frame: bytes, dropped: int, pool: InferencePool, config: ServeConfig) -> dict[str, Any]:
    """The JSON message for one frame: its result, or the error that stopped it."""
    try:
        if len(frame) > config.max_upload_bytes:
            raise ApiError(413, "payload_too_large", f"frame of {len(frame):,} bytes; the limit is "
                           f"{config.max_upload_bytes:,}")
        with reserve_place(pool) as place:
            upload = inspect_image(frame, "frame", config.max_pixels)
            [result] = await run_prediction(place, [upload], pool.default, False, config.request_timeout_s)
    except ApiError as exc:
        return {"type": "error", "code": exc.code, "message": exc.message}
    return {"type": "result", **result.model_dump(exclude={"annotated_image"}), "dropped_frames": dropped}
