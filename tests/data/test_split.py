"""Class selection with relabelling, and the stratified seeded validation split."""

from __future__ import annotations

import numpy as np
import pytest

from ferkit.data.arrays import FaceArrays
from ferkit.data.split import select_classes, stratified_sample, stratified_split


def make_faces(counts: list[int], classes: tuple[str, ...]) -> FaceArrays:
    labels = np.repeat(np.arange(len(counts)), counts)
    images = np.arange(len(labels), dtype=np.uint8)[:, None, None] * np.ones((1, 4, 4), np.uint8)
    return FaceArrays(images, labels.astype(np.int64), classes, tuple(f"f{i}" for i in range(len(labels))))


def test_select_classes_relabels_in_the_given_order_and_drops_the_rest():
    faces = make_faces([2, 3, 4], ("angry", "happy", "sad"))
    out = select_classes(faces, ("sad", "angry", "neutral"))
    assert out.classes == ("sad", "angry", "neutral")
    assert out.class_counts().tolist() == [4, 2, 0]
    assert out.sources == ("f0", "f1", "f5", "f6", "f7", "f8")
    np.testing.assert_array_equal(out.images[:, 0, 0], [0, 1, 5, 6, 7, 8])


def test_select_classes_merges_classes_with_the_same_name():
    faces = FaceArrays(np.zeros((3, 4, 4), np.uint8), np.array([0, 1, 1]), ("happy", "happy"))
    assert select_classes(faces, ("happy",)).class_counts().tolist() == [3]


def test_stratified_split_proportions_per_class():
    faces = make_faces([100, 40, 10, 1], ("a", "b", "c", "d"))
    train, val = stratified_split(faces, 0.2, seed=0)
    assert val.class_counts().tolist() == [20, 8, 2, 0]
    assert train.class_counts().tolist() == [80, 32, 8, 1]
    assert set(train.sources).isdisjoint(val.sources)
    assert len(train) + len(val) == len(faces)


def test_stratified_split_keeps_one_face_per_class_in_train():
    train, val = stratified_split(make_faces([2, 2], ("a", "b")), 0.9, seed=0)
    assert train.class_counts().tolist() == [1, 1] and val.class_counts().tolist() == [1, 1]


def test_stratified_split_is_seeded():
    faces = make_faces([50, 50], ("a", "b"))
    first = stratified_split(faces, 0.2, seed=3)[1].sources
    assert stratified_split(faces, 0.2, seed=3)[1].sources == first
    assert stratified_split(faces, 0.2, seed=4)[1].sources != first


def test_zero_fraction_gives_an_empty_val():
    train, val = stratified_split(make_faces([5, 5], ("a", "b")), 0.0, seed=0)
    assert len(train) == 10 and len(val) == 0 and val.classes == ("a", "b")


def test_bad_fraction_is_refused():
    with pytest.raises(ValueError, match="val_fraction"):
        stratified_split(make_faces([5], ("a",)), 1.0, seed=0)


def test_stratified_sample_takes_exactly_n_faces_in_the_classes_proportions():
    faces = make_faces([100, 40, 10, 1], ("a", "b", "c", "d"))  # quotas of 20: 13.2, 5.3, 1.3, 0.1
    sample = stratified_sample(faces, 20, seed=0)
    assert sample.class_counts().tolist() == [13, 5, 2, 0]  # 1.3 had the largest remainder left
    assert list(sample.sources) == sorted(sample.sources, key=faces.sources.index)  # original order
    assert set(sample.sources) <= set(faces.sources)


def test_stratified_sample_of_more_faces_than_there_are_is_all_of_them():
    faces = make_faces([3, 2], ("a", "b"))
    assert stratified_sample(faces, 10, seed=0) is faces
    assert stratified_sample(faces, 5, seed=0).class_counts().tolist() == [3, 2]


def test_stratified_sample_depends_on_its_seed_only():
    faces = make_faces([50, 50], ("a", "b"))
    assert stratified_sample(faces, 10, seed=1).sources == stratified_sample(faces, 10, seed=1).sources
    assert stratified_sample(faces, 10, seed=1).sources != stratified_sample(faces, 10, seed=2).sources
