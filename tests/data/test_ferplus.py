"""FER+ readers (FERPlus folders, fer2013new.csv + fer2013.csv) and the paper's label modes, on the tiny set the
`ferplus_data` fixture writes (tests/conftest.py)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from ferkit.constants import EMOTIONS
from ferkit.data import DataConfig, load_dataset, load_split
from ferkit.data.ferplus import FERPLUS_CLASSES, shape_votes
from ferkit.errors import DataError


def _votes(*counts: int) -> np.ndarray:
    return np.array(counts + (0,) * (10 - len(counts)), dtype=np.float32)


def test_folder_root_reads_train_and_valid_with_eight_classes_and_votes(ferplus_data) -> None:
    splits = load_dataset(DataConfig(path=ferplus_data.root))
    assert splits.train.classes == FERPLUS_CLASSES == (*EMOTIONS, "contempt")
    # majority: the 16 clear faces stay; the split vote and the mostly-unknown face are left out
    assert len(splits.train) == 16 and len(splits.val) == 8
    assert splits.train.class_counts().tolist() == [2] * 8
    assert splits.train.votes.shape == (16, 8) and np.allclose(splits.train.votes.sum(axis=1), 1)
    assert "FER2013Train" in splits.description and "FER2013Valid" in splits.description


def test_csv_pair_joined_by_row_order_gives_the_faces_and_votes_of_the_folders(ferplus_data) -> None:
    cfg = DataConfig(path=ferplus_data.root, label_mode="plurality", eval_label_mode="plurality")
    folders = load_dataset(cfg)
    csv = load_dataset(DataConfig(path=ferplus_data.votes_csv, label_mode="plurality", eval_label_mode="plurality"))
    for a, b in ((folders.train, csv.train), (folders.val, csv.val)):
        assert np.array_equal(a.images, b.images) and np.array_equal(a.votes, b.votes)
        assert np.array_equal(a.labels, b.labels)


def test_one_split_folder_alone_is_one_unsplit_set(ferplus_data) -> None:
    faces = load_split(DataConfig(path=ferplus_data.root / "FER2013Valid"), "all")
    assert len(faces) == 8 and faces.votes is not None


def test_crossentropy_keeps_the_largest_vote_groups_as_the_target(ferplus_data) -> None:
    train = load_dataset(DataConfig(path=ferplus_data.root, label_mode="crossentropy")).train
    assert len(train) == 17  # the no-majority face joins: 4 + 3 of its 9 votes cover 75%
    split = train.votes[np.flatnonzero(train.votes.max(axis=1) < 0.7)[0]]
    assert split[FERPLUS_CLASSES.index("neutral")] == pytest.approx(4 / 7)
    assert split[FERPLUS_CLASSES.index("happy")] == pytest.approx(3 / 7)


def test_left_out_faces_are_counted_in_the_log(ferplus_data, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="ferkit.data.ferplus"):
        load_dataset(DataConfig(path=ferplus_data.root))
    assert "label mode majority left out 2 of 18 faces (1 mostly unknown or not a face, 1 without enough" in caplog.text


def test_seven_classes_leave_out_contempt_faces_and_votes(ferplus_data) -> None:
    train = load_dataset(DataConfig(path=ferplus_data.root, label_mode="plurality", ferplus_classes=7)).train
    assert train.classes == EMOTIONS and len(train) == 15  # the two contempt faces are left out
    fear = train.votes[train.labels == EMOTIONS.index("fear")]
    assert np.allclose(fear[:, EMOTIONS.index("fear")], 1)  # 8 of 10 votes; the 2 for contempt went with it


def test_votes_survive_the_cache(ferplus_data, tmp_path: Path) -> None:
    cfg = DataConfig(path=ferplus_data.root, cache_dir=tmp_path / "cache", label_mode="crossentropy")
    first, second = load_dataset(cfg).train, load_dataset(cfg).train
    assert any((tmp_path / "cache").iterdir())
    assert np.array_equal(first.votes, second.votes) and np.array_equal(first.images, second.images)


@pytest.mark.parametrize(("counts", "mode", "expected"), [
    # single votes are outliers: sadness's 1 is dropped before anything else
    ((6, 3, 0, 1), "majority", {0: 1.0}),
    ((4, 3, 2, 1), "majority", None),  # 4 of 9 is no majority
    ((4, 3, 2, 1), "crossentropy", {0: 4 / 7, 1: 3 / 7}),
    ((4, 3, 2, 1), "probability", {0: 4 / 7, 1: 3 / 7}),
    ((4, 3, 2, 1), "multi_target", {0: 4 / 7, 1: 3 / 7}),  # both reach 30% of the 9 votes
    ((4, 3, 2, 1), "plurality", {0: 4 / 9, 1: 3 / 9, 2: 2 / 9}),
    ((3, 3, 2, 2), "crossentropy", None),  # four emotions are needed for 75%: too many, left out
    ((4, 0, 0, 0, 0, 0, 0, 0, 6), "plurality", None),  # mostly unknown
    ((5, 0, 0, 0, 0, 0, 0, 0, 5), "crossentropy", None),  # 5 of 10 is not more than half
    ((2, 2, 2, 2, 2), "multi_target", None),  # no emotion reaches 30%
    ((1, 1, 1, 1, 1, 1, 1, 1, 1, 1), "plurality", None),  # nothing left after outlier removal
])
def test_shape_votes_follows_the_reference(counts, mode, expected) -> None:
    shaped = shape_votes(_votes(*counts), mode)
    if expected is None:
        assert shaped is None
    else:
        want = np.zeros(8)
        for i, p in expected.items():
            want[i] = p
        assert np.allclose(shaped, want)


def test_row_count_mismatch_names_both_files(ferplus_data) -> None:
    pixels = ferplus_data.votes_csv.parent / "fer2013.csv"
    pixels.write_text(pixels.read_text() + pixels.read_text().splitlines()[1] + "\n")
    with pytest.raises(DataError, match=r"fer2013new.csv: 29 rows \(it ends at line 30\), but .*fer2013.csv has 30"):
        load_dataset(DataConfig(path=ferplus_data.votes_csv))


def test_usage_that_differs_between_the_files_names_the_line(ferplus_data) -> None:
    lines = ferplus_data.votes_csv.read_text().splitlines()
    lines[1] = lines[1].replace("Training", "PublicTest", 1)
    ferplus_data.votes_csv.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"fer2013new.csv, line 2: Usage 'PublicTest', but line 2 of .* is Training"):
        load_dataset(DataConfig(path=ferplus_data.votes_csv))


def test_missing_image_names_label_csv_and_line(ferplus_data) -> None:
    (ferplus_data.root / "FER2013Valid" / "fer0000019.png").unlink()
    with pytest.raises(DataError, match=r"FER2013Valid/label.csv, line 2: image fer0000019.png is missing"):
        load_dataset(DataConfig(path=ferplus_data.root))


@pytest.mark.parametrize(("counts", "problem"), [("4,0,x,0,0,0,0,0,0,0", "must be integers"),
                                                 ("4,0,-1,0,0,0,0,0,0,0", "negative vote count"),
                                                 ("4,0,0,0,0,0,0,0,0", "fields, expected 12")])
def test_malformed_counts_name_the_line(ferplus_data, counts: str, problem: str) -> None:
    label = ferplus_data.root / "FER2013Train" / "label.csv"
    lines = label.read_text().splitlines()
    lines[2] = f'fer0000002.png,"(0, 0, 48, 48)",{counts}'
    label.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=rf"FER2013Train/label.csv, line 3: .*{problem}"):
        load_dataset(DataConfig(path=ferplus_data.root))


def test_votes_csv_without_fer2013_csv_beside_it_says_where_the_pixels_come_from(ferplus_data, tmp_path) -> None:
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(ferplus_data.votes_csv, alone)
    with pytest.raises(DataError, match=r"pixels are read from fer2013\.csv beside it"):
        load_dataset(DataConfig(path=alone / "fer2013new.csv"))
