"""Time loading FER2013 with `load_dataset`: first (cold) load and cached loads, and the first load of the one
split `ferkit evaluate` scores (`load_split(..., "PublicTest")`, which decodes that split alone).

Measures the Kaggle folder layout of ../shared/data/fer2013 and a fer2013.csv written from the same faces
(every row in the original format), each with an empty cache directory. Before a cold load the files are
dropped from the OS page cache (posix_fadvise DONTNEED, no root needed), so "cold" includes disk reads.
Writes benchmarks/results/data_loading.json with the hardware and date.

    .venv/bin/python benchmarks/bench_data.py [--data ../shared/data/fer2013] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np
from machine import hardware

from ferkit.constants import EMOTIONS
from ferkit.data import DataConfig, load_dataset, load_split

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT / ".." / "shared" / "data" / "fer2013"
RESULT = REPO_ROOT / "benchmarks" / "results" / "data_loading.json"


def evict_from_page_cache(path: Path) -> bool:
    """Ask the OS to forget the cached pages of every file under `path`; False where unsupported."""
    if not hasattr(os, "posix_fadvise"):
        return False
    files = [path] if path.is_file() else [Path(d) / n for d, _, names in os.walk(path) for n in names]
    for file in files:
        fd = os.open(file, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    return True


def write_fer2013_csv(folders: Path, path: Path) -> int:
    """fer2013.csv (emotion,pixels,Usage) holding every face of the Kaggle folders; returns the row count."""
    rows = 0
    with path.open("w") as f:
        f.write("emotion,pixels,Usage\n")
        for split, usage in (("train", "Training"), ("test", "PublicTest")):
            for emotion, name in enumerate(EMOTIONS):
                for image_path in sorted((folders / split / name).iterdir()):
                    pixels = cv2.imdecode(np.fromfile(image_path, np.uint8), cv2.IMREAD_GRAYSCALE)
                    f.write(f"{emotion},{' '.join(map(str, pixels.ravel()))},{usage}\n")
                    rows += 1
    return rows


def time_loads(source: Path, cache_root: Path, cold_repeats: int, repeats: int) -> dict:
    """Cold loads (each into a fresh cache folder, after evicting the source from the page cache), then cached."""
    cold = []
    for i in range(cold_repeats):
        cfg = DataConfig(path=source, cache_dir=cache_root / f"cold-{i}")
        evicted = evict_from_page_cache(source)
        start = time.perf_counter()
        splits = load_dataset(cfg)
        cold.append(time.perf_counter() - start)
    split = []
    for i in range(cold_repeats):
        evict_from_page_cache(source)
        start = time.perf_counter()
        load_split(DataConfig(path=source, cache_dir=cache_root / f"split-{i}"), "PublicTest")
        split.append(time.perf_counter() - start)
    cached = []
    for _ in range(repeats):
        start = time.perf_counter()
        load_dataset(cfg)
        cached.append(time.perf_counter() - start)
    return {"source": str(source.resolve()), "description": splits.description,
            "faces": len(splits.train) + len(splits.val) + (len(splits.test) if splits.test else 0),
            "cold_median_s": round(statistics.median(cold), 3), "cold_min_s": round(min(cold), 3),
            "cold_repeats": cold_repeats, "cold_page_cache_evicted": evicted,
            "cold_publictest_only_median_s": round(statistics.median(split), 3),
            "cached_median_s": round(statistics.median(cached), 3), "cached_max_s": round(max(cached), 3),
            "cached_repeats": repeats}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="FER2013 in the Kaggle folder layout")
    parser.add_argument("--cold-repeats", type=int, default=3, help="cold loads to time")
    parser.add_argument("--repeats", type=int, default=5, help="cached loads to time")
    parser.add_argument("--out", type=Path, default=RESULT)
    args = parser.parse_args()

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_dir = Path(tmp)
        folders = time_loads(args.data, tmp_dir / "cache-folders", args.cold_repeats, args.repeats)
        csv_path = tmp_dir / "fer2013.csv"
        rows = write_fer2013_csv(args.data, csv_path)
        csv = time_loads(csv_path, tmp_dir / "cache-csv", args.cold_repeats, args.repeats)
        csv |= {"rows": rows, "source": "fer2013.csv written from --data (temporary)"}
    result = {"benchmark": "load_dataset on FER2013", "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "hardware": hardware(numpy=np.__version__, opencv=cv2.__version__),
              "load_average_1m": {"before": load_before[0], "after": os.getloadavg()[0]},
              "kaggle_folders": folders, "fer2013_csv": csv, "command": "python benchmarks/bench_data.py"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
