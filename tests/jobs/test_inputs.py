"""The walk over inputs: every kind of name and link gives an input (with its reason when it names no file) or
is skipped with a warning; nothing loops, nothing stops the walk."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from ferkit.jobs.inputs import iter_inputs


def test_symlink_loops_broken_links_and_links_back_up_never_stop_or_loop_the_walk(tmp_path: Path,
                                                                                  caplog: pytest.LogCaptureFixture):
    photos = tmp_path / "photos"
    (photos / "sub").mkdir(parents=True)
    (photos / "sub" / "face.jpg").write_bytes(b"x")
    os.symlink("loop-b.jpg", photos / "loop-a.jpg")  # a loop among files
    os.symlink("loop-a.jpg", photos / "loop-b.jpg")
    os.symlink("nothing.png", photos / "broken.png")
    os.symlink("..", photos / "sub" / "up")  # a folder link back up
    with caplog.at_level(logging.WARNING):
        found = list(iter_inputs([str(photos), str(photos / "loop-a.jpg")]))
    by_name = {Path(i.source).name: i for i in found}
    assert by_name["face.jpg"].kind == "image" and len([i for i in found if i.kind == "image"]) == 1
    for name in ("loop-a.jpg", "loop-b.jpg", "broken.png"):
        assert by_name[name].kind == "missing" and "symbolic link" in by_name[name].problem
    assert "Too many levels" in by_name["loop-a.jpg"].problem
    assert "already walks that folder" in caplog.text


def test_a_file_is_identified_by_its_real_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.jpg").write_bytes(b"x")
    os.symlink("a.jpg", tmp_path / "photos" / "link.jpg")
    monkeypatch.chdir(tmp_path)
    found = list(iter_inputs(["photos", "photos/*.jpg", str(tmp_path / "photos" / "a.jpg")]))
    assert len(found) == 5 and {i.path for i in found} == {str((tmp_path / "photos" / "a.jpg").resolve())}
    assert found[0].source == os.path.join("photos", "a.jpg")  # the user's spelling is kept
