"""`ferkit.files`' output folders: a run's folder is new or resumable, a default one is numbered up."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ferkit.errors import ConfigError
from ferkit.files import prepare_output_dir


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


def test_a_run_stopped_before_its_first_checkpoint_resumes_from_the_beginning(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{}")
    with pytest.raises(ConfigError, match=r"last\.ckpt does not exist"):  # without the file a run writes first
        prepare_output_dir(run, True, "last.ckpt", "runs", "m", "--run-dir")
    assert prepare_output_dir(run, True, "last.ckpt", "runs", "m", "--run-dir", started="config.json") == run


def test_a_resumed_folder_loses_the_temporary_files_of_killed_writes(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "last.ckpt").write_bytes(b"x")
    dead = _finished_pid()
    stale = [run / f".model.pt.{dead}-a1b2c3.tmp.pt", run / "checkpoints" / f".last.ckpt.{dead}-00ff00.tmp.ckpt"]
    live = run / f".history.csv.{os.getpid()}-abcdef.tmp.csv"
    for path in (*stale, live):
        path.write_bytes(b"half")
    prepare_output_dir(run, True, "checkpoints/last.ckpt", "runs", "m", "--run-dir")
    assert not any(p.exists() for p in stale) and live.exists()


def _finished_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid
