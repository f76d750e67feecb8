"""The REST API through FastAPI's test client: every endpoint and every error answer."""

from __future__ import annotations

import base64
import json
import logging
import struct
import tempfile
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields

import cv2
import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from ferkit.apps.service import ServeConfig, create_app
from ferkit.apps.service import predict as predict_module
from ferkit.apps.service.logs import JsonLineFormatter
from ferkit.constants import EMOTIONS
from ferkit.errors import ImageReadError, ModelError
from ferkit.inference.config import RecognizerConfig


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims `width x height` pixels but holds almost no data: a decompression bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert body["message"]
    return body


# ---- health, readiness, models ----


def test_healthz_and_readyz(make_client):
    client = make_client(ServeConfig(recognizer=RecognizerConfig(model="stub-model", detector="haar"), workers=2))
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready", "model": "stub-model", "detector": "haar",
                                            "workers": 2, "in_flight": 0, "capacity": 2 + 16}


def test_readyz_is_503_before_the_model_is_loaded(make_app):
    client = TestClient(make_app())  # not entered: the lifespan has not run
    response = client.get("/readyz")
    _assert_error(response, 503, "not_ready")
    assert client.get("/healthz").status_code == 200


def test_a_model_that_cannot_load_stops_startup_and_is_kept_for_the_cli():
    def no_model(config):
        raise ModelError("unknown model 'nosuch'")

    app = create_app(ServeConfig(workers=1), no_model)
    with pytest.raises(ModelError, match="nosuch"), TestClient(app):
        pass
    assert isinstance(app.state.startup_error, ModelError)


