"""Knowledge distillation: the loss, and the teacher's soft labels (matching the classifier, cached,
reduced to the student's classes, checked). Training with a teacher is tested in test_run.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ferkit.errors import ConfigError
from ferkit.inference.classify import OnnxClassifier
from ferkit.train.config import TrainConfig
from ferkit.train.distill import distillation_loss, teacher_log_probs


def test_distillation_loss_is_temperature_scaled_kl() -> None:
    torch.manual_seed(0)
    student, teacher_logits = torch.randn(5, 7), torch.randn(5, 7)
    teacher = torch.log_softmax(teacher_logits, 1)
    t = 3.0
    p = torch.softmax(teacher_logits / t, 1)
    expected = (p * (p.log() - torch.log_softmax(student / t, 1))).sum(1).mean() * t * t
    torch.testing.assert_close(distillation_loss(student, teacher, t), expected)
    # A student whose logits equal the teacher's (up to a constant per row) has nothing left to learn.
    assert distillation_loss(teacher_logits + 5.0, teacher, t).item() == pytest.approx(0.0, abs=1e-5)


def test_teacher_soft_labels_match_the_classifier_and_are_cached(tiny_onnx: Path, tmp_path: Path, make_faces,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    faces = make_faces(40)
    out = teacher_log_probs(tiny_onnx, faces, clahe=False, cache_dir=tmp_path)
    expected = OnnxClassifier(tiny_onnx).predict(faces.images)
    np.testing.assert_allclose(np.exp(out), expected, atol=1e-5)
    assert len(list((tmp_path / "teacher").glob("*.npy"))) == 1

    def no_second_run(self, faces):
        raise AssertionError("the teacher ran again instead of reading its cache")

    monkeypatch.setattr(OnnxClassifier, "predict", no_second_run)
    np.testing.assert_array_equal(teacher_log_probs(tiny_onnx, faces, clahe=False, cache_dir=tmp_path), out)


def test_teacher_outputs_are_reduced_to_the_students_classes(tiny_onnx: Path, make_faces) -> None:
    classes = ("happy", "sad", "neutral")
    faces = make_faces(30, classes=classes)
    out = teacher_log_probs(tiny_onnx, faces, clahe=False, cache_dir=None)
    full = OnnxClassifier(tiny_onnx).predict(faces.images)[:, [3, 4, 6]]
    np.testing.assert_allclose(np.exp(out), full / full.sum(1, keepdims=True), atol=1e-5)


def test_teacher_must_know_the_classes_and_prepare_faces_alike(tiny_onnx: Path, make_faces) -> None:
    with pytest.raises(ConfigError, match="contempt"):
        teacher_log_probs(tiny_onnx, make_faces(14, classes=("happy", "contempt")), False, None)
    with pytest.raises(ConfigError, match="clahe"):
        teacher_log_probs(tiny_onnx, make_faces(14), clahe=True, cache_dir=None)
    with pytest.raises(ConfigError, match="64px"):
        teacher_log_probs(tiny_onnx, make_faces(14, size=64), clahe=False, cache_dir=None)


def test_distillation_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="mixup or cutmix"):
        TrainConfig(teacher="base", aug_mixup=0.2)
    with pytest.raises(ConfigError, match="distill_weight"):
        TrainConfig(distill_weight=1.5)
    with pytest.raises(ConfigError, match="distill_temperature"):
        TrainConfig(distill_temperature=0)
