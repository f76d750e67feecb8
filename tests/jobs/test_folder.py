"""The results folder: one run writes it at a time, and it takes the rows of one model."""

from __future__ import annotations

from pathlib import Path

import pytest

from ferkit.errors import ConfigError
from ferkit.inference.config import RecognizerConfig
from ferkit.jobs import BatchConfig, run
from ferkit.jobs.folder import ResultsFolder
from ferkit.jobs.table import ModelVersion, PartWriter, error_row

MODEL = ModelVersion("small", "0123456789ab", ("happy", "sad"))


def test_a_second_run_on_a_locked_folder_is_refused_and_the_lock_goes_with_the_first(tmp_path: Path,
                                                                                      tiny_onnx: Path):
    folder = ResultsFolder(tmp_path / "out")
    recognizer = RecognizerConfig(model=str(tiny_onnx), detector="haar")
    refused = pytest.raises(ConfigError, match=r"being written by another ferkit predict \(process \d+\)")
    with folder.locked(), refused:
        run([], recognizer, folder.path, BatchConfig(workers=1), progress=False)
    assert run([], recognizer, folder.path, BatchConfig(workers=1), progress=False).analysed == 0


def test_a_table_refuses_the_rows_of_another_model_by_name(tmp_path: Path):
    folder = ResultsFolder(tmp_path)
    PartWriter(folder.table, "parquet", MODEL.classes).write([error_row("a.jpg", "x", MODEL)])
    folder.check_table("parquet", ModelVersion("base", MODEL.version, MODEL.classes))  # another name, same file
    for other in (ModelVersion("small", "ffffffffffff", MODEL.classes),
                  ModelVersion("small", MODEL.version, ("happy",))):
        with pytest.raises(ConfigError, match=r"rows of model 'small' .* resume with --model small"):
            folder.check_table("parquet", other)
