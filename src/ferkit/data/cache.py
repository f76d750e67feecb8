"""Cache what a data source reads to as uint8 `.npz` files, so loading FER2013 again takes well under 2 s.

An entry is a folder named after the source and a hash of its absolute path plus the `DataConfig` fields
that change pixels (`input_size`, `clahe`, `denoise`, `skip_bad`), and the one split it holds when a reader
read only that split (`evaluate` scoring PublicTest: an entry of its own, used only when no entry of the
whole source is there). Inside, `meta.json` records the source's
fingerprint (file: size + mtime; folder: file count + newest mtime) and is written last, so an entry whose
meta is missing or whose fingerprint differs is a miss and is rewritten in place. Class selection and the
validation split happen after the cache, so changing them never invalidates it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

from ferkit.data.arrays import FaceArrays
from ferkit.data.config import DataConfig
from ferkit.data.source import SourceData
from ferkit.errors import DataError
from ferkit.files import atomic_write

logger = logging.getLogger(__name__)

CACHE_FORMAT = 1  # bump when the cached content of an unchanged source would differ


def source_fingerprint(path: Path) -> dict[str, int]:
    """Cheap change detector: size + mtime of a file; file count + newest mtime (files and folders) of a tree."""
    if path.is_file():
        st = path.stat()
        return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
    count, newest = 0, path.stat().st_mtime_ns
    for folder, _, names in os.walk(path):
        newest = max(newest, os.stat(folder).st_mtime_ns)
        for name in names:
            count += 1
            newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime_ns)
    return {"files": count, "newest_mtime_ns": newest}


def _key_fields(cfg: DataConfig, only: str | None) -> dict:
    fields = {"format": CACHE_FORMAT, "source": str(cfg.path.resolve()), "input_size": cfg.input_size,
              "clahe": cfg.clahe, "denoise": cfg.denoise, "skip_bad": cfg.skip_bad}
    return fields if only is None else {**fields, "only": only}  # entries of whole sources keep their names


def cache_entry(cfg: DataConfig, only: str | None = None) -> Path:
    """The folder holding the cached arrays of `cfg`'s source, or of its split `only` (it may not exist yet)."""
    if cfg.cache_dir is None:
        raise ValueError("cache_entry needs cfg.cache_dir")
    digest = hashlib.sha256(json.dumps(_key_fields(cfg, only), sort_keys=True).encode()).hexdigest()[:16]
    return cfg.cache_dir / f"{cfg.path.resolve().name}-{digest}"


def load_cached(cfg: DataConfig, fingerprint: dict[str, int], only: str | None = None) -> SourceData | None:
    """The cached source data for `cfg` (its split `only` alone when given), or None on a miss (no entry,
    source changed, unreadable entry).

    `fingerprint` is `source_fingerprint(cfg.path)`, taken by the caller before any reading.
    """
    entry = cache_entry(cfg, only)
    try:
        meta = json.loads((entry / "meta.json").read_text())
    except (OSError, ValueError):
        return None
    if meta.get("key") != _key_fields(cfg, only) or meta.get("fingerprint") != fingerprint:
        logger.info("cache entry %s is stale (the source or the settings changed)", entry)
        return None
    try:
        splits = {split: FaceArrays.load(entry / f"{split}.npz") for split in meta["names"]}
    except DataError as exc:
        logger.warning("ignoring unreadable cache entry %s: %s", entry, exc)
        return None
    logger.info("loaded %s from cache %s", cfg.path, entry)
    return SourceData(splits, meta["names"], tuple(meta["skipped"]), only)


def save_cached(cfg: DataConfig, data: SourceData, fingerprint: dict[str, int]) -> Path:
    """Write `data` as the cache entry of `cfg` (of its split `data.only` when it holds one split alone);
    returns the entry folder.

    `fingerprint` must be taken before `data` was read, so a source edited mid-read is re-read next time.
    """
    entry = cache_entry(cfg, data.only)
    entry.mkdir(parents=True, exist_ok=True)
    meta_path = entry / "meta.json"
    meta_path.unlink(missing_ok=True)  # an entry without meta is a miss while the arrays are rewritten
    for old in entry.glob("*.npz"):
        # Another process (a DDP rank, a run started beside this one) may be writing the same entry: its
        # temporary files (hidden, `ferkit.files.atomic_path`) are its own to rename or remove.
        if not old.name.startswith("."):
            old.unlink(missing_ok=True)
    for split, faces in data.splits.items():
        faces.save(entry / f"{split}.npz")
    meta = {"key": _key_fields(cfg, data.only), "fingerprint": fingerprint, "names": data.names,
            "skipped": list(data.skipped)}
    atomic_write(meta_path, json.dumps(meta, indent=1))
    logger.info("cached %s in %s", cfg.path, entry)
    return entry
