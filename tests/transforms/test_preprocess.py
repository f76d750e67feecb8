"""The one preprocessing path shared by training and inference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ferkit.errors import ImageReadError
from ferkit.transforms.preprocess import (
    PreprocessConfig,
    prepare_face,
    prepare_faces,
    resize_faces,
    to_gray,
    to_model_input,
)


def _gradient(h: int = 96, w: int = 80) -> np.ndarray:
    return np.tile(np.linspace(0, 255, w, dtype=np.uint8), (h, 1))


def test_every_image_kind_becomes_the_same_gray_face() -> None:
    gray = _gradient()
    bgr = np.repeat(gray[:, :, None], 3, axis=2)
    bgra = np.dstack([bgr, np.full_like(gray, 255)])
    as16 = gray.astype(np.uint16) << 8
    as_float = gray.astype(np.float32) / 255
    faces = [prepare_face(im) for im in (gray, gray[:, :, None], bgr, bgra, as16, as_float)]
    for face in faces:
        assert face.shape == (48, 48) and face.dtype == np.uint8
        assert np.abs(face.astype(int) - faces[0]).max() <= 1


def test_resize_clahe_and_round_trip_config() -> None:
    cfg = PreprocessConfig(input_size=64, clahe=True)
    flat = np.full((30, 30), 100, np.uint8)
    flat[10:20, 10:20] = 110
    face = prepare_face(flat, cfg)
    assert face.shape == (64, 64)
    assert int(face.max()) - int(face.min()) > 10  # CLAHE stretched the low contrast
    assert PreprocessConfig.from_dict(cfg.to_dict()) == cfg


def test_batch_forms_and_empty_batch() -> None:
    batch = prepare_faces([_gradient(), _gradient(50, 50)])
    assert batch.shape == (2, 48, 48)
    assert prepare_faces([]).shape == (0, 48, 48)


def test_faces_of_another_size_are_resized_as_prepare_face_resizes_one() -> None:
    faces = np.random.default_rng(3).integers(0, 256, (4, 48, 48), dtype=np.uint8)
    for size in (44, 64):
        resized = resize_faces(faces, size)
        assert resized.shape == (4, size, size) and resized.dtype == np.uint8
        assert np.array_equal(resized, prepare_faces(list(faces), PreprocessConfig(input_size=size)))
    assert resize_faces(faces, 48) is faces and resize_faces(faces[:0], 44).shape == (0, 44, 44)


def test_model_input_is_identical_for_numpy_and_torch() -> None:
    faces = prepare_faces([_gradient()])
    x_np = to_model_input(faces)
    x_t = to_model_input(torch.from_numpy(faces))
    assert x_np.shape == (1, 1, 48, 48) and x_np.dtype == np.float32
    np.testing.assert_allclose(x_np, x_t.numpy())
    assert x_np.min() >= 0.0 and x_np.max() <= 1.0


@pytest.mark.parametrize("bad", [np.zeros((0, 5), np.uint8), np.full((5, 5), -1, np.int32),
                                 np.zeros((5, 5, 2), np.uint8)])
def test_bad_arrays_are_named_errors(bad: np.ndarray) -> None:
    with pytest.raises(ImageReadError):
        to_gray(bad)
