"""End to end: Debian's headless Chromium, driven by Playwright, uses the web page against a live server.

The server runs the real Recognizer (bundled model, YuNet from ../shared). The webcam is Chromium's
fake capture device playing a video made here from the sample photo. Screenshots go to test-artifacts/.
Nothing leaves the machine: Chromium's background networking is off and every request to another
host than the test server is aborted.
"""

from __future__ import annotations

import base64
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest

from ferkit.apps.service import ServeConfig, create_app
from ferkit.constants import EMOTIONS
from ferkit.inference import sample_image_path
from ferkit.inference.config import RecognizerConfig
from ferkit.models.bundled import bundled_models

CHROMIUM = Path("/usr/bin/chromium")
REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
YUNET_FILE = "face_detection_yunet_2026may.onnx"
MODEL = ServeConfig().recognizer.model  # the model `ferkit serve` uses by default
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TIMEOUT_MS = 20_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed: run scripts/install_browser.sh"),
]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


def write_y4m(path: Path, image_bgr: np.ndarray, frames: int = 20, fps: int = 10) -> Path:
    """A Y4M video (Chromium's fake-capture format) of `image_bgr` drifting a few pixels per frame."""
    height, width = image_bgr.shape[:2]
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for i in range(frames):
            moved = np.roll(image_bgr, shift=(i % 5) * 2, axis=1)
            out.write(b"FRAME\n" + cv2.cvtColor(moved, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path


@pytest.fixture(scope="module")
def camera_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    photo = cv2.imread(str(sample_image_path()))
    canvas = np.full((480, 640, 3), 200, np.uint8)  # the 512x512 portrait, scaled into a 640x480 frame
    face = cv2.resize(photo, (480, 480), interpolation=cv2.INTER_AREA)
    canvas[:, 80:560] = face
    return write_y4m(tmp_path_factory.mktemp("camera") / "face.y4m", canvas)


@pytest.fixture(scope="module")
def server_config(shared_dir: Path) -> ServeConfig:
    if MODEL not in bundled_models():
        pytest.skip(f"no bundled '{MODEL}' model in src/ferkit/weights")
    yunet = shared_dir / "models" / YUNET_FILE
    if not yunet.is_file():
        pytest.skip(f"{yunet} not found")
    return ServeConfig(recognizer=RecognizerConfig(model=MODEL, detector="yunet", yunet_path=yunet), workers=2)


@pytest.fixture(scope="module")
def server_url(server_config: ServeConfig, live_server) -> Iterator[str]:
    with live_server(create_app(server_config)) as url:
        yield url


@pytest.fixture(scope="module")
def playwright() -> Iterator:
    with playwright_api.sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright, camera_video: Path) -> Iterator:
    """Chromium whose camera permission is granted and whose camera plays `camera_video`."""
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=[*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
              f"--use-file-for-fake-video-capture={camera_video}"],
    )
    yield browser
    browser.close()


@pytest.fixture
def stub_server_url(make_app, live_server) -> Iterator[str]:
    """A live server over the stub recognizer, for page behaviour that does not depend on the model."""
    with live_server(make_app()) as url:
        yield url


