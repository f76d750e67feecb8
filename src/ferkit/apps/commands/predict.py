"""`ferkit predict PATH...`: emotions of every face in images, folders and globs.

One JSON line per image on stdout (or `--jsonl FILE`), annotated copies in `--out DIR`. Exit 0 when
every input was read; otherwise each unreadable input is named, the run goes on to the next, and the exit
code is 2. Output paths are checked before the first image (see `ferkit.apps.outputs`).

The recognizer options defined here (`RecognizerConfig`) are shared by `ferkit video` and `ferkit webcam`.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

import cv2
import numpy as np

from ferkit.apps.config_args import add_config_arguments, config_from_args
from ferkit.apps.outputs import check_output_dir, check_output_file, free_name
from ferkit.config_fields import check_bounds, option
from ferkit.constants import ENV_CACHE_DIR, ENV_YUNET_PATH
from ferkit.errors import FerkitError, ImageReadError
from ferkit.inference import Recognizer, load_image, sample_image_path
from ferkit.inference.draw import annotate
from ferkit.inference.images import IMAGE_SUFFIXES


@dataclass(frozen=True)
class RecognizerConfig:
    """How to build the Recognizer (shared by predict, video and webcam)."""

    model: str = option("base", "bundled model name, .onnx file or ferkit model file")
    detector: Literal["auto", "yunet", "yunet-ort", "haar"] = option(
        "auto", "face detector; auto = YuNet on ONNX Runtime, or the Haar cascade when YuNet cannot be "
                "downloaded; yunet = YuNet on OpenCV's FaceDetectorYN")
    score_threshold: float = option(0.7, "minimum detector score of a face", "[0, 1]")
    min_face: int = option(20, "smallest face side kept, pixels", "[0, inf)")
    align: bool = option(True, "rotate faces upright from the eye landmarks")
    yunet_path: Path | None = option(None, f"YuNet .onnx to use instead of downloading it (env {ENV_YUNET_PATH})")
    cache_dir: Path | None = option(None, f"download cache (env {ENV_CACHE_DIR}; else ~/.cache/ferkit)")
    download: bool = option(True, "allow downloading the YuNet model on first use")

    def __post_init__(self) -> None:
        check_bounds(self)


def add_recognizer_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser, RecognizerConfig)


def create_recognizer(args: argparse.Namespace) -> Recognizer:
    """The Recognizer the options ask for; environment variables fill in paths not given as options."""
    opts = config_from_args(RecognizerConfig, args)
    return Recognizer(
        opts.model, opts.detector, score_threshold=opts.score_threshold, min_face=opts.min_face, align=opts.align,
        yunet_path=opts.yunet_path or os.environ.get(ENV_YUNET_PATH) or None,
        cache_dir=opts.cache_dir or os.environ.get(ENV_CACHE_DIR) or None,
        download=opts.download,
    )


@dataclass(frozen=True)
class PredictConfig:
    out: Path | None = option(None, "folder for annotated copies of the images (never one of the inputs' folders)")
    jsonl: Path | None = option(None, "write the JSON lines to this file, not stdout")
    sample: bool = option(False, "also run on ferkit's bundled sample photo")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="*", metavar="PATH", help="image files, folders or glob patterns")
    add_config_arguments(parser, PredictConfig)
    add_recognizer_arguments(parser)


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(PredictConfig, args)
    patterns = list(args.inputs) + ([str(sample_image_path())] if cfg.sample else [])
    if not patterns:
        raise FerkitError("no inputs: give image files, folders or globs (or --sample)")
    files, problems = expand_inputs(patterns)
    if cfg.jsonl is not None:
        check_output_file(cfg.jsonl, "--jsonl", files)
    if cfg.out is not None:
        check_output_dir(cfg.out, "--out", files)
    recognizer = create_recognizer(args) if files else None
    names: set[str] = set()
    with _open_output(cfg.jsonl) as lines:
        for path in files:
            try:  # one bad file is reported at the end; the run goes on to the next
                image = load_image(path)
                faces = recognizer.predict(image)
            except FerkitError as exc:
                problems.append(str(exc))
                continue
            record = {"input": str(path), "width": image.shape[1], "height": image.shape[0],
                      "faces": [f.to_dict() for f in faces]}
            lines.write(json.dumps(record) + "\n")
            if cfg.out is not None:
                _write_annotated(annotate(image, faces), free_name(cfg.out, path.stem, ".jpg", names))
    if cfg.out is not None and names:
        print(f"annotated images written to {cfg.out.resolve()}", file=sys.stderr)
    if problems:
        raise ImageReadError(f"{len(problems)} input(s) could not be read: " + "; ".join(problems))
    return 0


def expand_inputs(patterns: list[str]) -> tuple[list[Path], list[str]]:
    """Image files named by paths, folders (their image files) and globs; plus a message per pattern that
    names nothing."""
    files: list[Path] = []
    problems: list[str] = []
    for pattern in patterns:
        path = Path(pattern)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            problem = f"{path}: folder has no image files"
        elif path.exists():
            found, problem = [path], ""
        elif glob.has_magic(pattern):
            found = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
            problem = f"{pattern}: matches no files"
        else:
            found, problem = [], f"{path}: no such file or folder"
        if not found:
            problems.append(problem)
        files.extend(found)
    return files, problems


@contextmanager
def _open_output(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    with path.open("w") as f:
        yield f


def _write_annotated(image_bgr: np.ndarray, target: Path) -> None:
    if not cv2.imwrite(str(target), image_bgr):
        raise FerkitError(f"{target}: cannot write the annotated image")
