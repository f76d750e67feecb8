from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from ferkit.constants import EMOTIONS
from ferkit.errors import ImageReadError
from ferkit.inference import IoUTracker, Recognizer, sample_image_path
from ferkit.inference.classify import load_classifier
from ferkit.inference.detect import YuNetDetector
from ferkit.inference.video import Frame


@pytest.fixture
def recognizer(yunet_path: Path, stub_classifier) -> Recognizer:
    return Recognizer(stub_classifier, YuNetDetector(yunet_path))


def _is_face_box(box) -> bool:
    cx, cy = box.center  # the astronaut's face: x 175..270, y 55..180 (sample photo, by eye)
    return 175 < cx < 270 and 55 < cy < 180 and 60 < box.w < 150


def test_sample_photo_yields_one_face_with_a_box_around_it(recognizer: Recognizer):
    (face,) = recognizer.predict(sample_image_path())
    assert _is_face_box(face.box)
    assert face.landmarks.shape == (5, 2) and face.score >= 0.7
    assert list(face.probabilities) == list(EMOTIONS)
    assert sum(face.probabilities.values()) == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["base", "small"])
def test_the_shipped_models_see_the_astronaut_smile(yunet_path: Path, name: str):
    """The label comes from a trained network here, not from the stub (which favours "happy" on any bright face)."""
    (face,) = Recognizer(load_classifier(name), YuNetDetector(yunet_path)).predict(sample_image_path())
    assert face.label == "happy" and face.probabilities["happy"] > 0.5


def _image_kinds(bgr: np.ndarray) -> dict[str, tuple[object, str]]:
    rgb = bgr[:, :, ::-1].copy()
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    return {
        "path str": (str(sample_image_path()), "bgr"),
        "bgr array": (bgr, "bgr"),
        "rgb array": (rgb, "rgb"),
        "gray": (gray, "bgr"),
        "bgra": (cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA), "bgr"),
        "16-bit": (bgr.astype(np.uint16) * 257, "bgr"),
        "pil rgb": (Image.fromarray(rgb), "bgr"),
        "pil rgba": (Image.fromarray(rgb).convert("RGBA"), "bgr"),
        "pil gray": (Image.fromarray(gray), "bgr"),
        "float 0..255 (img.astype(float))": (bgr.astype(float), "bgr"),
        "float 0..1": (bgr / 255.0, "bgr"),
        "int64 0..255": (bgr.astype(np.int64), "bgr"),
        "pil 'I' 0..65535": (Image.fromarray(gray.astype(np.int32) * 257), "bgr"),
    }


@pytest.mark.parametrize("kind", list(_image_kinds(np.zeros((2, 2, 3), np.uint8))))
def test_every_image_kind_finds_the_same_face(recognizer: Recognizer, sample_bgr: np.ndarray, kind: str):
    image, color = _image_kinds(sample_bgr)[kind]
    (face,) = recognizer.predict(image, color=color)
    (reference,) = recognizer.predict(sample_bgr)
    assert face.box.iou(reference.box) > 0.8


def test_an_image_without_faces_gives_an_empty_list(recognizer: Recognizer, stub_classifier):
    assert recognizer.predict(np.full((480, 640, 3), 90, np.uint8)) == []
    assert stub_classifier.batches == []  # nothing to classify, no model call


def test_unreadable_file_is_a_clear_error(recognizer: Recognizer, tmp_path: Path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 truncated")
    with pytest.raises(ImageReadError, match=r"broken\.jpg"):
        recognizer.predict(bad)


def test_faces_of_a_frame_are_classified_in_one_batch(recognizer: Recognizer, sample_bgr: np.ndarray,
                                                      stub_classifier):
    two = np.hstack([sample_bgr, sample_bgr[:, ::-1]])
    assert len(recognizer.predict(two)) == 2
    assert stub_classifier.batches == [2]
    results = recognizer.predict_batch([sample_bgr, np.zeros((100, 100, 3), np.uint8), two])
    assert [len(r) for r in results] == [1, 0, 2]
    assert stub_classifier.batches[-1] == 3  # every face of every image, one call


def test_classes_and_model_info(recognizer: Recognizer):
    assert recognizer.classes == EMOTIONS
    info = recognizer.model_info()
    assert info["name"] == "stub" and info["detector"] == "yunet"


def test_exported_model_end_to_end(tiny_onnx: Path, yunet_path: Path):
    rec = Recognizer(tiny_onnx, "yunet", yunet_path=yunet_path)
    (face,) = rec.predict(sample_image_path())
    assert set(face.probabilities) == set(EMOTIONS) and sum(face.probabilities.values()) == pytest.approx(1, abs=1e-4)
    assert rec.model_info()["source"] == str(tiny_onnx)


def test_haar_recognizer_has_no_landmarks_so_no_alignment(stub_classifier):
    (face,) = Recognizer(stub_classifier, "haar").predict(sample_image_path())
    assert _is_face_box(face.box) and face.landmarks is None


def test_stream_analyses_every_nth_frame_and_tracks(recognizer: Recognizer, sample_bgr: np.ndarray):
    frames = [Frame(i, i / 10, sample_bgr) for i in range(5)]
    results = list(recognizer.stream(frames, IoUTracker(), every=2))
    assert [r.analyzed for r in results] == [True, False, True, False, True]
    assert all(len(r.faces) == 1 and r.faces[0].track_id == 1 for r in results)
    with pytest.raises(ValueError, match="every"):
        next(recognizer.stream(frames, every=0))
