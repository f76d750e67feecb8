"""Batch runs end to end: a row for every input (bad ones with their reason), the same table from one process,
several and Ray, resume after SIGKILL without a lost or repeated row, videos with track ids."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pytest

from ferkit.apps.cli import main
from ferkit.constants import EMOTIONS
from ferkit.errors import ConfigError
from ferkit.jobs import BatchConfig, BatchSummary, run
from ferkit.jobs.table import ModelVersion, columns

from .conftest import BAD_FILES, old_rows, write_old_part

PROBS = [f"prob_{c}" for c in EMOTIONS]


def _table(out: Path) -> pd.DataFrame:
    table = ds.dataset(out / "predictions", format="parquet").to_table().to_pandas()
    return table.sort_values(["source", "frame", "box_x"], na_position="first").reset_index(drop=True)


def test_every_input_gets_rows_and_bad_files_their_reason(photo_folder: Path, recognizer, tmp_path: Path):
    summary = run([str(photo_folder)], recognizer, tmp_path / "out", BatchConfig(workers=2, chunk=8),
                  progress=False)
    table = _table(tmp_path / "out")
    assert summary.analysed == table["source"].nunique() == 100 and summary.failed == 3
    errors = table[table.status == "error"]
    assert sorted(Path(p).name for p in errors.source) == sorted(BAD_FILES)
    assert errors.error.str.len().min() > 10  # each says why
    with_face = table[table.status == "ok"]
    assert 55 <= with_face.source.nunique() <= 70  # 64 photos have a face; YuNet may miss or add one
    assert (table[table.status == "no_face"].label.isna()).all()
    np.testing.assert_allclose(with_face[PROBS].sum(axis=1), 1, atol=1e-4)


def test_one_process_and_several_give_the_same_table(photo_folder: Path, recognizer, tmp_path: Path):
    run([str(photo_folder)], recognizer, tmp_path / "one", BatchConfig(workers=1), progress=False)
    run([str(photo_folder)], recognizer, tmp_path / "two", BatchConfig(workers=2, chunk=5), progress=False)
    one, two = _table(tmp_path / "one"), _table(tmp_path / "two")
    assert one[["source", "status", "label"]].equals(two[["source", "status", "label"]])
    np.testing.assert_allclose(one[PROBS].to_numpy(float), two[PROBS].to_numpy(float), atol=1e-5)


def test_a_killed_run_resumes_without_losing_or_repeating_a_row(photo_folder: Path, recognizer, tiny_onnx: Path,
                                                                yunet_path: Path, tmp_path: Path):
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "ferkit.apps.cli", "predict", str(photo_folder), "--out", str(out), "--model",
            str(tiny_onnx), "--yunet-path", str(yunet_path), "--detector", "yunet-ort", "--workers", "1",
            "--chunk", "4", "--part-rows", "8", "--no-progress"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(list((out / "predictions").glob("part-*.parquet"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    partial = _table(out).source.nunique()
    assert 0 < partial < 100

    assert main(argv[3:]) == 2  # the 3 bad files still fail, and are named again only if not yet written
    table = _table(out)
    clean = tmp_path / "clean"
    run([str(photo_folder)], recognizer, clean, BatchConfig(workers=1), progress=False)
    expected = _table(clean)
    assert table.source.nunique() == 100
    assert len(table) == len(expected)  # no row lost, none repeated
    assert table[["source", "status", "box_x"]].equals(expected[["source", "status", "box_x"]])


def test_a_video_gives_a_row_per_frame_and_face_with_track_ids(face: np.ndarray, recognizer, tmp_path: Path):
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 200))
    for i in range(10):
        frame = np.full((200, 320, 3), 110, np.uint8)
        frame[20:101, 10 + 10 * i:88 + 10 * i] = face
        frame[110:191, 230 - 8 * i:308 - 8 * i] = face[:, ::-1]
        writer.write(frame)
    writer.release()
    run([str(video)], recognizer, tmp_path / "out", BatchConfig(workers=1), progress=False)
    table = _table(tmp_path / "out")
    assert sorted(table.frame.unique()) == list(range(10))
    assert (table.groupby("frame").size() == 2).all() and sorted(table.track_id.unique()) == [1, 2]
    np.testing.assert_allclose(table.time_s.unique(), np.arange(10) / 10)


def test_manifests_list_inputs_by_line_or_by_csv_column(photo_folder: Path, recognizer, tmp_path: Path):
    photos = sorted((photo_folder / "a").glob("photo*.jpg"))[:3]
    (tmp_path / "list.txt").write_text("# three photos\n" + "\n".join(map(str, photos)) + "\nmissing.jpg\n")
    (tmp_path / "list.csv").write_text("id,path\n" + "".join(f"{i},{p}\n" for i, p in enumerate(photos)))
    txt = run([str(tmp_path / "list.txt")], recognizer, tmp_path / "txt", BatchConfig(workers=1), progress=False)
    csv = run([str(tmp_path / "list.csv")], recognizer, tmp_path / "csv", BatchConfig(workers=1), progress=False)
    assert (txt.analysed, txt.failed, csv.analysed, csv.failed) == (4, 1, 3, 0)
    assert "missing.jpg: listed in the manifest but no such file" in txt.failures[0]


def test_ray_gives_the_same_table_as_the_local_engine(photo_folder: Path, recognizer, tmp_path: Path):
    pytest.importorskip("ray")
    sources = [str(p) for p in sorted((photo_folder / "b").iterdir())[:12]]
    run(sources, recognizer, tmp_path / "local", BatchConfig(workers=1), progress=False)
    run(sources, recognizer, tmp_path / "ray", BatchConfig(engine="ray", workers=2, chunk=4), progress=False)
    local, ray = _table(tmp_path / "local"), _table(tmp_path / "ray")
    assert local[["source", "status", "label", "track_id"]].equals(ray[["source", "status", "label", "track_id"]])
    np.testing.assert_allclose(local[PROBS].to_numpy(float), ray[PROBS].to_numpy(float), atol=1e-5)


def test_the_ray_engine_without_ray_names_the_extra(photo_folder: Path, recognizer, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError, as without the extra
    with pytest.raises(ConfigError, match=r"pip install 'ferkit\[ray\]'"):
        run([str(photo_folder)], recognizer, tmp_path / "out", BatchConfig(engine="ray"), progress=False)


def _photos(photo_folder: Path, tmp_path: Path, n: int = 3) -> Path:
    """A folder of `n` of the generated photos, for runs that must be quick."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for photo in sorted((photo_folder / "a").glob("photo*.jpg"))[:n]:
        (folder / photo.name).write_bytes(photo.read_bytes())
    return folder


