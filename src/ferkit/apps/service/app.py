"""`create_app`: the FastAPI application of `ferkit serve` (REST API, live WebSocket, web page).

Example:
    >>> app = create_app(ServeConfig(model="small"))  # doctest: +SKIP
    >>> uvicorn.run(app)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from importlib.resources import files
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import Match, Mount
from starlette.types import Scope

from ferkit import __version__
from ferkit.apps.service.config import ServeConfig
from ferkit.apps.service.errors import ApiError, error_response, install_error_handlers
from ferkit.apps.service.live import create_live_router
from ferkit.apps.service.logs import AccessLogMiddleware
from ferkit.apps.service.pool import InferencePool, RecognizerFactory
from ferkit.apps.service.predict import reserve_place, run_prediction
from ferkit.apps.service.schemas import (
    BatchResponse,
    ErrorResponse,
    HealthResponse,
    ModelEntry,
    ModelsResponse,
    PredictResponse,
    ReadyResponse,
)
from ferkit.apps.service.security import api_key_dependency
from ferkit.apps.service.uploads import GENERIC_BINARY, IMAGE_MEDIA_TYPES, MULTIPART, read_uploads
from ferkit.errors import FerkitError
from ferkit.inference.config import RecognizerConfig
from ferkit.inference.detect import DetectorName

SINGLE_FIELD = "image"
BATCH_FIELD = "images"

_BINARY = {"type": "string", "format": "binary"}
# Each error status of the API, what it means, and the `code`s of its answers (ErrorResponse).
_ERRORS = {
    status: {"model": ErrorResponse, "description": f"{description}; code: {', '.join(codes)}"}
    for status, (description, codes) in {
        400: ("malformed multipart body, or the client went away", ("bad_multipart", "client_disconnected")),
        401: ("API key missing", ("missing_api_key",)),
        403: ("API key not valid", ("invalid_api_key",)),
        408: ("the upload took longer than the request timeout", ("upload_timeout",)),
        413: ("upload too large, too many pixels or too many images",
              ("payload_too_large", "too_many_pixels", "too_many_images")),
        415: ("missing or wrong Content-Type", ("unsupported_media_type",)),
        422: ("bytes that are not an image, an empty or undecodable image, a missing or extra image part, an "
              "image the recognizer rejects, or an invalid query option",
              ("not_an_image", "empty_image", "undecodable_image", "missing_image", "too_many_images",
               "unprocessable_image", "invalid_parameter")),
        503: ("server busy (see Retry-After)", ("busy",)),
        504: ("no result within the request timeout", ("timeout",)),
    }.items()
}


def _request_body(field: str, many: bool) -> dict:
    """OpenAPI requestBody: a multipart form with `field`, or (single image only) the raw image bytes."""
    part = {"type": "array", "items": _BINARY, "minItems": 1} if many else _BINARY
    content: dict = {
        MULTIPART: {"schema": {"type": "object", "required": [field], "properties": {field: part}}},
    }
    if not many:
        content.update({t: {"schema": _BINARY} for t in (*IMAGE_MEDIA_TYPES, GENERIC_BINARY)})
    return {"requestBody": {"required": True, "content": content}}


class _PageMount(Mount):
    """The web page's files, for GET and HEAD only: any other method falls through to the API's routes, so that
    `OPTIONS /v1/predict` gets 405 with `Allow: POST` from its route, not the page's `Allow: GET, HEAD`."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD"):
            return Match.NONE, {}
        return super().matches(scope)


class PredictOptions:
    """Query options of the predict endpoints, named as the `RecognizerConfig` fields they replace; unset ones
    take the server's settings."""

    def __init__(
        self,
        detector: Annotated[DetectorName | None, Query(description="face detector")] = None,
        score_threshold: Annotated[float | None, Query(ge=0.0, le=1.0, description="minimum face detection "
                                                                                   "score")] = None,
        align: Annotated[bool | None, Query(description="rotate faces upright by their eyes first")] = None,
        annotate: Annotated[bool, Query(description="also return the image with boxes and labels")] = False,
        threshold: Annotated[float | None, Query(ge=0.0, le=1.0, deprecated=True,
                                                 description="the old name of score_threshold")] = None,
    ) -> None:
        self.settings = {"detector": detector, "align": align,
                         "score_threshold": threshold if score_threshold is None else score_threshold}
        self.annotate = annotate

    def resolve(self, default: RecognizerConfig) -> RecognizerConfig:
        """The server's settings with this request's options in place of them."""
        return replace(default, **{name: value for name, value in self.settings.items() if value is not None})


