"""Knowledge distillation: the loss, the teacher's soft labels (matching the classifier, cached, reduced to
the student's classes, checked) and the augmented views it labels. Training with a teacher is tested in
test_run.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from ferkit.errors import ConfigError
from ferkit.inference.classify import OnnxClassifier
from ferkit.train.augment import AugmentConfig
from ferkit.train.config import TrainConfig
from ferkit.train.distill import augmented_views, distillation_data, distillation_loss, teacher_log_probs
from ferkit.train.loss import LossConfig


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


def test_soft_labels_cached_under_a_teacher_files_old_name_are_found_after_it_is_renamed(
        tiny_onnx: Path, tmp_path: Path, make_faces, monkeypatch: pytest.MonkeyPatch) -> None:
    faces, cache = make_faces(20), tmp_path / "cache"
    old = tmp_path / "base.onnx"  # as the ensemble was shipped before issue #12 named it `large`
    shutil.copy(tiny_onnx, old), shutil.copy(tiny_onnx.with_suffix(".json"), old.with_suffix(".json"))
    out = teacher_log_probs(old, faces, clahe=False, cache_dir=cache)
    new = old.with_name("large.onnx")
    old.rename(new), old.with_suffix(".json").rename(new.with_suffix(".json"))

    def no_second_run(self, faces):
        raise AssertionError("the renamed teacher ran again instead of reading its cache")

    monkeypatch.setattr(OnnxClassifier, "predict", no_second_run)
    np.testing.assert_array_equal(teacher_log_probs(new, faces, clahe=False, cache_dir=cache), out)
    assert [p.name.split("-")[0] for p in (cache / "teacher").glob("*.npy")] == ["base"]


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


def test_augmented_views_start_with_the_faces_and_are_drawn_reproducibly(make_faces) -> None:
    faces = make_faces(20)
    augment = AugmentConfig(flip=0, rotate=15, scale=0.15, shift=0.1, brightness=0.3, contrast=0.3, erase=0)
    views = augmented_views(faces, 3, augment, seed=0)
    assert views.shape == (3, 20, 48, 48) and views.dtype == np.uint8
    np.testing.assert_array_equal(views[0], faces.images)
    assert all(np.abs(views[v].astype(int) - faces.images).mean() > 5 for v in (1, 2))
    assert np.abs(views[1].astype(int) - views[2]).mean() > 5  # each view draws its own transforms
    np.testing.assert_array_equal(augmented_views(faces, 3, augment, seed=0), views)
    assert not np.array_equal(augmented_views(faces, 2, augment, seed=1)[1], views[1])


def test_the_teacher_labels_every_view_and_only_flip_and_erase_stay_online(tiny_onnx: Path, tmp_path: Path,
                                                                             make_faces) -> None:
    faces = make_faces(24)
    augment = AugmentConfig(flip=0.5, rotate=15, scale=0.1, shift=0.1, brightness=0.2, contrast=0.2, erase=0.3)
    data = distillation_data(tiny_onnx, faces, False, tmp_path, views=3, augment=augment, seed=0)
    assert data.images.shape == (3, 24, 48, 48) and data.log_probs.shape == (3, 24, 7)
    classifier = OnnxClassifier(tiny_onnx)
    for view in range(3):
        np.testing.assert_allclose(np.exp(data.log_probs[view]), classifier.predict(data.images[view]), atol=1e-5)
    assert len(list((tmp_path / "teacher").glob("*.npy"))) == 3  # one cache file per view
    assert data.online_augment == AugmentConfig(flip=0.5, rotate=0, scale=0, shift=0, brightness=0, contrast=0,
                                                erase=0.3)
    single = distillation_data(tiny_onnx, faces, False, tmp_path, views=1, augment=augment, seed=0)
    assert single.online_augment == augment and single.images.shape == (1, 24, 48, 48)
    np.testing.assert_array_equal(single.log_probs[0], data.log_probs[0])


def test_a_teacher_on_the_training_device_gives_the_labels_onnx_runtime_gives(tiny_onnx: Path, tmp_path: Path,
                                                                               make_faces) -> None:
    """On a GPU the teacher is rebuilt in PyTorch there (here the CPU stands in for it): same labels, same cache."""
    faces = make_faces(24)
    augment = AugmentConfig(rotate=15, scale=0.1)
    on_device = distillation_data(tiny_onnx, faces, False, tmp_path / "a", 2, augment, 0, torch.device("cpu"))
    onnx_runtime = distillation_data(tiny_onnx, faces, False, tmp_path / "b", 2, augment, 0)
    np.testing.assert_allclose(on_device.log_probs, onnx_runtime.log_probs, atol=1e-4)
    assert sorted(p.name for p in (tmp_path / "a" / "teacher").iterdir()) == \
        sorted(p.name for p in (tmp_path / "b" / "teacher").iterdir())


def test_an_int8_teacher_that_cannot_be_rebuilt_stays_on_onnx_runtime(tiny_onnx: Path, tmp_path: Path,
                                                                      make_faces) -> None:
    from ferkit.export.quantize import quantize_int8

    faces = make_faces(16)
    int8 = quantize_int8(tiny_onnx, tmp_path / "int8.onnx", faces.images)
    data = distillation_data(int8, faces, False, None, 1, AugmentConfig(), 0, torch.device("cpu"))
    np.testing.assert_allclose(np.exp(data.log_probs[0]), OnnxClassifier(int8).predict(faces.images), atol=1e-5)


def test_distillation_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="mixup or cutmix"):
        TrainConfig(teacher="large", augment=AugmentConfig(mixup=0.2))
    with pytest.raises(ConfigError, match="distill_weight"):
        TrainConfig(loss=LossConfig(distill_weight=1.5))
    with pytest.raises(ConfigError, match="distill_temperature"):
        TrainConfig(loss=LossConfig(distill_temperature=0))
    with pytest.raises(ConfigError, match="distill_views"):
        TrainConfig(teacher="large", distill_views=0)
    with pytest.raises(ConfigError, match="needs a --teacher"):
        TrainConfig(distill_views=3)


def test_a_slow_teacher_reports_its_progress(tiny_onnx: Path, make_faces, monkeypatch: pytest.MonkeyPatch,
                                             caplog: pytest.LogCaptureFixture) -> None:
    """Labelling takes minutes on a full data set: its log says how far it is (issue #22: it was silent)."""
    from functools import partial

    from ferkit.progress import Progress
    from ferkit.train import distill

    monkeypatch.setattr(distill, "Progress", partial(Progress, every_s=0.0))  # every call is "slow"
    faces = make_faces(300)
    with caplog.at_level("INFO", logger="ferkit.train.distill"):
        teacher_log_probs(tiny_onnx, faces, clahe=False, cache_dir=None)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("teacher ")]
    assert lines[0].startswith(f"teacher {tiny_onnx.name}: 256/300 faces") and "300/300 faces" in lines[-1]