def test_an_input_named_twice_or_respelled_on_resume_gets_its_rows_once(photo_folder: Path, recognizer,
                                                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    photos = _photos(photo_folder, tmp_path)
    monkeypatch.chdir(tmp_path)
    first = run(["photos", "photos/*.jpg"], recognizer, tmp_path / "out", BatchConfig(workers=1), progress=False)
    again = run([str(photos.resolve())], recognizer, tmp_path / "out", BatchConfig(workers=1), progress=False)
    assert (first.analysed, first.repeated, again.analysed, again.skipped) == (3, 3, 0, 3)
    assert _table(tmp_path / "out").groupby("path").source.nunique().eq(1).all()


def test_a_rerun_retries_the_failed_inputs_it_names_and_replaces_their_rows(photo_folder: Path, recognizer,
                                                                            tmp_path: Path):
    photos = _photos(photo_folder, tmp_path)
    for name in ("late.jpg", "bad.jpg"):
        (photos / name).write_bytes(b"not yet an image")
    first = run([str(photos)], recognizer, tmp_path / "out", BatchConfig(workers=1), progress=False)
    (photos / "late.jpg").write_bytes((photos / "photo001.jpg").read_bytes())  # the file is fixed
    only_late = run([str(photos / "late.jpg")], recognizer, tmp_path / "out", BatchConfig(workers=1),
                    progress=False)
    again = run([str(photos)], recognizer, tmp_path / "out", BatchConfig(workers=1), progress=False)
    table = _table(tmp_path / "out")
    assert (first.failed, only_late.retried, only_late.failed) == (2, 1, 0)
    assert (again.retried, again.analysed, again.skipped, again.failed) == (1, 1, 4, 1)  # bad.jpg, still bad
    assert table.groupby("source").size().max() == 1 and table.source.nunique() == 5
    assert list(table[table.status == "error"].source.map(lambda p: Path(p).name)) == ["bad.jpg"]


def test_a_results_folder_of_an_older_ferkit_resumes_in_todays_columns(photo_folder: Path, recognizer,
                                                                       tmp_path: Path):
    photos = _photos(photo_folder, tmp_path)
    rec = recognizer.build()
    model = ModelVersion.of_file(recognizer.model, Path(recognizer.model), rec.classes)
    earlier = [rec.analyze(str(path)) for path in sorted(photos.iterdir())[:2]]
    write_old_part(tmp_path / "out" / "predictions", "parquet",
                   [row for result in earlier for row in old_rows(str(result.source), result, model)], model.classes)
    summary = run([str(photos)], recognizer, tmp_path / "out", BatchConfig(workers=1), progress=False)
    run([str(photos)], recognizer, tmp_path / "clean", BatchConfig(workers=1), progress=False)
    assert (summary.analysed, summary.skipped) == (1, 2)  # the old table's inputs are done
    assert ds.dataset(tmp_path / "out" / "predictions", format="parquet").schema.names == columns(model.classes)
    table, clean = _table(tmp_path / "out"), _table(tmp_path / "clean")
    assert table[["source", "status", "box_x", "label"]].equals(clean[["source", "status", "box_x", "label"]])
    np.testing.assert_allclose(table[[*PROBS, "confidence"]].to_numpy(float),
                               clean[[*PROBS, "confidence"]].to_numpy(float), atol=1e-4)


def test_a_single_photo_is_analysed_without_a_worker_pool(photo_folder: Path, recognizer, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sys.modules["ferkit.jobs.run"], "ProcessPoolExecutor", None)  # any pool would fail
    photo = str(_photos(photo_folder, tmp_path, 1) / "photo001.jpg")
    assert run([photo], recognizer, tmp_path / "out", BatchConfig(workers=4), progress=False).analysed == 1


def test_a_worker_that_cannot_start_ends_the_run_with_its_own_error(photo_folder: Path, recognizer, tmp_path: Path):
    from dataclasses import replace

    from ferkit.errors import ModelError

    broken = replace(recognizer, detector="yunet", yunet_path=tmp_path / "missing.onnx")
    with pytest.raises(ModelError, match=r"missing\.onnx: no such YuNet model file"):
        run([str(_photos(photo_folder, tmp_path))], broken, tmp_path / "out", BatchConfig(workers=2), progress=False)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_workers_die_with_a_killed_run_and_sigterm_writes_the_finished_rows(photo_folder: Path, tiny_onnx: Path,
                                                                           yunet_path: Path, tmp_path: Path, sig):
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "ferkit.apps.cli", "predict", str(photo_folder), "--out", str(out), "--model",
            str(tiny_onnx), "--yunet-path", str(yunet_path), "--detector", "yunet-ort", "--workers", "2",
            "--chunk", "2", "--part-rows", "100000", "--annotate", "--no-progress"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list((out / "annotated").glob("*.jpg"))) < 8 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = [pid for child in _children(proc.pid) for pid in [child, *_children(child)]]
    os.kill(proc.pid, sig)
    assert proc.wait(30) == (130 if sig == signal.SIGTERM else -sig)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert workers and not any(_alive(pid) for pid in workers)
    if sig == signal.SIGTERM:  # one part of at most 100,000 rows, written on the way out
        assert 0 < _table(out).source.nunique() < 100


def test_the_old_package_name_imports_the_same_api_with_a_warning(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delitem(sys.modules, "ferkit.batch", raising=False)  # a fresh import, so that it warns
    with pytest.warns(DeprecationWarning, match=r"ferkit\.jobs"):
        old = importlib.import_module("ferkit.batch")
    assert (old.BatchConfig, old.BatchSummary, old.run) == (BatchConfig, BatchSummary, run)
