"""Fixtures for batch runs: a folder of generated photos (faces, no faces, bad files), the recognizer, and parts of
a results table written in the shape of an older ferkit."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from ferkit.inference import ImageResult, sample_image_path
from ferkit.inference.config import RecognizerConfig
from ferkit.jobs.table import ModelVersion

BAD_FILES = ("broken.jpg", "empty.png", "text.jpg")


@pytest.fixture(scope="session")
def face() -> np.ndarray:
    return cv2.resize(cv2.imread(str(sample_image_path()))[40:200, 145:300], (78, 81))


@pytest.fixture(scope="session")
def photo_folder(tmp_path_factory: pytest.TempPathFactory, face: np.ndarray) -> Path:
    """97 photos in two subfolders, 2 of 3 with a face, plus the 3 `BAD_FILES`: 100 inputs."""
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for i in range(97):
        folder = root / ("a" if i % 2 else "b")
        folder.mkdir(exist_ok=True)
        image = np.full((120, 160, 3), int(rng.integers(60, 200)), np.uint8)
        if i % 3:
            x, y = int(rng.integers(0, 80)), int(rng.integers(0, 38))
            image[y:y + 81, x:x + 78] = face
        cv2.imwrite(str(folder / f"photo{i:03d}.jpg"), image)
    (root / "a" / BAD_FILES[0]).write_bytes(b"\xff\xd8 truncated")
    (root / "a" / BAD_FILES[1]).write_bytes(b"")
    (root / "b" / BAD_FILES[2]).write_text("not an image")
    return root


@pytest.fixture
def recognizer(tiny_onnx: Path, yunet_path: Path) -> RecognizerConfig:
    return RecognizerConfig(model=str(tiny_onnx), detector="yunet-ort", yunet_path=yunet_path)


def old_columns(classes: Sequence[str]) -> list[str]:
    """The columns of a results table as ferkit wrote it before its rows were `ImageResult.rows()`."""
    return ["input", "path", "frame", "time_s", "status", "error", "width", "height", "track_id", "x", "y", "w", "h",
            "score", *(f"landmark_{i}" for i in range(10)), "label", *(f"prob_{c}" for c in classes), "model",
            "model_version", "annotated"]


def old_rows(source: str, result: ImageResult, model: ModelVersion) -> list[dict[str, Any]]:
    """The rows that ferkit wrote then for `result`: input, unrounded float x/y/w/h, landmark_0..9, no confidence."""
    base = {"input": source, "path": os.path.realpath(source), "frame": result.frame,
            "time_s": None if result.time_s is None else round(result.time_s, 4), "width": result.width,
            "height": result.height, "model": model.name, "model_version": model.version}
    rows = [{**base, "status": "ok", "track_id": face.track_id, "x": face.box.x, "y": face.box.y, "w": face.box.w,
             "h": face.box.h, "score": face.score, "label": face.label,
             **{f"landmark_{i}": p for i, p in enumerate(face.landmarks.reshape(-1).tolist())},
             **{f"prob_{c}": face.probabilities[c] for c in model.classes}} for face in result.faces]
    rows = rows or [{**base, "status": "no_face"}]
    return [{name: row.get(name) for name in old_columns(model.classes)} for row in rows]


def write_old_part(folder: Path, fmt: str, rows: list[dict[str, Any]], classes: Sequence[str]) -> Path:
    """`rows` as one part of the old shape, typed as ferkit's old Parquet schema typed them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"part-1-abcdef-000000.{fmt}"
    if fmt == "parquet":
        types = {"input": pa.string(), "path": pa.string(), "frame": pa.int64(), "time_s": pa.float64(),
                 "status": pa.string(), "error": pa.string(), "width": pa.int32(), "height": pa.int32(),
                 "track_id": pa.int64(), "label": pa.string(), "model": pa.string(), "model_version": pa.string(),
                 "annotated": pa.string()}
        schema = pa.schema([(name, types.get(name, pa.float32())) for name in old_columns(classes)])
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    else:
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, old_columns(classes))
            writer.writeheader()
            writer.writerows(rows)
    return path
