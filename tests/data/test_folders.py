"""Image-folder reader: Kaggle layout, file-name prefixes, class-per-folder sets, image kinds and bad files."""

from __future__ import annotations

import logging

import cv2
import numpy as np
import pytest

from ferkit.constants import EMOTIONS
from ferkit.data.folders import read_image, read_image_folders
from ferkit.errors import DataError
from ferkit.transforms.preprocess import PreprocessConfig

from .conftest import CKPLUS_COUNTS, write_images

PREP = PreprocessConfig()


def test_kaggle_layout_splits_by_folder_and_prefix(kaggle_folder, faces):
    data = read_image_folders(kaggle_folder, PREP)
    assert set(data.splits) == {"train", "val"}
    assert data.names == {"train": "fer2013 train/ Training_*", "val": "fer2013 test/ PublicTest_*"}
    train = data.splits["train"]
    assert train.classes == EMOTIONS
    assert train.class_counts().tolist() == [3] * 7
    assert data.splits["val"].class_counts().tolist() == [1] * 7
    first = train.sources.index(str(kaggle_folder / "train" / "angry" / "Training_0000.jpg"))
    # JPEG is lossy: the decoded face is close to, not equal to, the written one
    assert np.abs(train.images[first].astype(int) - faces["angry"][0]).mean() < 3


def test_private_test_prefix_in_test_folder_becomes_test_split(kaggle_folder, faces):
    write_images(kaggle_folder / "test" / "happy", faces["happy"][:2], "PrivateTest_")
    data = read_image_folders(kaggle_folder, PREP)
    assert data.splits["test"].class_counts()[EMOTIONS.index("happy")] == 2
    assert data.names["test"] == "fer2013 test/ PrivateTest_*"
    assert len(data.splits["val"]) == 7


def test_flat_folder_of_mixed_prefixes_still_splits(tmp_path, faces):
    root = tmp_path / "mixed"
    for name in ("happy", "sad"):
        write_images(root / name, faces[name][:2], "Training_")
        write_images(root / name, faces[name][2:], "PublicTest_")
    data = read_image_folders(root, PREP)
    assert len(data.splits["train"]) == 4 and len(data.splits["val"]) == 2
    assert data.names["val"] == "mixed PublicTest_*"


def test_val_folder_makes_test_folder_the_test_split(tmp_path, faces):
    for split in ("train", "val", "test"):
        write_images(tmp_path / "set" / split / "happy", faces["happy"][:1])
    data = read_image_folders(tmp_path / "set", PREP)
    assert data.names == {"train": "set train/", "val": "set val/", "test": "set test/"}


def test_class_per_folder_names_are_normalised_and_unsplit(ckplus_folder):
    data = read_image_folders(ckplus_folder, PREP)
    assert list(data.splits) == ["all"]
    faces = data.splits["all"]
    assert faces.classes == ("angry", "disgust", "fear", "happy", "sad", "surprise", "contempt")
    counts = dict(zip(faces.classes, faces.class_counts().tolist(), strict=True))
    assert counts == {"angry": 10, "disgust": 10, "fear": 8, "happy": 20, "sad": 6, "surprise": 11, "contempt": 5}
    assert sum(CKPLUS_COUNTS.values()) == len(faces)


@pytest.mark.parametrize("kind", ["gray", "bgr", "bgra", "gray16", "bgr16"])
def test_reads_gray_color_alpha_and_16_bit_images(tmp_path, kind):
    rng = np.random.default_rng(0)
    gray8 = rng.integers(0, 256, (60, 50), dtype=np.uint8)
    image = {
        "gray": gray8,
        "bgr": np.dstack([gray8] * 3),
        "bgra": np.dstack([gray8] * 3 + [np.full_like(gray8, 255)]),
        "gray16": gray8.astype(np.uint16) * 257,
        "bgr16": np.dstack([gray8.astype(np.uint16) * 257] * 3),
    }[kind]
    path = tmp_path / f"{kind}.png"
    cv2.imwrite(str(path), image)
    face = read_image(path, PreprocessConfig(input_size=48))
    expected = cv2.resize(gray8, (48, 48), interpolation=cv2.INTER_AREA)
    assert face.dtype == np.uint8 and face.shape == (48, 48)
    assert np.abs(face.astype(int) - expected).max() <= 1


