"""Fixtures for the service tests: a stub recognizer, encoded test images and a live uvicorn server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from ferkit.apps.service import ServeConfig, create_app
from ferkit.constants import EMOTIONS
from ferkit.inference import Box, FacePrediction, ImageResult
from ferkit.inference.config import RecognizerConfig

REPO_ROOT = Path(__file__).resolve().parents[2]


class StubRecognizer:
    """Finds one "face" in the middle third of any image that is not black; "happy" wins.

    Built from a `RecognizerConfig`, as the real one is, and records the settings a request may change, so tests
    can see which reached it. `gate` (an Event) holds every predict until set; `error` is raised from predict.
    """

    def __init__(self, config: RecognizerConfig, gate: threading.Event | None = None,
                 error: Exception | None = None, built: list[dict] | None = None) -> None:
        self.options = {"detector": config.detector, "score_threshold": config.score_threshold,
                        "align": config.align}
        self.classes = EMOTIONS
        self._gate = gate
        self._error = error
        if built is not None:
            built.append(self.options)

    def model_info(self) -> dict[str, Any]:
        return {"name": "stub", "classes": list(self.classes), "input_size": 48}

    def analyze(self, image_bgr: np.ndarray) -> ImageResult:
        return ImageResult(None, image_bgr, self.predict(image_bgr), {"decode": 0.0, "detect": 0.0, "classify": 0.0})

    def predict(self, image_bgr: np.ndarray) -> list[FacePrediction]:
        if self._gate is not None:
            self._gate.wait(timeout=30)
        if self._error is not None:
            raise self._error
        if image_bgr.max() == 0:
            return []
        h, w = image_bgr.shape[:2]
        probs = dict.fromkeys(EMOTIONS, 0.05)
        probs["happy"] = 1.0 - 0.05 * (len(EMOTIONS) - 1)
        landmarks = np.array([[w * 0.45, h * 0.45], [w * 0.55, h * 0.45], [w * 0.5, h * 0.5],
                              [w * 0.46, h * 0.58], [w * 0.54, h * 0.58]])
        return [FacePrediction(Box(w / 3, h / 3, w / 3, h / 3), 0.98, probs, landmarks)]


def encode_image(image: np.ndarray, ext: str = ".jpg") -> bytes:
    ok, data = cv2.imencode(ext, image)
    if not ok:
        raise ValueError(f"cannot encode as {ext}")
    return data.tobytes()


@pytest.fixture
def image_bytes() -> Callable[..., bytes]:
    """`image_bytes(width=64, height=48, value=128, ext=".jpg")`: a uniform BGR image, encoded; or encode
    a given array with `image_bytes(array=a, ext=...)`."""

    def make(width: int = 64, height: int = 48, value: int = 128, ext: str = ".jpg",
             array: np.ndarray | None = None) -> bytes:
        image = np.full((height, width, 3), value, np.uint8) if array is None else array
        return encode_image(image, ext)

    return make


@pytest.fixture
def jpeg_bytes(image_bytes) -> bytes:
    return image_bytes()


@pytest.fixture
def make_app() -> Callable[..., Any]:
    """`make_app(config=None, **stub_kwargs)`: the service app over `StubRecognizer(**stub_kwargs)`."""

    def make(config: ServeConfig | None = None, **stub: Any) -> Any:
        return create_app(config or ServeConfig(workers=1, queue_size=2),
                          lambda config: StubRecognizer(config, **stub))

    return make


@pytest.fixture
def make_client(make_app) -> Iterator[Callable[..., TestClient]]:
    """`make_client(config=None, raise_server_exceptions=True, **stub_kwargs)` -> a started client."""
    stack: list[TestClient] = []

    def make(config: ServeConfig | None = None, raise_server_exceptions: bool = True, **stub: Any) -> TestClient:
        client = TestClient(make_app(config, **stub), raise_server_exceptions=raise_server_exceptions)
        client.__enter__()  # runs the lifespan: the pool starts
        stack.append(client)
        return client

    yield make
    for client in reversed(stack):
        client.__exit__(None, None, None)


@pytest.fixture(scope="session")
def live_server() -> Callable[[Any], Any]:
    """`with live_server(app) as url:` serves `app` on a free loopback port."""
    return _live_server


@pytest.fixture
def live_service(make_app) -> Callable[..., Any]:
    """`with live_service(config, **stub_kwargs) as url:` serves the app over `StubRecognizer(**stub_kwargs)` on
    a free loopback port with the uvicorn settings of `ferkit serve` (its connection limits and timeouts)."""
    from ferkit.apps.service.server import uvicorn_config

    def serve(config: ServeConfig, **stub: Any) -> Any:
        return _live_server(make_app(config, **stub), lambda app: uvicorn_config(app, config, **_QUIET))

    return serve


_QUIET = {"log_level": "warning", "access_log": False}


@contextmanager
def _live_server(app: Any, uvicorn_config: Callable[[Any], Any] | None = None) -> Iterator[str]:
    """Serve `app` with uvicorn on a free loopback port in a thread; yields the base URL.

    `uvicorn_config(app)` builds the server's settings; by default uvicorn's own, quiet.
    """
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn_config(app) if uvicorn_config else uvicorn.Config(app, **_QUIET))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
