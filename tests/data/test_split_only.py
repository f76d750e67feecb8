"""`load_split` of a validation or test split decodes (and caches) that split alone, and gives the very faces a
whole read gives; training faces, and sets without such a split, are still read whole."""

from __future__ import annotations

import numpy as np
import pytest

import ferkit.data.ferplus
import ferkit.data.folders
import ferkit.errors
from ferkit.data import DataConfig, load_dataset, load_split
from ferkit.data.arrays import FaceArrays
from ferkit.data.cache import cache_entry

from .conftest import csv_line


def assert_same_faces(a: FaceArrays, b: FaceArrays) -> None:
    assert a.classes == b.classes and a.sources == b.sources
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.labels, b.labels)


@pytest.fixture
def decoded(monkeypatch) -> list[str]:
    """Every image file the folder readers decode."""
    files: list[str] = []
    real = ferkit.data.folders.read_image

    def counting(path, preprocess):
        files.append(str(path))
        return real(path, preprocess)

    for module in (ferkit.data.folders, ferkit.data.ferplus):
        monkeypatch.setattr(module, "read_image", counting)
    return files


def test_publictest_of_a_kaggle_folder_decodes_only_its_files(kaggle_folder, decoded):
    val = load_split(DataConfig(path=kaggle_folder), "PublicTest")
    assert len(decoded) == len(val) == 7
    assert all("/test/" in f for f in decoded)
    assert_same_faces(val, load_dataset(DataConfig(path=kaggle_folder)).val)


def test_training_faces_and_unsplit_sets_are_read_whole(kaggle_folder, ckplus_folder, decoded):
    assert len(load_split(DataConfig(path=kaggle_folder), "Training")) == 21
    assert len(decoded) == 28
    decoded.clear()
    cfg = DataConfig(path=ckplus_folder, extra_classes=("contempt",), val_fraction=0.2)
    val = load_split(cfg, "val")  # carved from every face of the set
    assert len(decoded) == 70
    assert_same_faces(val, load_dataset(cfg).val)


def test_csv_rows_of_other_splits_are_not_parsed(write_csv, faces):
    """A malformed Training row does not stop scoring PublicTest: that row is never parsed."""
    path = write_csv([csv_line(0, "1 2 x", "Training"), csv_line(3, faces["happy"][0], "Training"),
                      csv_line(4, faces["sad"][0], "PublicTest"), csv_line(6, faces["neutral"][0], "PublicTest")])
    val = load_split(DataConfig(path=path), "PublicTest")
    assert val.labels.tolist() == [4, 6]
    assert val.sources == (f"{path}:4", f"{path}:5")


def test_a_csv_without_the_split_is_read_whole(write_csv, faces):
    path = write_csv([csv_line(e, faces["happy"][0], "Training") for e in (3, 3, 4, 4, 6, 6)])
    with pytest.raises(ferkit.errors.DataError, match="has no PrivateTest split"):
        load_split(DataConfig(path=path), "PrivateTest")
    assert len(load_split(DataConfig(path=path, val_fraction=0.5), "val")) == 3


def test_ferplus_valid_reads_only_its_folder(ferplus_data, decoded):
    val = load_split(DataConfig(path=ferplus_data.root), "PublicTest")
    assert decoded and all("FER2013Valid" in f for f in decoded)
    assert_same_faces(val, load_dataset(DataConfig(path=ferplus_data.root)).val)
    np.testing.assert_array_equal(val.votes, load_dataset(DataConfig(path=ferplus_data.root)).val.votes)


def test_ferplus_csv_pair_reads_only_the_split(ferplus_data):
    cfg = DataConfig(path=ferplus_data.votes_csv)
    assert_same_faces(load_split(cfg, "PublicTest"), load_dataset(cfg).val)


def test_a_split_is_cached_alone_and_a_whole_entry_serves_it(kaggle_folder, tmp_path, decoded):
    cfg = DataConfig(path=kaggle_folder, cache_dir=tmp_path / "cache")
    first = load_split(cfg, "PublicTest")
    assert (cache_entry(cfg, "val") / "meta.json").is_file() and not cache_entry(cfg).exists()
    assert_same_faces(load_split(cfg, "PublicTest"), first)
    assert len(decoded) == 7  # the second call read the split's own entry
    load_dataset(cfg)  # training reads, and caches, the whole folder
    decoded.clear()
    (cache_entry(cfg, "val") / "meta.json").unlink()
    assert_same_faces(load_split(cfg, "PublicTest"), first)
    assert not decoded  # served by the whole folder's entry