def test_empty_root_folder(tmp_path):
    (tmp_path / "nothing").mkdir()
    with pytest.raises(DataError, match=r"nothing: empty folder: no class folders"):
        read_image_folders(tmp_path / "nothing", PREP)


def test_empty_class_folder(ckplus_folder):
    (ckplus_folder / "neutral").mkdir()
    with pytest.raises(DataError, match=r"CK\+48/neutral: empty folder: class 'neutral' has no images"):
        read_image_folders(ckplus_folder, PREP)


def test_split_folder_without_class_folders(kaggle_folder):
    (kaggle_folder / "val").mkdir()
    with pytest.raises(DataError, match=r"fer2013/val: empty folder: no class folders"):
        read_image_folders(kaggle_folder, PREP)


def test_split_folders_mixed_with_class_folders(kaggle_folder, faces):
    write_images(kaggle_folder / "happy", faces["happy"])
    with pytest.raises(DataError, match=r"mixes split folders \(test, train\) with other folders \(happy\)"):
        read_image_folders(kaggle_folder, PREP)


@pytest.mark.parametrize(("name", "content", "problem"), [
    ("Training_9999.jpg", b"", r"empty \(0-byte\) file"),
    ("Training_9999.jpg", b"\xff\xd8\xff\xe0 not really a jpeg", r"corrupt image, OpenCV cannot decode it"),
    ("notes.txt", b"some notes", r"not an image file"),
])
def test_bad_file_is_named_with_its_problem(kaggle_folder, name, content, problem):
    bad = kaggle_folder / "train" / "fear" / name
    bad.write_bytes(content)
    with pytest.raises(DataError, match=rf"{bad.name}: {problem}") as info:
        read_image_folders(kaggle_folder, PREP)
    assert str(bad) in str(info.value)


def test_a_decompression_bomb_in_a_class_folder_is_named_and_skippable(kaggle_folder, png_header):
    bomb = png_header(kaggle_folder / "train" / "fear" / "Training_9997.png", 30_000, 30_000)
    with pytest.raises(DataError, match=rf"{bomb.name}: .*the limit is 50,000,000 pixels"):
        read_image_folders(kaggle_folder, PREP)
    assert len(read_image_folders(kaggle_folder, PREP, skip_bad=True).skipped) == 1


def test_skip_bad_skips_and_counts_bad_files(kaggle_folder):
    (kaggle_folder / "train" / "fear" / "Training_9998.jpg").write_bytes(b"")
    (kaggle_folder / "train" / "sad" / "readme.txt").write_text("hello")
    data = read_image_folders(kaggle_folder, PREP, skip_bad=True)
    assert len(data.skipped) == 2
    assert len(data.splits["train"]) == 21


def test_hidden_files_are_ignored_and_loose_files_warned_about(kaggle_folder, caplog):
    (kaggle_folder / "train" / "happy" / ".DS_Store").write_bytes(b"\0\0")
    (kaggle_folder / "README.txt").write_text("about this set")
    with caplog.at_level(logging.WARNING, logger="ferkit.data.folders"):
        data = read_image_folders(kaggle_folder, PREP)
    assert len(data.splits["train"]) == 21
    assert "ignoring 1 file(s) outside class folders: README.txt" in caplog.text


def test_files_without_split_in_a_split_set_go_to_train(tmp_path, faces, caplog):
    root = tmp_path / "partly"
    write_images(root / "happy", faces["happy"][:2], "PublicTest_")
    write_images(root / "happy", faces["happy"][2:], "face_")
    with caplog.at_level(logging.WARNING, logger="ferkit.data.folders"):
        data = read_image_folders(root, PREP)
    assert len(data.splits["train"]) == 1 and len(data.splits["val"]) == 2
    assert "1 file(s) without a split prefix or folder go to the training split" in caplog.text
