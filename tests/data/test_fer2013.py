"""The FER2013 CSV reader: splits by Usage, exact pixels, and an error naming the row for each kind of bad row."""

from __future__ import annotations

import numpy as np
import pytest

from ferkit.constants import EMOTIONS
from ferkit.data.fer2013 import read_fer2013_csv
from ferkit.errors import DataError
from ferkit.transforms.preprocess import PreprocessConfig

from .conftest import CSV_ROWS, csv_line

PREP = PreprocessConfig()


def test_reads_splits_labels_and_pixels(fer_csv, faces):
    data = read_fer2013_csv(fer_csv, PREP)
    assert set(data.splits) == {"train", "val", "test"}
    assert data.names == {"train": "fer2013.csv Training", "val": "fer2013.csv PublicTest",
                          "test": "fer2013.csv PrivateTest"}
    train = data.splits["train"]
    assert train.classes == EMOTIONS
    assert train.labels.tolist() == [e for e, usage in CSV_ROWS if usage == "Training"]
    assert train.images.shape == (10, 48, 48) and train.images.dtype == np.uint8
    np.testing.assert_array_equal(train.images[0], faces["angry"][0])
    assert train.sources[0] == f"{fer_csv}:2"  # file:line, line 1 is the header
    assert data.splits["test"].labels.tolist() == [0, 3]
    assert data.skipped == ()


def test_input_size_goes_through_shared_preprocessing(fer_csv):
    data = read_fer2013_csv(fer_csv, PreprocessConfig(input_size=64))
    assert data.splits["train"].images.shape[1:] == (64, 64)


def test_without_usage_column_the_set_is_unsplit(write_csv, faces):
    path = write_csv([f"{e},{' '.join(map(str, faces['happy'][0].ravel()))}" for e in (3, 4)],
                     header="emotion,pixels")
    data = read_fer2013_csv(path, PREP)
    assert list(data.splits) == ["all"]
    assert data.splits["all"].labels.tolist() == [3, 4]


def test_header_with_spaces_and_other_column_order(write_csv, faces):
    pixels = " ".join(map(str, faces["sad"][0].ravel()))
    path = write_csv([f"4,Training,{pixels}"], header="emotion, Usage, pixels")
    assert read_fer2013_csv(path, PREP).splits["train"].labels.tolist() == [4]


def test_missing_column_names_file_and_column(write_csv):
    path = write_csv(["0,Training"], header="emotion,Usage")
    with pytest.raises(DataError, match=r"fer2013\.csv: missing column\(s\) pixels"):
        read_fer2013_csv(path, PREP)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DataError, match=r"empty\.csv: empty file"):
        read_fer2013_csv(path, PREP)


GOOD = " ".join(["128"] * 2304)


@pytest.mark.parametrize(("bad_line", "problem"), [
    (csv_line(0, " ".join(["1"] * 2303), "Training"), r"2303 pixel values, expected 2304 \(48x48\)"),
    (csv_line(0, " ".join(["1"] * 2305), "Training"), r"2305 pixel values, expected 2304"),
    (csv_line(0, GOOD.replace("128", "12x", 1), "Training"), r"non-numeric pixel value '12x'"),
    (csv_line(0, GOOD.replace("128", "1.5", 1), "Training"), r"non-numeric pixel value '1\.5'"),
    (csv_line(0, GOOD.replace("128", "300", 1), "Training"), r"pixel value 300 out of range 0\.\.255"),
    (csv_line(0, GOOD.replace("128", "-1", 1), "Training"), r"pixel value -1 out of range 0\.\.255"),
    (csv_line(7, GOOD, "Training"), r"emotion 7 outside 0\.\.6"),
    (csv_line(-1, GOOD, "Training"), r"emotion -1 outside 0\.\.6"),
    (csv_line("happy", GOOD, "Training"), r"emotion 'happy' is not an integer"),
    (csv_line(0, GOOD, "Validation"), r"unknown Usage 'Validation' \(expected Training, PublicTest, PrivateTest\)"),
    (f"0,{GOOD}", r"2 fields, expected 3"),
])
def test_bad_row_names_file_row_and_problem(write_csv, bad_line, problem):
    path = write_csv([csv_line(0, GOOD, "Training"), bad_line, csv_line(1, GOOD, "Training")])
    with pytest.raises(DataError, match=rf"fer2013\.csv, row 2 \(line 3\): {problem}"):
        read_fer2013_csv(path, PREP)


def test_skip_bad_skips_and_counts_every_bad_row(write_csv):
    lines = [csv_line(0, GOOD, "Training"), csv_line(9, GOOD, "Training"), csv_line(1, "1 2 3", "PublicTest"),
             csv_line(2, GOOD, "PublicTest")]
    data = read_fer2013_csv(write_csv(lines), PREP, skip_bad=True)
    assert len(data.skipped) == 2
    assert "row 2 (line 3): emotion 9" in data.skipped[0] and "row 3 (line 4): 3 pixel values" in data.skipped[1]
    assert data.splits["train"].labels.tolist() == [0]
    assert data.splits["val"].labels.tolist() == [2]
