"""The response models of the service are the result types of `ferkit.inference`, field for field, so the
documented API (/openapi.json) and what the library serialises cannot drift apart."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ferkit.apps.service.schemas import Face, PredictResponse, Timing
from ferkit.constants import EMOTIONS
from ferkit.inference import Box, FacePrediction, ImageResult, Recognizer


def _result() -> ImageResult:
    """A result as the Recognizer makes it (its own timing stages), with one face."""
    no_faces = SimpleNamespace(name="none", detect=lambda image: [])
    result = Recognizer(SimpleNamespace(classes=EMOTIONS), no_faces).analyze(np.zeros((4, 6, 3), np.uint8))
    face = FacePrediction(Box(1, 1, 2, 2), 0.9, dict.fromkeys(EMOTIONS, 1 / len(EMOTIONS)))
    return ImageResult("a.jpg", result.image, [face], result.timings)


def test_predict_response_has_the_fields_of_an_image_result_and_the_annotated_image():
    assert list(PredictResponse.model_fields) == [*_result().to_dict(), "annotated_image"]


def test_face_has_the_fields_of_a_face_prediction():
    assert list(Face.model_fields) == list(_result().faces[0].to_dict())


def test_timing_has_the_recognizers_stages_and_the_queue():
    assert set(Timing.model_fields) == {"queue", *_result().timings}


def test_an_image_result_validates_as_a_response():
    d = _result().with_timings(queue=1.0).to_dict()
    assert PredictResponse.model_validate(d).model_dump(exclude={"annotated_image"}) == d