def create_app(config: ServeConfig | None = None, recognizer_factory: RecognizerFactory | None = None) -> FastAPI:
    """Build the service. The model loads once, when the app starts (lifespan): one recognizer per worker.

    Args:
        config: limits, defaults and security settings; `ServeConfig()` if None.
        recognizer_factory: builds a recognizer from a `RecognizerConfig` (`config.recognizer`, or it with a
            request's options replaced); by default `RecognizerConfig.build`. Tests pass a stub here.
    """
    config = config or ServeConfig()
    pool = InferencePool(
        recognizer_factory or RecognizerConfig.build,
        config.recognizer,
        workers=config.workers,
        queue_size=config.queue_size,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            pool.start()
        except FerkitError as exc:
            app.state.startup_error = exc  # for `ferkit serve` to report as a one-line error
            raise
        try:
            yield
        finally:
            await asyncio.to_thread(pool.stop)

    app = FastAPI(
        title="ferkit",
        version=__version__,
        description="Facial expression recognition: faces, boxes, landmarks and expression probabilities.\n\n"
        "Live video: open the WebSocket `/v1/live` (add `?api_key=` when the service needs a key), send each "
        "frame as a binary message holding a JPEG, PNG or WebP image, and read one JSON message per answered "
        "frame: the fields of a /v1/predict answer with `type: result`, or `type: error` with `code` and "
        "`message`. Frames that arrive while one is being recognised are dropped, except the newest.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    protected = [Depends(api_key_dependency(config.api_key))] if config.api_key else []
    app.include_router(_health_router(pool, config))
    app.include_router(_api_router(pool, config), dependencies=protected)
    app.include_router(create_live_router(pool, config))
    app.router.routes.append(_PageMount("/", StaticFiles(directory=_web_dir(), html=True), name="web"))
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "X-API-Key"],
        )
    app.add_middleware(AccessLogMiddleware)
    return app


def _detector_in_use(pool: InferencePool) -> str:
    """The detector the recognizers really run ("auto" resolves to YuNet or Haar at startup)."""
    return str(pool.model_info.get("detector", pool.default.detector))


def _web_dir() -> Path:
    return Path(str(files("ferkit.apps") / "web"))


def _health_router(pool: InferencePool, config: ServeConfig) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", response_model=HealthResponse, summary="the process is alive")
    async def healthz() -> HealthResponse:
        return HealthResponse(status="ok")

    @router.get(
        "/readyz",
        response_model=ReadyResponse,
        responses={503: {"model": ErrorResponse, "description": "model or detector not loaded"}},
        summary="the model and detector are loaded and the workers run",
    )
    async def readyz() -> ReadyResponse | JSONResponse:
        if not pool.ready:
            return error_response(503, "not_ready", "the model is not loaded yet", {"Retry-After": "1"})
        return ReadyResponse(status="ready", model=config.recognizer.model, detector=_detector_in_use(pool),
                             workers=pool.workers, in_flight=pool.admitted, capacity=pool.capacity)

    return router


def _api_router(pool: InferencePool, config: ServeConfig) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["recognition"], responses=_ERRORS)

    @router.post(
        "/predict",
        response_model=PredictResponse,
        summary="faces and expressions in one image",
        description=f"Send the image as multipart/form-data (one part named '{SINGLE_FIELD}') or as the raw "
        "body with its image/* Content-Type.",
        openapi_extra=_request_body(SINGLE_FIELD, many=False),
    )
    async def predict(request: Request, options: Annotated[PredictOptions, Depends()]) -> PredictResponse:
        deadline = time.monotonic() + config.request_timeout_s
        with reserve_place(pool) as place:  # before reading the upload: only admitted uploads enter memory
            uploads = await read_uploads(request, SINGLE_FIELD, raw_allowed=True, config=config, deadline=deadline)
            if len(uploads) > 1:
                raise ApiError(422, "too_many_images", f"send one '{SINGLE_FIELD}' part, or use /v1/predict/batch")
            timeout_s = deadline - time.monotonic()
            [result] = await run_prediction(place, uploads, options.resolve(pool.default), options.annotate,
                                            timeout_s)
        return result

    @router.post(
        "/predict/batch",
        response_model=BatchResponse,
        summary="faces and expressions in several images",
        description=f"Send multipart/form-data with one part named '{BATCH_FIELD}' per image, at most "
        f"{config.max_batch_images} images of {config.max_batch_pixels:,} pixels in all; results come back in "
        "the same order.",
        openapi_extra=_request_body(BATCH_FIELD, many=True),
    )
    async def predict_batch(request: Request, options: Annotated[PredictOptions, Depends()]) -> BatchResponse:
        start = time.monotonic()
        deadline = start + config.request_timeout_s
        with reserve_place(pool) as place:
            uploads = await read_uploads(request, BATCH_FIELD, raw_allowed=False, config=config, deadline=deadline)
            if len(uploads) > config.max_batch_images:
                raise ApiError(413, "too_many_images",
                               f"{len(uploads)} images; the limit is {config.max_batch_images} per request")
            pixels = sum(upload.width * upload.height for upload in uploads)  # from the headers: nothing decoded
            if pixels > config.max_batch_pixels:
                raise ApiError(413, "too_many_pixels", f"{len(uploads)} images of {pixels:,} pixels in all; the "
                               f"limit is {config.max_batch_pixels:,} per request")
            timeout_s = deadline - time.monotonic()
            results = await run_prediction(place, uploads, options.resolve(pool.default), options.annotate,
                                           timeout_s)
        return BatchResponse(results=results, total_ms=round((time.monotonic() - start) * 1000.0, 2))

    @router.get("/models", response_model=ModelsResponse, summary="the loaded model and its metadata")
    async def models() -> ModelsResponse:
        default = pool.default
        entry = ModelEntry(
            name=config.recognizer.model,
            classes=pool.classes,
            detector=_detector_in_use(pool),
            score_threshold=default.score_threshold,
            align=default.align,
            info=pool.model_info,
        )
        return ModelsResponse(models=[entry])

    return router

