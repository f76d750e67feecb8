"""The face-array cache: hit, miss, invalidation when the source or pixel settings change."""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import pytest

import ferkit.data.load
from ferkit.data import DataConfig, load_dataset
from ferkit.data.cache import cache_entry, load_cached, save_cached, source_fingerprint
from ferkit.data.fer2013 import read_fer2013_csv

from .conftest import write_images


@pytest.fixture
def csv_cfg(fer_csv, tmp_path) -> DataConfig:
    return DataConfig(path=fer_csv, cache_dir=tmp_path / "cache")


def test_round_trip(csv_cfg):
    data = read_fer2013_csv(csv_cfg.path, csv_cfg.preprocess)
    fingerprint = source_fingerprint(csv_cfg.path)
    assert load_cached(csv_cfg, fingerprint) is None
    save_cached(csv_cfg, data, fingerprint)
    cached = load_cached(csv_cfg, fingerprint)
    assert cached is not None and cached.names == data.names
    for split, faces in data.splits.items():
        np.testing.assert_array_equal(cached.splits[split].images, faces.images)
        np.testing.assert_array_equal(cached.splits[split].labels, faces.labels)
        assert cached.splits[split].sources == faces.sources


def test_writing_an_entry_leaves_another_writers_temporary_files_alone(csv_cfg):
    """Two runs started side by side cache the same source at once: neither may delete the other's half-written
    arrays (it then failed with 'No such file or directory' on renaming them)."""
    data = read_fer2013_csv(csv_cfg.path, csv_cfg.preprocess)
    entry = cache_entry(csv_cfg)
    entry.mkdir(parents=True)
    theirs = entry / ".train.npz.4242-abcdef.tmp.npz"
    theirs.write_bytes(b"being written")
    (entry / "stale.npz").write_bytes(b"old")
    save_cached(csv_cfg, data, source_fingerprint(csv_cfg.path))
    assert theirs.read_bytes() == b"being written" and not (entry / "stale.npz").exists()


def test_changed_fingerprint_is_a_miss(csv_cfg):
    data = read_fer2013_csv(csv_cfg.path, csv_cfg.preprocess)
    save_cached(csv_cfg, data, source_fingerprint(csv_cfg.path))
    assert load_cached(csv_cfg, {"size": 1, "mtime_ns": 2}) is None


def test_entry_depends_on_pixel_settings_only(csv_cfg):
    entry = cache_entry(csv_cfg)
    assert cache_entry(replace(csv_cfg, classes=("happy",), val_fraction=0.3, seed=5)) == entry
    for change in ({"input_size": 64}, {"clahe": True}, {"denoise": True}, {"skip_bad": True}):
        assert cache_entry(replace(csv_cfg, **change)) != entry


def test_unreadable_entry_is_a_miss(csv_cfg):
    fingerprint = source_fingerprint(csv_cfg.path)
    entry = save_cached(csv_cfg, read_fer2013_csv(csv_cfg.path, csv_cfg.preprocess), fingerprint)
    (entry / "train.npz").write_bytes(b"garbage")
    assert load_cached(csv_cfg, fingerprint) is None


def count_calls(monkeypatch, name: str) -> list[int]:
    """Count calls of the reader `ferkit.data.load.<name>` that load_dataset uses."""
    calls: list[int] = []
    real = getattr(ferkit.data.load, name)

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(ferkit.data.load, name, counting)
    return calls


def test_second_load_hits_and_edited_csv_misses(csv_cfg, monkeypatch):
    reads = count_calls(monkeypatch, "read_fer2013_csv")
    first = load_dataset(csv_cfg)
    second = load_dataset(replace(csv_cfg, classes=("happy", "sad")))
    assert len(reads) == 1
    assert second.train.classes == ("happy", "sad") and len(first.train) == 10
    with csv_cfg.path.open("a") as f:
        f.write("3," + " ".join(["7"] * 2304) + ",Training\n")
    assert len(load_dataset(csv_cfg).train) == 11
    assert len(reads) == 2


def test_folder_gains_a_file_then_misses(kaggle_folder, faces, tmp_path, monkeypatch):
    cfg = DataConfig(path=kaggle_folder, cache_dir=tmp_path / "cache")
    reads = count_calls(monkeypatch, "read_image_folders")
    load_dataset(cfg)
    load_dataset(cfg)
    assert len(reads) == 1
    write_images(kaggle_folder / "train" / "happy", faces["happy"][:1], "Training_new")
    assert len(load_dataset(cfg).train) == 22
    assert len(reads) == 2


def test_folder_with_a_rewritten_file_misses(kaggle_folder, tmp_path, monkeypatch):
    cfg = DataConfig(path=kaggle_folder, cache_dir=tmp_path / "cache")
    reads = count_calls(monkeypatch, "read_image_folders")
    before = load_dataset(cfg).train
    target = kaggle_folder / "train" / "angry" / "Training_0000.jpg"
    write_images(target.parent, [np.zeros((48, 48), np.uint8)], "Training_")  # same name, new pixels
    newest = source_fingerprint(kaggle_folder)["newest_mtime_ns"]
    os.utime(target, ns=(newest + 10**9, newest + 10**9))  # a coarse-mtime file system may not show the write
    after = load_dataset(cfg).train
    assert len(reads) == 2
    index = after.sources.index(str(target))
    assert after.images[index].max() == 0 and before.images[index].max() > 0


def test_no_cache_dir_reads_every_time(kaggle_folder, monkeypatch):
    reads = count_calls(monkeypatch, "read_image_folders")
    load_dataset(DataConfig(path=kaggle_folder))
    load_dataset(DataConfig(path=kaggle_folder))
    assert len(reads) == 2
