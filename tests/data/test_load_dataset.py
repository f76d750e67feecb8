"""`load_dataset` / `load_split` / `describe`: which split is which, class choice, and the user-facing errors."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from ferkit.constants import EMOTIONS
from ferkit.data import DataConfig, describe, load_dataset, load_split
from ferkit.data.arrays import FaceArrays
from ferkit.errors import ConfigError, DataError

from .conftest import CKPLUS_COUNTS, FER2013_FOLDERS, csv_line, write_images


def test_csv_splits_are_training_publictest_privatetest(fer_csv):
    splits = load_dataset(DataConfig(path=fer_csv))
    assert (len(splits.train), len(splits.val), len(splits.test)) == (10, 7, 2)
    assert splits.description == ("train=fer2013.csv Training (10), val=fer2013.csv PublicTest (7), "
                                  "test=fer2013.csv PrivateTest (2)")


def test_kaggle_layout_train_and_publictest(kaggle_folder):
    splits = load_dataset(DataConfig(path=kaggle_folder))
    assert (len(splits.train), len(splits.val), splits.test) == (21, 7, None)
    assert splits.description == "train=fer2013 train/ Training_* (21), val=fer2013 test/ PublicTest_* (7)"


def test_three_class_subset_relabels_every_split(fer_csv):
    splits = load_dataset(DataConfig(path=fer_csv, classes=("happy", "sad", "neutral")))
    assert splits.train.classes == ("happy", "sad", "neutral")
    assert splits.train.class_counts().tolist() == [2, 2, 2]
    assert splits.val.class_counts().tolist() == [1, 1, 1]
    assert splits.test.class_counts().tolist() == [1, 0, 0]


def test_class_folder_set_gets_a_stratified_seeded_val_split(ckplus_folder):
    cfg = DataConfig(path=ckplus_folder, extra_classes=("contempt",), val_fraction=0.2, seed=1)
    splits = load_dataset(cfg)
    assert splits.train.classes == (*EMOTIONS, "contempt")
    by_class = dict(zip(splits.val.classes, splits.val.class_counts().tolist(), strict=True))
    expected = {"angry": 2, "disgust": 2, "fear": 2, "happy": 4, "sad": 1, "surprise": 2, "neutral": 0,
                "contempt": 1}
    assert by_class == expected
    assert len(splits.train) + len(splits.val) == sum(CKPLUS_COUNTS.values())
    assert splits.test is None
    assert splits.description == ("train=CK+48 minus val (56), val=stratified 20% of CK+48, seed 1 (14)")
    assert load_dataset(cfg).val.sources == splits.val.sources
    assert load_dataset(DataConfig(path=ckplus_folder, extra_classes=("contempt",), val_fraction=0.2,
                                   seed=2)).val.sources != splits.val.sources


def test_unknown_class_folder_is_refused_naming_the_folder(ckplus_folder):
    with pytest.raises(DataError, match=r"folder .*CK\+48/contempt: unknown class 'contempt'; accepted names: "
                                        r"angry \(anger/angered\).*list it in extra_classes"):
        load_dataset(DataConfig(path=ckplus_folder))


def test_unknown_class_folder_not_selected_is_still_refused(ckplus_folder):
    with pytest.raises(DataError, match="unknown class 'contempt'"):
        load_dataset(DataConfig(path=ckplus_folder, classes=("happy", "sad")))


def test_missing_class_warns(ckplus_folder, caplog):
    with caplog.at_level(logging.WARNING, logger="ferkit.data"):
        load_dataset(DataConfig(path=ckplus_folder, extra_classes=("contempt",)))
    assert "no training faces for class(es) neutral" in caplog.text


def test_npz_source_is_split_by_val_fraction(tmp_path):
    labels = np.repeat(np.arange(3), 10)
    faces = FaceArrays(np.zeros((30, 32, 32), np.uint8), labels, ("Happiness", "sadness", "neutral"))
    path = faces.save(tmp_path / "faces.npz")
    splits = load_dataset(DataConfig(path=path, classes=("happy", "sad", "neutral"), val_fraction=0.2))
    assert splits.train.class_counts().tolist() == [8, 8, 8]
    assert splits.val.class_counts().tolist() == [2, 2, 2]
    assert splits.train.images.shape[1:] == (48, 48)  # resized by the shared preprocessing


def test_unknown_class_in_npz_is_refused_naming_the_file(tmp_path):
    faces = FaceArrays(np.zeros((2, 48, 48), np.uint8), np.array([0, 1]), ("happy", "pride"))
    path = faces.save(tmp_path / "faces.npz")
    with pytest.raises(DataError, match=r"faces\.npz: unknown class 'pride'"):
        load_dataset(DataConfig(path=path))
    assert load_dataset(DataConfig(path=path, extra_classes=("pride",), val_fraction=0)).train.classes[-1] == "pride"


def test_load_split_accepts_fer2013_names(fer_csv):
    cfg = DataConfig(path=fer_csv)
    assert len(load_split(cfg, "Training")) == len(load_split(cfg, "train")) == 10
    assert len(load_split(cfg, "PublicTest")) == len(load_split(cfg, "val")) == 7
    assert len(load_split(cfg, "PrivateTest")) == len(load_split(cfg, "test")) == 2
    with pytest.raises(ConfigError, match="unknown split 'holdout'"):
        load_split(cfg, "holdout")


def test_load_split_of_a_missing_split(kaggle_folder):
    with pytest.raises(DataError, match="has no PrivateTest split"):
        load_split(DataConfig(path=kaggle_folder), "PrivateTest")


def test_describe_counts_classes(fer_csv):
    val = load_split(DataConfig(path=fer_csv, classes=("happy", "sad")), "val")
    assert describe(val) == "2 faces: happy 1, sad 1"


def test_skip_bad_warns_with_a_count(write_csv, caplog):
    good = " ".join(["9"] * 2304)
    path = write_csv([csv_line(3, good, "Training"), csv_line(3, "1 2", "Training"), csv_line(3, good, "Training"),
                      csv_line(8, good, "PublicTest")])
    with pytest.raises(DataError, match="row 2"):
        load_dataset(DataConfig(path=path))
    with caplog.at_level(logging.WARNING, logger="ferkit.data"):
        splits = load_dataset(DataConfig(path=path, skip_bad=True))
    assert "skipped 2 bad row(s)/file(s)" in caplog.text
    assert len(splits.train) + len(splits.val) == 2


def test_missing_and_unsupported_sources(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv: no such file or folder"):
        load_dataset(DataConfig(path=tmp_path / "nope.csv"))
    (tmp_path / "faces.h5").write_bytes(b"x")
    with pytest.raises(DataError, match=r"faces\.h5: unsupported data source"):
        load_dataset(DataConfig(path=tmp_path / "faces.h5"))


def test_only_a_test_folder_has_no_training_faces(kaggle_folder):
    shutil.rmtree(kaggle_folder / "train")
    with pytest.raises(DataError, match="no training faces"):
        load_dataset(DataConfig(path=kaggle_folder))


@pytest.mark.slow
@pytest.mark.shared_data
@pytest.mark.skipif(not FER2013_FOLDERS.is_dir(), reason=f"{FER2013_FOLDERS} not found")
def test_real_fer2013_folders(tmp_path: Path):
    splits = load_dataset(DataConfig(path=FER2013_FOLDERS, cache_dir=tmp_path))
    assert (len(splits.train), len(splits.val), splits.test) == (28_709, 3_589, None)
    assert splits.train.class_counts().tolist() == [3995, 436, 4097, 7215, 4830, 3171, 4965]


def test_split_all_is_every_face_of_a_folder_whatever_its_file_names(kaggle_folder):
    """The Kaggle test/ folder alone: PublicTest_* names, no training faces; `all` still scores it whole."""
    shutil.rmtree(kaggle_folder / "train")
    write_images(kaggle_folder / "test" / "happy", [np.zeros((48, 48), np.uint8)], "PrivateTest_")
    faces = load_split(DataConfig(path=kaggle_folder / "test"), "all")
    assert len(faces) == len(EMOTIONS) + 1


def test_a_class_left_out_instead_of_refused_is_counted(ckplus_folder, caplog):
    with caplog.at_level(logging.WARNING, logger="ferkit.data"):
        faces = load_split(DataConfig(path=ckplus_folder), "all", unknown="leave_out")
    assert len(faces) == sum(CKPLUS_COUNTS.values()) - CKPLUS_COUNTS["contempt"]
    assert "left out 5 face(s) (contempt 5)" in caplog.text


def test_a_source_without_faces_is_refused_by_name_and_never_cached(tmp_path: Path):
    empty = tmp_path / "fer2013.csv"
    empty.write_text("emotion,pixels,Usage\n")
    with pytest.raises(DataError, match=r"fer2013\.csv: holds no faces"):
        load_dataset(DataConfig(path=empty, cache_dir=tmp_path / "cache"))
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*.npz"))