def open_page(browser, url: str):
    """A new page on `url` that cannot reach any other host."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    host = re.escape(url.rstrip("/"))
    context.route(re.compile(rf"^(?!{host}/)"), lambda route: route.abort())
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    return page


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_upload_shows_a_labelled_box_over_the_face(browser, server_url):
    page = open_page(browser, server_url)
    page.set_input_files("#file-input", str(sample_image_path()))
    boxes = page.locator("#photo-overlay .face-box")
    expect(boxes).to_have_count(1)
    expect(page.locator("#photo-message")).to_have_text("1 face found.")
    label = boxes.first.locator(".face-label").inner_text()
    assert re.fullmatch(rf"1: ({'|'.join(EMOTIONS)}) \d+%", label), label
    expect(page.locator("#photo-faces .bar-row")).to_have_count(len(EMOTIONS))
    screenshot(page, "web_upload.png")

    # The box sits where the API puts the face, scaled to the displayed photo.
    api = httpx.post(f"{server_url}/v1/predict", files={"image": sample_image_path().read_bytes()})
    [face] = api.json()["faces"]
    shown = page.locator("#photo-image").bounding_box()
    drawn = boxes.first.bounding_box()
    scale = shown["width"] / api.json()["width"]
    x, y, w, h = face["box"]
    assert drawn["x"] == pytest.approx(shown["x"] + x * scale, abs=2)
    assert drawn["y"] == pytest.approx(shown["y"] + y * scale, abs=2)
    assert drawn["width"] == pytest.approx(w * scale, abs=2)
    assert drawn["height"] == pytest.approx(h * scale, abs=2)


DROP_FILE_JS = """async (b64) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], "dropped.jpg", { type: "image/jpeg" }));
  const zone = document.getElementById("drop-zone");
  zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true }));
  zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
}"""


def test_dropped_photo_is_analysed(browser, stub_server_url, jpeg_bytes):
    page = open_page(browser, stub_server_url)
    page.evaluate(DROP_FILE_JS, base64.b64encode(jpeg_bytes).decode())
    expect(page.locator("#photo-overlay .face-box")).to_have_count(1)
    expect(page.locator("#photo-message")).to_have_text("1 face found.")


def test_upload_problems_are_explained(browser, stub_server_url, tmp_path):
    page = open_page(browser, stub_server_url)
    message = page.locator("#photo-message")
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")
    page.set_input_files("#file-input", str(notes))
    expect(message).to_contain_text("not an image")
    expect(message).to_have_class(re.compile("error"))

    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.zeros((200, 300, 3), np.uint8))
    page.set_input_files("#file-input", str(blank))
    expect(message).to_have_text("No face found in this photo.")

    huge = tmp_path / "huge.jpg"
    huge.write_bytes(b"\xff" * (ServeConfig().max_upload_bytes + 1))
    page.set_input_files("#file-input", str(huge))
    expect(message).to_contain_text("too large")
    expect(page.locator("#photo-view")).to_be_hidden()  # the blank photo before does not stay on screen
    screenshot(page, "web_upload_error.png")


def test_busy_server_is_explained(browser, make_app, live_server, jpeg_bytes):
    gate = threading.Event()
    app = make_app(ServeConfig(workers=1, queue_size=0), gate=gate)  # stub recognizer, held by the gate
    with live_server(app) as url:
        held = threading.Thread(target=httpx.post, args=(f"{url}/v1/predict",),
                                kwargs={"content": jpeg_bytes, "headers": {"content-type": "image/jpeg"}})
        held.start()
        try:
            page = open_page(browser, url)
            for _ in range(500):
                if httpx.get(f"{url}/readyz").json()["in_flight"] == 1:
                    break
                time.sleep(0.01)
            page.set_input_files("#file-input", str(sample_image_path()))
            expect(page.locator("#photo-message")).to_contain_text("busy")
        finally:
            gate.set()
            held.join()


def test_webcam_shows_live_boxes_and_frame_rate(browser, server_url):
    page = open_page(browser, server_url)
    page.click("#camera-start")
    boxes = page.locator("#camera-overlay .face-box")
    expect(boxes).to_have_count(1)
    expect(boxes.first.locator(".face-label")).to_have_text(re.compile(rf"1: ({'|'.join(EMOTIONS)}) \d+%"))
    expect(page.locator("#camera-fps")).to_have_text(re.compile(r"[1-9]\d*\.\d frames/s|0\.[1-9] frames/s"))
    screenshot(page, "web_webcam.png")
    page.wait_for_timeout(2500)  # let the 2 s frame-rate window fill
    fps = float(page.locator("#camera-fps").inner_text().split()[0])
    assert 2 < fps <= 11  # the page sends at most 10 frames/s (one in flight); answers arrive with some jitter
    page.click("#camera-stop")
    expect(boxes).to_have_count(0)
    expect(page.locator("#camera-fps")).to_have_text("– frames/s")


def test_refused_camera_permission_is_explained(playwright, stub_server_url):
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                         args=[*CHROMIUM_ARGS, "--use-fake-device-for-media-stream",
                                               "--deny-permission-prompts"])
    try:
        page = open_page(browser, stub_server_url)
        page.click("#camera-start")
        expect(page.locator("#camera-message")).to_contain_text("permission was refused")
        screenshot(page, "web_camera_refused.png")
    finally:
        browser.close()