def test_labelling_killed_midway_resumes_where_it_stopped(tiny_onnx: Path, tmp_path: Path, make_faces,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """One view takes an ensemble hours on 2 cores: a run killed while labelling keeps what was labelled."""
    from ferkit.train import distill

    monkeypatch.setattr(distill, "CHUNK", 10)
    monkeypatch.setattr(distill, "SAVE_EVERY", 2)
    faces, real, calls = make_faces(75), OnnxClassifier.predict, []

    def killed_at_fifth_call(self, images):
        calls.append(len(images))
        if len(calls) == 5:
            raise KeyboardInterrupt  # as a kill: nothing after this call runs
        return real(self, images)

    monkeypatch.setattr(OnnxClassifier, "predict", killed_at_fifth_call)
    with pytest.raises(KeyboardInterrupt):
        teacher_log_probs(tiny_onnx, faces, clahe=False, cache_dir=tmp_path)
    assert [p.name.endswith(".partial.npy") for p in (tmp_path / "teacher").glob("*.npy")] == [True]

    calls.clear()
    monkeypatch.setattr(OnnxClassifier, "predict", lambda self, images: calls.append(len(images)) or real(self, images))
    out = teacher_log_probs(tiny_onnx, faces, clahe=False, cache_dir=tmp_path)
    assert sum(calls) == 75 - 40  # the 4 calls saved by the first run are not run again
    np.testing.assert_allclose(np.exp(out), OnnxClassifier(tiny_onnx).predict(faces.images), atol=1e-5)
    assert not list((tmp_path / "teacher").glob("*.partial.npy"))


def test_new_metrics_in_the_teachers_metadata_keep_its_cached_labels(tiny_onnx: Path, tmp_path: Path, make_faces,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Scoring a shipped model again rewrites its metadata (benchmarks/eval_bundled.py --write-metadata)."""
    from ferkit.export.onnx import read_metadata, write_metadata

    teacher, faces = tmp_path / "teacher.onnx", make_faces(20)
    shutil.copy(tiny_onnx, teacher), shutil.copy(tiny_onnx.with_suffix(".json"), teacher.with_suffix(".json"))
    out = teacher_log_probs(teacher, faces, clahe=False, cache_dir=tmp_path)
    write_metadata(teacher, {**read_metadata(teacher), "metrics": {"accuracy": 0.5}})
    monkeypatch.setattr(OnnxClassifier, "predict", lambda self, images: pytest.fail("labelled again"))
    np.testing.assert_array_equal(teacher_log_probs(teacher, faces, clahe=False, cache_dir=tmp_path), out)
