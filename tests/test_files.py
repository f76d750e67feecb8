"""Atomic writes: the target holds the old content or the whole new one, and no temporary file is left."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pytest

from ferkit.files import FolderEntry, atomic_path, atomic_write


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing_behind(tmp_path: Path):
    target = atomic_write(tmp_path / "model.json", "old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half of the new")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["model.json"]


def test_writers_that_add_a_suffix_write_the_target(tmp_path: Path):
    with atomic_path(tmp_path / "sub" / "faces.npz") as tmp:  # np.savez appends .npz unless the name ends in it
        np.savez(tmp, x=np.arange(3))
    assert np.load(tmp_path / "sub" / "faces.npz")["x"].tolist() == [0, 1, 2]
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["faces.npz"]


def test_a_folder_entry_is_its_name_inside_the_objects_folder():
    @dataclass(frozen=True)
    class Layout:
        path: Path
        out_dir: Path = Path("elsewhere")

        config = FolderEntry("config.json")
        report = FolderEntry("report.html", folder="out_dir")

    layout = Layout(Path("runs/a"))
    assert (layout.config, layout.report) == (Path("runs/a/config.json"), Path("elsewhere/report.html"))
    assert isinstance(Layout.config, FolderEntry) and [f.name for f in fields(Layout)] == ["path", "out_dir"]
