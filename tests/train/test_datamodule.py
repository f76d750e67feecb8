"""The data module: training batches carry each face's drawn view with the teacher's output for that view,
or the targets of their mixing; validation batches are the plain faces."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from ferkit.train.augment import AugmentConfig, MixedTargets
from ferkit.train.datamodule import FaceDataModule


def _pixels(x: torch.Tensor) -> torch.Tensor:
    return x[:, 0].mul(255).round().to(torch.uint8)


def _teacher_marking_views(num_views: int, n: int) -> np.ndarray:
    """Teacher outputs whose argmax is the view number, so a batch shows which view each face came from."""
    out = np.full((num_views, n, 7), -10.0, np.float32)
    for view in range(num_views):
        out[view, :, view] = 0.0
    return out


def test_each_face_travels_with_the_teacher_output_of_its_drawn_view(make_faces) -> None:
    faces = make_faces(64)
    views = np.stack([faces.images, 255 - faces.images, faces.images // 2])
    dm = FaceDataModule(faces, faces, 16, AugmentConfig.none(), teacher_log_probs=_teacher_marking_views(3, 64),
                        train_views=views)
    dm.trainer = SimpleNamespace(training=True)
    torch.manual_seed(0)
    index = torch.arange(64)
    x, labels, teacher = dm.on_after_batch_transfer((index, torch.from_numpy(faces.labels)), 0)
    drawn = teacher.argmax(1)
    assert set(drawn.tolist()) == {0, 1, 2}
    assert torch.equal(_pixels(x), torch.from_numpy(views)[drawn, index])
    assert torch.equal(labels, torch.from_numpy(faces.labels))


def test_validation_batches_are_the_plain_faces_without_teacher(make_faces) -> None:
    faces, val = make_faces(32), make_faces(20, seed=1)
    dm = FaceDataModule(faces, val, 8, AugmentConfig(), teacher_log_probs=_teacher_marking_views(1, 32)[0])
    batch = dm.on_after_batch_transfer((torch.arange(5), torch.from_numpy(val.labels[:5])), 0)
    assert len(batch) == 2 and torch.equal(_pixels(batch[0]), torch.from_numpy(val.images[:5]))


def test_views_and_teacher_outputs_must_match_the_faces(make_faces) -> None:
    faces = make_faces(10)
    with pytest.raises(ValueError, match="views"):
        FaceDataModule(faces, faces, 4, AugmentConfig.none(), train_views=np.stack([faces.images[:9]] * 2))
    with pytest.raises(ValueError, match="2 view"):
        FaceDataModule(faces, faces, 4, AugmentConfig.none(), teacher_log_probs=_teacher_marking_views(3, 10),
                       train_views=np.stack([faces.images] * 2))


def test_a_mixed_training_batch_carries_the_targets_of_its_mixing(make_faces) -> None:
    faces = make_faces(16)
    dm = FaceDataModule(faces, faces, 16, AugmentConfig(mixup=0.4))
    dm.trainer = SimpleNamespace(training=True)
    labels = torch.from_numpy(faces.labels)
    x, y, mixed = dm.on_after_batch_transfer((torch.arange(16), labels), 0)
    assert x.shape == (16, 1, 48, 48) and torch.equal(y, labels)
    assert isinstance(mixed, MixedTargets) and torch.equal(mixed.y_a, labels) and 0 <= mixed.lam <= 1
    assert sorted(mixed.y_b.tolist()) == sorted(labels.tolist())  # the same labels, drawn in another order


def test_a_teacher_refuses_mixed_batches(make_faces) -> None:
    faces = make_faces(10)
    with pytest.raises(ValueError, match="unmixed"):
        FaceDataModule(faces, faces, 4, AugmentConfig(cutmix=1.0), teacher_log_probs=_teacher_marking_views(1, 10))


def _voted(make_faces, n: int = 16):
    """Faces with vote distributions: each face's own class 0.75, the next class 0.25."""
    faces = make_faces(n)
    votes = np.zeros((n, 7), np.float32)
    votes[np.arange(n), faces.labels] = 0.75
    votes[np.arange(n), (faces.labels + 1) % 7] = 0.25
    return type(faces)(faces.images, faces.labels, faces.classes, faces.sources, votes)


@pytest.mark.parametrize("mode", ["crossentropy", "multi_target"])
def test_vote_modes_train_on_each_faces_distribution(make_faces, mode: str) -> None:
    faces = _voted(make_faces)
    dm = FaceDataModule(faces, faces, 16, AugmentConfig.none(), label_mode=mode)
    dm.trainer = SimpleNamespace(training=True)
    index = torch.tensor([3, 0, 7])
    _, y = dm.on_after_batch_transfer((index, torch.from_numpy(faces.labels[index.numpy()])), 0)
    assert torch.equal(y, torch.from_numpy(faces.votes[index.numpy()]))


def test_probability_mode_draws_each_label_from_the_votes(make_faces) -> None:
    faces = _voted(make_faces, 64)
    dm = FaceDataModule(faces, faces, 64, AugmentConfig.none(), label_mode="probability")
    dm.trainer = SimpleNamespace(training=True)
    torch.manual_seed(0)
    drawn = torch.stack([dm.on_after_batch_transfer((torch.arange(64), torch.from_numpy(faces.labels)), 0)[1]
                         for _ in range(20)]).numpy()
    own, following = drawn == faces.labels, drawn == (faces.labels + 1) % 7
    assert (own | following).all() and 0.65 < own.mean() < 0.85  # drawn as often as voted (0.75)


def test_mixup_mixes_vote_distributions(make_faces) -> None:
    faces = _voted(make_faces)
    dm = FaceDataModule(faces, faces, 16, replace(AugmentConfig.none(), mixup=0.4), label_mode="crossentropy")
    dm.trainer = SimpleNamespace(training=True)
    _, _, mixed = dm.on_after_batch_transfer((torch.arange(16), torch.from_numpy(faces.labels)), 0)
    assert torch.equal(mixed.y_a, torch.from_numpy(faces.votes)) and mixed.y_b.shape == (16, 7)
    assert sorted(map(tuple, mixed.y_b.tolist())) == sorted(map(tuple, faces.votes.tolist()))


def test_votes_are_ignored_in_majority_mode(make_faces) -> None:
    faces = _voted(make_faces)
    dm = FaceDataModule(faces, faces, 16, AugmentConfig.none(), label_mode="majority")
    dm.trainer = SimpleNamespace(training=True)
    _, y = dm.on_after_batch_transfer((torch.arange(4), torch.from_numpy(faces.labels[:4])), 0)
    assert y.dtype == torch.long
