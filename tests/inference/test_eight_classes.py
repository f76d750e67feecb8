"""A model with FER+'s eight classes flows through every output: the Recognizer's faces, the service's answer
and the results table carry its eight probabilities, contempt included."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ferkit.apps.service.schemas import PredictResponse  # noqa: E402
from ferkit.data.ferplus import FERPLUS_CLASSES  # noqa: E402
from ferkit.export.onnx import export_onnx  # noqa: E402
from ferkit.inference import Recognizer  # noqa: E402
from ferkit.inference.types import Box, Detection  # noqa: E402
from ferkit.jobs.table import ModelVersion, columns, face_rows  # noqa: E402
from ferkit.models import create_model  # noqa: E402
from ferkit.models.checkpoint import save_model  # noqa: E402
from ferkit.models.meta import ModelMeta  # noqa: E402


class _OneFace:
    name = "one-face"

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        return [Detection(Box(10, 10, 60, 60), 0.99)]


@pytest.fixture(scope="module")
def eight_class_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ferplus-model")
    torch.manual_seed(0)
    model = create_model("test_tiny", num_classes=len(FERPLUS_CLASSES))
    saved = save_model(folder / "m.pt", model, ModelMeta("test_tiny", model.model_args, FERPLUS_CLASSES))
    return export_onnx(saved, folder / "ferplus.onnx").onnx_path


def test_eight_probabilities_reach_the_result_the_service_and_the_table(eight_class_onnx: Path) -> None:
    rec = Recognizer(model=eight_class_onnx, detector=_OneFace(), align=False)
    image = np.random.default_rng(0).integers(0, 256, (100, 100, 3), dtype=np.uint8)
    result = rec.analyze(image)
    assert rec.classes == FERPLUS_CLASSES
    face = result.faces[0]
    assert tuple(face.probabilities) == FERPLUS_CLASSES and sum(face.probabilities.values()) == pytest.approx(1)
    answer = result.to_dict()
    answer = PredictResponse.model_validate({**answer, "timing_ms": {**answer["timing_ms"], "queue": 0.0}})
    assert set(answer.faces[0].probabilities) == set(FERPLUS_CLASSES)
    model = ModelVersion("ferplus", "0" * 12, rec.classes)
    row = face_rows(replace(result, source="photo.jpg"), model)[0]
    assert list(row) == columns(FERPLUS_CLASSES) and row["prob_contempt"] == answer.faces[0].probabilities["contempt"]
