"""Running recognition for a request: the worker job, and the mapping of pool outcomes to API errors.

Shared by the REST endpoints and the live WebSocket, so both answer the same way for the same problem.
A job that has not started when its request times out is skipped by the pool; one that has started stops
before its next image, so a timed-out batch holds its worker for at most one image more.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Sequence
from dataclasses import replace
from functools import partial

import cv2

from ferkit.apps.service.errors import ApiError
from ferkit.apps.service.pool import InferencePool, Place, PoolBusy, WorkerRecognizers
from ferkit.apps.service.schemas import PredictResponse
from ferkit.apps.service.uploads import Upload, decode_image
from ferkit.errors import FerkitError
from ferkit.inference import ImageResult
from ferkit.inference.config import RecognizerConfig

# Seconds a client told "busy" is asked to wait: about the time a worker needs for a few images.
RETRY_AFTER_S = 1
ANNOTATED_JPEG_QUALITY = 85


def reserve_place(pool: InferencePool) -> Place:
    """A place in `pool` for one request, or 503 (with Retry-After) when the pool is full."""
    try:
        return pool.place()
    except PoolBusy as exc:
        raise ApiError(
            503, "busy", "the server is busy; try again shortly", headers={"Retry-After": str(RETRY_AFTER_S)}
        ) from exc


async def run_prediction(
    place: Place, uploads: Sequence[Upload], settings: RecognizerConfig, annotate: bool, timeout_s: float
) -> list[PredictResponse]:
    """Recognise the faces of `uploads` on a worker, one result per upload in order.

    Raises:
        ApiError: 504 out of time, 422 an image the recognizer rejects (or that cannot be decoded).
    """
    job = partial(_predict_uploads, uploads, settings, annotate, time.perf_counter(), time.monotonic() + timeout_s)
    try:
        return await place.run(job, timeout_s)
    except (asyncio.TimeoutError, _OutOfTime) as exc:
        raise ApiError(504, "timeout", f"no result within the {timeout_s:.1f} s left for this request") from exc
    except FerkitError as exc:
        raise ApiError(422, "unprocessable_image", str(exc)) from exc


class _OutOfTime(Exception):
    """The job's request ran out of time (its client is told 504): the images left are work for nobody."""


def _predict_uploads(
    uploads: Sequence[Upload],
    settings: RecognizerConfig,
    annotate: bool,
    submitted: float,
    deadline: float,
    recognizers: WorkerRecognizers,
) -> list[PredictResponse]:
    """The worker job: decode each upload, recognise its faces, build its response; stop at `deadline`
    (time.monotonic()), checked before each image."""
    queue_ms = (time.perf_counter() - submitted) * 1000.0
    recognizer = recognizers.get(settings)
    results = []
    for upload in uploads:
        if time.monotonic() >= deadline:
            raise _OutOfTime
        start = time.perf_counter()
        image = decode_image(upload)
        decode_ms = (time.perf_counter() - start) * 1000.0
        result = recognizer.analyze(image).with_timings(queue=queue_ms, decode=decode_ms)
        result = replace(result, source=upload.name)
        annotated = _annotated_data_url(result) if annotate else None
        results.append(PredictResponse.model_validate({**result.to_dict(), "annotated_image": annotated}))
    return results


def _annotated_data_url(result: ImageResult) -> str:
    quality = [cv2.IMWRITE_JPEG_QUALITY, ANNOTATED_JPEG_QUALITY]
    ok, jpeg = cv2.imencode(".jpg", result.plot(), quality)
    if not ok:
        raise RuntimeError("JPEG encoding of the annotated image failed")
    return "data:image/jpeg;base64," + base64.b64encode(jpeg.tobytes()).decode("ascii")
