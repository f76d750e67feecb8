"""The live WebSocket: answers per frame, errors as messages, origin and key checks, stale frames dropped."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from starlette.websockets import WebSocketDisconnect

from ferkit.apps.service import ServeConfig
from ferkit.apps.service.live import LatestFrame


def test_each_frame_gets_a_result(make_client, image_bytes):
    with make_client().websocket_connect("/v1/live") as ws:
        for width in (64, 80):
            ws.send_bytes(image_bytes(width, 48))
            message = ws.receive_json()
            assert message["type"] == "result"
            assert (message["width"], message["height"]) == (width, 48)
            assert message["faces"][0]["label"] == "happy"
            assert message["dropped_frames"] == 0


def test_frames_arriving_during_inference_are_dropped_except_the_newest(make_client, image_bytes):
    gate = threading.Event()
    with make_client(gate=gate).websocket_connect("/v1/live") as ws:
        for width in (10, 20, 30, 40):  # the first is being recognised (held by the gate) while the rest arrive
            ws.send_bytes(image_bytes(width, 8))
        time.sleep(0.3)  # let the server's reader take in all frames
        gate.set()
        first, second = ws.receive_json(), ws.receive_json()
    assert [first["width"], second["width"]] == [10, 40]
    assert second["dropped_frames"] == 2


def test_bad_frame_gets_an_error_message_and_the_stream_goes_on(make_client, jpeg_bytes):
    with make_client().websocket_connect("/v1/live") as ws:
        ws.send_bytes(b"not an image")
        assert ws.receive_json() == {"type": "error", "code": "not_an_image",
                                     "message": "frame: not a recognised image format (use JPEG, PNG, WebP, BMP or "
                                                "TIFF)"}
        ws.send_bytes(jpeg_bytes)
        assert ws.receive_json()["type"] == "result"


def test_oversized_frame_is_refused(make_client, image_bytes):
    with make_client(ServeConfig(workers=1, max_upload_bytes=500)).websocket_connect("/v1/live") as ws:
        ws.send_bytes(image_bytes(400, 400, ext=".png") + b"\0" * 500)
        assert ws.receive_json()["code"] == "payload_too_large"


def test_text_message_closes_the_socket(make_client):
    with make_client().websocket_connect("/v1/live") as ws:
        ws.send_text("hello")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 1003


def test_foreign_origin_is_refused(make_client):
    client = make_client()
    with pytest.raises(WebSocketDisconnect) as refused, \
            client.websocket_connect("/v1/live", headers={"origin": "https://evil.example"}):
        pass
    assert refused.value.code == 1008
    with client.websocket_connect("/v1/live", headers={"origin": "http://testserver"}) as ws:  # same origin
        ws.send_bytes(b"x")
        assert ws.receive_json()["type"] == "error"


def test_api_key_is_required_as_query_parameter(make_client, jpeg_bytes):
    client = make_client(ServeConfig(workers=1, api_key="s3cret"))
    for url in ("/v1/live", "/v1/live?api_key=wrong"):
        with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect(url):
            pass
        assert refused.value.code == 1008
    with client.websocket_connect("/v1/live?api_key=s3cret") as ws:
        ws.send_bytes(jpeg_bytes)
        assert ws.receive_json()["type"] == "result"


def test_latest_frame_keeps_only_the_newest():
    async def scenario() -> tuple[list, int]:
        frames = LatestFrame()
        frames.put(b"1")
        frames.put(b"2")
        frames.put(b"3")
        newest = await frames.get()
        frames.put(b"4")
        frames.put(None)  # the end of the stream replaces an unread frame too, but is not a dropped frame
        return [newest, await frames.get()], frames.dropped

    received, dropped = asyncio.run(scenario())
    assert received == [b"3", None]
    assert dropped == 3