def test_openapi_schema_and_docs_page(make_client):
    client = make_client()
    schema = client.get("/openapi.json").json()
    assert set(schema["paths"]) == {"/healthz", "/readyz", "/v1/models", "/v1/predict", "/v1/predict/batch"}
    body = schema["paths"]["/v1/predict"]["post"]["requestBody"]["content"]
    assert {"multipart/form-data", "image/jpeg", "image/png"} <= set(body)
    assert set(schema["paths"]["/v1/predict"]["post"]["responses"]) >= {"200", "413", "415", "422", "503"}
    assert "/v1/live" in schema["info"]["description"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "openapi.json" in docs.text


def test_models_lists_the_loaded_model(make_client):
    config = ServeConfig(recognizer=RecognizerConfig(model="stub-model", score_threshold=0.6), workers=1)
    body = make_client(config).get("/v1/models").json()
    [entry] = body["models"]
    assert entry["name"] == "stub-model"
    assert entry["classes"] == list(EMOTIONS)
    assert entry["score_threshold"] == 0.6
    assert entry["info"]["name"] == "stub"


# ---- /v1/predict ----


def test_predict_multipart_returns_faces_size_and_timing(make_client, jpeg_bytes):
    response = make_client().post("/v1/predict", files={"image": ("face.jpg", jpeg_bytes, "image/jpeg")})
    assert response.status_code == 200
    body = response.json()
    assert (body["source"], body["width"], body["height"]) == ("face.jpg", 64, 48)
    [face] = body["faces"]
    assert face["box"] == [21, 16, 21, 16]
    assert face["label"] == "happy"
    assert set(face["probabilities"]) == set(EMOTIONS)
    assert sum(face["probabilities"].values()) == pytest.approx(1.0, abs=1e-3)
    assert len(face["landmarks"]) == 5
    assert set(body["timing_ms"]) == {"queue", "decode", "detect", "classify"}
    assert body["annotated_image"] is None


@pytest.mark.parametrize(("ext", "content_type"), [(".jpg", "image/jpeg"), (".png", "image/png"),
                                                   (".png", "application/octet-stream")])
def test_predict_raw_body(make_client, image_bytes, ext, content_type):
    response = make_client().post("/v1/predict", content=image_bytes(80, 60, ext=ext),
                                  headers={"content-type": content_type})
    assert response.status_code == 200
    assert (response.json()["width"], response.json()["height"]) == (80, 60)


def test_predict_without_a_face_returns_an_empty_list(make_client, image_bytes):
    response = make_client().post("/v1/predict", content=image_bytes(value=0),
                                  headers={"content-type": "image/jpeg"})
    assert response.status_code == 200
    assert response.json()["faces"] == []


def test_predict_annotated_image_is_a_jpeg_of_the_same_size(make_client, jpeg_bytes):
    response = make_client().post("/v1/predict?annotate=true", content=jpeg_bytes,
                                  headers={"content-type": "image/jpeg"})
    url = response.json()["annotated_image"]
    prefix = "data:image/jpeg;base64,"
    assert url.startswith(prefix)
    image = cv2.imdecode(np.frombuffer(base64.b64decode(url[len(prefix):]), np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (48, 64, 3)
    assert not np.all(image == image[0, 0])  # something was drawn on the uniform grey input


def test_query_options_reach_the_recognizer(make_client, jpeg_bytes):
    built: list[dict] = []
    config = ServeConfig(recognizer=RecognizerConfig(detector="auto", score_threshold=0.7), workers=1)
    client = make_client(config, built=built)
    client.post("/v1/predict?detector=haar&score_threshold=0.5&align=false", content=jpeg_bytes,
                headers={"content-type": "image/jpeg"})
    client.post("/v1/predict", content=jpeg_bytes, headers={"content-type": "image/jpeg"})
    client.post("/v1/predict?threshold=0.4", content=jpeg_bytes, headers={"content-type": "image/jpeg"})
    # One default recognizer at startup, one variant per distinct options; the plain request reuses the default;
    # `threshold` is the deprecated name of `score_threshold`, still understood.
    assert built == [{"detector": "auto", "score_threshold": 0.7, "align": True},
                     {"detector": "haar", "score_threshold": 0.5, "align": False},
                     {"detector": "auto", "score_threshold": 0.4, "align": True}]


def test_query_options_are_named_as_the_recognizer_settings(make_client):
    """One name for each setting: the query's are RecognizerConfig's field names (and the CLI's options)."""
    params = make_client().get("/openapi.json").json()["paths"]["/v1/predict"]["post"]["parameters"]
    names = {p["name"]: p.get("deprecated", False) for p in params}
    assert names == {"detector": False, "score_threshold": False, "align": False, "annotate": False,
                     "threshold": True}
    assert {"detector", "score_threshold", "align"} <= {f.name for f in fields(RecognizerConfig)}


@pytest.mark.parametrize("query", ["threshold=1.5", "score_threshold=1.5", "score_threshold=abc", "detector=mtcnn",
                                   "align=maybe"])
def test_invalid_query_option_is_422_naming_it(make_client, jpeg_bytes, query):
    response = make_client().post(f"/v1/predict?{query}", content=jpeg_bytes, headers={"content-type": "image/jpeg"})
    body = _assert_error(response, 422, "invalid_parameter")
    assert query.split("=")[0] in body["message"]


# ---- /v1/predict/batch ----


def test_batch_returns_results_in_upload_order(make_client, image_bytes):
    sizes = [(40, 30), (90, 50), (20, 70)]
    files = [("images", (f"{w}x{h}.png", image_bytes(w, h, ext=".png"), "image/png")) for w, h in sizes]
    response = make_client().post("/v1/predict/batch", files=files)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["width"], r["height"]) for r in results] == sizes
    assert all(len(r["faces"]) == 1 for r in results)


def test_batch_with_too_many_images_is_413(make_client, jpeg_bytes):
    client = make_client(ServeConfig(workers=1, max_batch_images=2))
    files = [("images", (f"{i}.jpg", jpeg_bytes, "image/jpeg")) for i in range(3)]
    _assert_error(client.post("/v1/predict/batch", files=files), 413, "too_many_images")


def test_batch_over_the_total_pixel_limit_is_413_before_any_decoding(make_client, image_bytes, monkeypatch):
    def refuse(upload):
        raise AssertionError(f"{upload.name} was decoded")

    monkeypatch.setattr(predict_module, "decode_image", refuse)
    client = make_client(ServeConfig(workers=1, max_pixels=100 * 50, max_batch_pixels=3 * 100 * 50))
    files = [("images", (f"{i}.png", image_bytes(100, 50, ext=".png"), "image/png")) for i in range(4)]
    body = _assert_error(client.post("/v1/predict/batch", files=files), 413, "too_many_pixels")
    assert "20,000" in body["message"] and "15,000" in body["message"]


class _Pace:
    """Stands in for the stub recognizer's gate: each image takes `seconds`; `images` counts them."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.images = 0

    def wait(self, timeout: float | None = None) -> bool:
        self.images += 1
        time.sleep(self.seconds)
        return True


def test_a_batch_past_its_timeout_stops_at_the_next_image_and_frees_its_worker(make_client, jpeg_bytes):
    pace = _Pace(0.25)
    client = make_client(ServeConfig(workers=1, request_timeout_s=1.0), gate=pace)
    files = [("images", (f"{i}.jpg", jpeg_bytes, "image/jpeg")) for i in range(12)]  # 3 s of work
    _assert_error(client.post("/v1/predict/batch", files=files), 504, "timeout")
    # Sent as soon as the batch was answered 504, to the same single worker: it must not wait for the other 8.
    response = client.post("/v1/predict", content=jpeg_bytes, headers={"content-type": "image/jpeg"})
    assert response.status_code == 200, response.text
    assert pace.images <= 4 + 1 + 1  # the batch's first second, the image running at its deadline, this one


def test_batch_needs_multipart_with_images_parts(make_client, jpeg_bytes):
    client = make_client()
    _assert_error(client.post("/v1/predict/batch", content=jpeg_bytes, headers={"content-type": "image/jpeg"}),
                  415, "unsupported_media_type")
    _assert_error(client.post("/v1/predict/batch", files={"image": ("a.jpg", jpeg_bytes, "image/jpeg")}),
                  422, "missing_image")


def test_one_bad_image_in_a_batch_names_it(make_client, jpeg_bytes):
    files = [("images", ("good.jpg", jpeg_bytes, "image/jpeg")), ("images", ("bad.jpg", b"not an image", "image/jpeg"))]
    body = _assert_error(make_client().post("/v1/predict/batch", files=files), 422, "not_an_image")
    assert "bad.jpg" in body["message"]


# ---- size, type and decoding errors ----


def test_upload_over_the_size_limit_is_413(make_client, image_bytes):
    client = make_client(ServeConfig(workers=1, max_upload_bytes=1000))
    big = image_bytes(array=np.random.default_rng(0).integers(0, 255, (100, 100, 3), np.uint8), ext=".png")
    _assert_error(client.post("/v1/predict", content=big, headers={"content-type": "image/png"}),
                  413, "payload_too_large")
    _assert_error(client.post("/v1/predict", files={"image": ("big.png", big, "image/png")}), 413, "payload_too_large")
    assert client.get("/readyz").json()["in_flight"] == 0  # refused requests give their place back


def test_streamed_upload_without_length_is_cut_at_the_limit(make_client):
    client = make_client(ServeConfig(workers=1, max_upload_bytes=1000))
    chunks = iter([b"\xff" * 600, b"\xff" * 600, b"\xff" * 600])  # a generator body is sent chunked
    response = client.post("/v1/predict", content=chunks, headers={"content-type": "image/jpeg"})
    assert "content-length" not in response.request.headers
    _assert_error(response, 413, "payload_too_large")


@pytest.mark.parametrize("headers", [{}, {"content-type": "text/plain"}, {"content-type": "application/json"}])
def test_missing_or_wrong_content_type_is_415(make_client, jpeg_bytes, headers):
    response = make_client().post("/v1/predict", content=jpeg_bytes, headers=headers)
    _assert_error(response, 415, "unsupported_media_type")


def test_multipart_part_that_is_not_an_image_is_415(make_client):
    response = make_client().post("/v1/predict", files={"image": ("notes.txt", b"hello", "text/plain")})
    body = _assert_error(response, 415, "unsupported_media_type")
    assert "notes.txt" in body["message"]


def test_multipart_without_the_image_part_is_422(make_client, jpeg_bytes):
    response = make_client().post("/v1/predict", files={"photo": ("a.jpg", jpeg_bytes, "image/jpeg")})
    body = _assert_error(response, 422, "missing_image")
    assert "'image'" in body["message"]


def test_malformed_multipart_is_400(make_client):
    response = make_client().post("/v1/predict", content=b"no parts here",
                                  headers={"content-type": "multipart/form-data"})
    _assert_error(response, 400, "bad_multipart")


@pytest.mark.parametrize(("data", "code"), [(b"", "empty_image"), (b"GIF89a not really", "not_an_image"),
                                            (b"plain text, not an image", "not_an_image")])
def test_not_an_image_is_422(make_client, data, code):
    response = make_client().post("/v1/predict", content=data, headers={"content-type": "image/jpeg"})
    _assert_error(response, 422, code)


def test_undecodable_image_is_422_naming_the_problem(make_client, image_bytes):
    png = image_bytes(array=np.random.default_rng(1).integers(0, 255, (32, 32, 3), np.uint8), ext=".png")
    start = png.index(b"IDAT") + 4
    corrupt = png[:start] + bytes(len(png) - start - 12) + png[-12:]  # header intact, pixel data zeroed
    response = make_client().post("/v1/predict", files={"image": ("broken.png", corrupt, "image/png")})
    body = _assert_error(response, 422, "undecodable_image")
    assert "broken.png" in body["message"] and "could not be decoded" in body["message"]


def test_pixel_limit_refuses_large_images_before_decoding(make_client, image_bytes):
    client = make_client(ServeConfig(workers=1, max_pixels=50 * 50))
    body = _assert_error(client.post("/v1/predict", content=image_bytes(60, 50),
                                     headers={"content-type": "image/jpeg"}), 413, "too_many_pixels")
    assert "60x50" in body["message"]


def test_decompression_bomb_header_is_413(make_client):
    bomb = _png_header_only(40_000, 40_000)  # 1.6 gigapixels claimed in under 100 bytes
    response = make_client().post("/v1/predict", content=bomb, headers={"content-type": "image/png"})
    _assert_error(response, 413, "too_many_pixels")


def test_uploads_never_touch_the_disk(make_client, image_bytes, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("an upload was written to a temporary file")

    for name in ("TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, refuse)
    # Over 1 MiB: Starlette's own form parser would spool this part to a temporary file.
    noise = image_bytes(array=np.random.default_rng(2).integers(0, 255, (800, 800, 3), np.uint8), ext=".png")
    assert len(noise) > 1024 * 1024
    response = make_client().post("/v1/predict", files={"image": ("noise.png", noise, "image/png")})
    assert response.status_code == 200


# ---- recognizer failures, load and time limits ----


def test_recognizer_rejecting_the_image_is_422(make_client, jpeg_bytes):
    client = make_client(error=ImageReadError("image has an unsupported layout"))
    body = _assert_error(client.post("/v1/predict", content=jpeg_bytes, headers={"content-type": "image/jpeg"}),
                         422, "unprocessable_image")
    assert "unsupported layout" in body["message"]


def test_internal_error_is_500_without_details(make_client, jpeg_bytes, caplog):
    client = make_client(raise_server_exceptions=False, error=RuntimeError("secret detail at /srv/model.onnx"))
    response = client.post("/v1/predict", content=jpeg_bytes, headers={"content-type": "image/jpeg"})
    assert response.json() == {"code": "internal_error", "message": "internal server error"}
    assert response.status_code == 500
    assert "secret" not in response.text and "Traceback" not in response.text
    assert any("secret detail" in r.getMessage() or (r.exc_info and "secret" in str(r.exc_info[1]))
               for r in caplog.records)


def test_full_pool_answers_503_with_retry_after(make_client, jpeg_bytes):
    gate = threading.Event()
    client = make_client(ServeConfig(workers=1, queue_size=1), gate=gate)

    def post():
        return client.post("/v1/predict", content=jpeg_bytes, headers={"content-type": "image/jpeg"})

    with ThreadPoolExecutor(2) as executor:
        try:
            held = [executor.submit(post) for _ in range(2)]  # one runs (held by the gate), one waits
            for _ in range(500):
                if client.get("/readyz").json()["in_flight"] == 2:
                    break
                time.sleep(0.01)
            refused = post()
        finally:
            gate.set()
        assert [f.result().status_code for f in held] == [200, 200]
    _assert_error(refused, 503, "busy")
    assert refused.headers["retry-after"] == "1"
    assert client.get("/readyz").json()["in_flight"] == 0


def test_slow_inference_is_504_after_the_request_timeout(make_client, jpeg_bytes):
    gate = threading.Event()
    client = make_client(ServeConfig(workers=1, request_timeout_s=0.3), gate=gate)
    try:
        response = client.post("/v1/predict", content=jpeg_bytes, headers={"content-type": "image/jpeg"})
    finally:
        gate.set()
    _assert_error(response, 504, "timeout")


def test_upload_slower_than_the_request_timeout_is_408(make_app, live_server):
    def trickle():
        yield b"\xff\xd8"
        time.sleep(1.0)
        yield b"\xff" * 10

    with live_server(make_app(ServeConfig(workers=1, request_timeout_s=0.3))) as url:
        response = httpx.post(f"{url}/v1/predict", content=trickle(), headers={"content-type": "image/jpeg"})
    _assert_error(response, 408, "upload_timeout")


# ---- API key, CORS, logs ----


def test_api_key_missing_is_401_and_wrong_is_403(make_client, jpeg_bytes):
    client = make_client(ServeConfig(workers=1, api_key="s3cret"))
    image = {"content": jpeg_bytes, "headers": {"content-type": "image/jpeg"}}
    _assert_error(client.post("/v1/predict", **image), 401, "missing_api_key")
    _assert_error(client.get("/v1/models", headers={"x-api-key": "guess"}), 403, "invalid_api_key")
    ok = client.post("/v1/predict", content=jpeg_bytes, headers={"content-type": "image/jpeg", "x-api-key": "s3cret"})
    assert ok.status_code == 200
    # Probes and the page stay open: they reveal nothing and the page asks for the key itself.
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/").status_code == 200


def test_a_non_ascii_api_key_matches_its_utf8_header(make_client, jpeg_bytes):
    client = make_client(ServeConfig(workers=1, api_key="clé-секрет"))
    headers = {"content-type": "image/jpeg", "x-api-key": "clé-секрет".encode()}
    assert client.post("/v1/predict", content=jpeg_bytes, headers=headers).status_code == 200
    _assert_error(client.get("/v1/models", headers={"x-api-key": b"cle"}), 403, "invalid_api_key")


def test_options_on_a_post_route_names_post_and_each_error_code_is_in_the_openapi_description(make_client):
    client = make_client()
    answer = client.options("/v1/predict")
    assert (answer.status_code, answer.headers["allow"]) == (405, "POST")
    described = client.get("/openapi.json").json()["paths"]["/v1/predict"]["post"]["responses"]["422"]
    refused = client.post("/v1/predict", content=b"these bytes are no image", headers={"content-type": "image/jpeg"})
    assert refused.status_code == 422 and refused.json()["code"] in described["description"]


def test_cors_is_closed_by_default(make_client):
    response = make_client().get("/v1/models", headers={"origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in response.headers
    preflight = make_client().options("/v1/predict", headers={"origin": "https://elsewhere.example",
                                                              "access-control-request-method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_allows_configured_origins_only(make_client):
    client = make_client(ServeConfig(workers=1, cors_origins=("https://app.example",)))
    preflight = client.options("/v1/predict", headers={"origin": "https://app.example",
                                                       "access-control-request-method": "POST",
                                                       "access-control-request-headers": "x-api-key"})
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    other = client.get("/v1/models", headers={"origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in other.headers


def test_each_request_is_logged_as_one_json_line(make_client, jpeg_bytes, caplog):
    client = make_client()
    with caplog.at_level(logging.INFO, logger="ferkit.access"):
        client.post("/v1/predict", content=b"x", headers={"content-type": "text/plain"})
    [record] = [r for r in caplog.records if r.name == "ferkit.access"]
    line = JsonLineFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["method"] == "POST" and entry["path"] == "/v1/predict" and entry["status"] == 415
    assert entry["latency_ms"] >= 0 and entry["level"] == "info"
