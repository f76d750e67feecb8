"""Response bodies of the REST API as pydantic models, so /openapi.json describes them exactly."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ErrorResponse(BaseModel):
    """Every 4xx/5xx answer."""

    code: str = Field(description="stable machine-readable reason, e.g. 'payload_too_large'", examples=["busy"])
    message: str = Field(description="what went wrong and what to change")


class Face(BaseModel):
    """One detected face and its expression: `ferkit.inference.FacePrediction.to_dict()`."""

    box: list[int] = Field(min_length=4, max_length=4, description="[x, y, width, height] in image pixels")
    score: float = Field(description="face detection score, 0..1")
    landmarks: list[list[float]] | None = Field(
        description="5 points [x, y]: right eye, left eye, nose tip, right and left mouth corner; null if the "
        "detector gives none"
    )
    label: str = Field(description="most probable expression")
    confidence: float = Field(description="probability of `label`")
    probabilities: dict[str, float] = Field(description="probability of every class, summing to 1")
    track_id: int | None = Field(description="always null here: tracking needs a video stream")


class Timing(BaseModel):
    """Where the time of one image went, in milliseconds."""

    queue: float = Field(description="waiting for a free worker")
    decode: float = Field(description="decoding the upload")
    detect: float = Field(description="finding the faces")
    classify: float = Field(description="cropping the faces and classifying their expressions")


class PredictResponse(BaseModel):
    """The result of one image: `ferkit.inference.ImageResult.to_dict()`, plus the annotated image if asked for."""

    source: str | None = Field(
        description="the name the image was sent under: the multipart file name, 'the request body' for a raw "
        "body, 'frame' for a live frame"
    )
    width: int = Field(description="image width in pixels")
    height: int = Field(description="image height in pixels")
    frame: int | None = Field(description="always null here: the index of a video frame")
    time_s: float | None = Field(description="always null here: the time of a video frame")
    faces: list[Face]
    timing_ms: Timing
    annotated_image: str | None = Field(
        default=None, description="data:image/jpeg;base64 URL of the image with boxes and labels, if asked for"
    )


class BatchResponse(BaseModel):
    results: list[PredictResponse] = Field(description="one entry per uploaded image, in upload order")
    total_ms: float


class ModelEntry(BaseModel):
    name: str
    classes: list[str]
    detector: str
    score_threshold: float
    align: bool
    info: dict[str, Any] = Field(description="the model's own metadata (architecture, input size, metrics...)")


class ModelsResponse(BaseModel):
    models: list[ModelEntry]


class HealthResponse(BaseModel):
    status: Literal["ok"]


class ReadyResponse(BaseModel):
    status: Literal["ready"]
    model: str
    detector: str
    workers: int
    in_flight: int = Field(description="requests admitted now (reading their upload, waiting or running)")
    capacity: int = Field(description="in_flight at which new requests get 503")
