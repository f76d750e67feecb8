from __future__ import annotations

from pathlib import Path

import pytest

from ferkit.errors import ConfigError
from ferkit.train.outdir import prepare_output_dir


def test_default_folders_are_numbered_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    first = prepare_output_dir(None, False, "last.ckpt", "runs/train", "vgg", "--run-dir")
    second = prepare_output_dir(None, False, "last.ckpt", "runs/train", "vgg", "--run-dir")
    assert first.is_dir() and second.is_dir() and first != second
    assert first.parent == second.parent == Path("runs/train") and first.name.endswith("-vgg")


def test_given_folder_must_be_new_or_resumable(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert prepare_output_dir(run, False, "last.ckpt", "runs", "m", "--run-dir") == run
    (run / "history.csv").write_text("epoch\n")
    with pytest.raises(ConfigError, match=r"not empty.*--run-dir"):
        prepare_output_dir(run, False, "last.ckpt", "runs", "m", "--run-dir")
    with pytest.raises(ConfigError, match=r"last\.ckpt does not exist"):
        prepare_output_dir(run, True, "last.ckpt", "runs", "m", "--run-dir")
    (run / "last.ckpt").write_bytes(b"x")
    assert prepare_output_dir(run, True, "last.ckpt", "runs", "m", "--run-dir") == run
    with pytest.raises(ConfigError, match="needs --study-dir"):
        prepare_output_dir(None, True, "study.db", "runs", "m", "--study-dir")


@pytest.mark.parametrize("resume", [False, True])
def test_a_file_or_an_uncreatable_folder_is_refused_by_name(tmp_path: Path, resume: bool) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me")
    with pytest.raises(ConfigError, match=r"--study-dir .*notes\.txt is a file"):
        prepare_output_dir(notes, resume, "study.db", "runs", "m", "--study-dir")
    with pytest.raises(ConfigError, match=r"--run-dir .*notes\.txt/run: cannot create it"):
        prepare_output_dir(notes / "run", False, "last.ckpt", "runs", "m", "--run-dir")
    assert notes.read_text() == "keep me"
