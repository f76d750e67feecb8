from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ferkit.errors import ModelError
from ferkit.inference.detect import HaarDetector, YuNetDetector, create_detector

# Where the astronaut's face is in the 512x512 sample photo (checked by eye): x 175..270, y 55..180.
FACE_REGION = (175, 55, 270, 180)


def _around_face(box, scale: float = 1.0) -> bool:
    x1, y1, x2, y2 = (v * scale for v in FACE_REGION)
    cx, cy = box.center
    return x1 < cx < x2 and y1 < cy < y2 and box.w < (x2 - x1) * 1.5


def _rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    matrix = cv2.getRotationMatrix2D((222, 118), degrees, 1.0)  # about the face centre
    return cv2.warpAffine(image, matrix, image.shape[1::-1], borderMode=cv2.BORDER_REPLICATE)


def test_yunet_finds_the_one_face_with_landmarks_inside_its_box(yunet_path: Path, sample_bgr: np.ndarray):
    (face,) = YuNetDetector(yunet_path).detect(sample_bgr)
    assert _around_face(face.box) and face.score >= 0.7
    assert face.landmarks.shape == (5, 2)
    xs, ys = face.landmarks[:, 0], face.landmarks[:, 1]
    assert (face.box.x <= xs).all() and (xs <= face.box.x + face.box.w).all()
    assert (face.box.y <= ys).all() and (ys <= face.box.y + face.box.h).all()


def test_yunet_reports_boxes_of_large_images_in_original_pixels(yunet_path: Path, sample_bgr: np.ndarray):
    big = cv2.resize(sample_bgr, None, fx=3, fy=3)  # 1536 px: downscaled to 640 for detection
    (face,) = YuNetDetector(yunet_path).detect(big)
    assert _around_face(face.box, scale=3)


@pytest.mark.parametrize("engine", ["opencv", "onnxruntime"])
def test_no_faces_is_an_empty_list(yunet_path: Path, engine: str):
    assert YuNetDetector(yunet_path, engine=engine).detect(np.full((480, 640, 3), 127, np.uint8)) == []
    assert HaarDetector().detect(np.full((480, 640, 3), 127, np.uint8)) == []


def test_min_face_drops_smaller_faces(yunet_path: Path, sample_bgr: np.ndarray):
    assert YuNetDetector(yunet_path, min_face=200).detect(sample_bgr) == []


def test_yunet_finds_a_face_rotated_30_degrees_that_haar_misses(yunet_path: Path, sample_bgr: np.ndarray):
    rotated = _rotate(sample_bgr, 30)
    assert len(YuNetDetector(yunet_path, score_threshold=0.7).detect(rotated)) == 1
    assert HaarDetector().detect(rotated) == []


def test_haar_finds_the_upright_face_without_landmarks(sample_bgr: np.ndarray):
    (face,) = HaarDetector().detect(sample_bgr)
    assert _around_face(face.box) and face.landmarks is None and face.score == 1.0


@pytest.mark.parametrize("degrees", [0, 30])
def test_both_yunet_engines_find_the_same_faces(yunet_path: Path, sample_bgr: np.ndarray, degrees: float):
    image = np.hstack([_rotate(sample_bgr, degrees), sample_bgr[:, ::-1]])  # two faces
    opencv = YuNetDetector(yunet_path, engine="opencv").detect(image)
    onnx = YuNetDetector(yunet_path, engine="onnxruntime").detect(image)
    assert len(opencv) == len(onnx) == 2
    for a, b in zip(sorted(opencv, key=lambda d: d.box.x), sorted(onnx, key=lambda d: d.box.x), strict=True):
        assert a.box.iou(b.box) > 0.99 and abs(a.score - b.score) < 1e-3
        assert np.abs(a.landmarks - b.landmarks).max() < 0.5


def test_create_detector_by_name(yunet_path: Path):
    assert create_detector("yunet", yunet_path=yunet_path).name == "yunet"
    assert create_detector("yunet-ort", yunet_path=yunet_path).name == "yunet-ort"
    assert isinstance(create_detector("haar"), HaarDetector)
    with pytest.raises(ModelError, match="unknown detector 'mtcnn'"):
        create_detector("mtcnn")
    with pytest.raises(ModelError, match="no such YuNet model file"):
        create_detector("yunet", yunet_path="missing.onnx")


def test_a_file_that_is_not_yunet_is_a_clear_error(tmp_path: Path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"junk")
    for engine in ("opencv", "onnxruntime"):
        with pytest.raises(ModelError, match=r"bad\.onnx"):
            YuNetDetector(bad, engine=engine)
    with pytest.raises(ModelError, match="unknown YuNet engine"):
        YuNetDetector(bad, engine="tensorrt")
