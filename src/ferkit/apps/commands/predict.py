"""`ferkit predict PATH...`: emotions of every face in images, videos, folders, globs and manifests.

Without `--out`, one JSON line per image (per frame of a video) on stdout, or in `--jsonl FILE`: its
`ImageResult.to_dict()`, the shape the Python API and the web service give; an input that failed is a line with
its `source` and `error`. With `--out DIR` the faces go to a table in `DIR/predictions/`, one row per face
(`ImageResult.rows()` and the job's columns, see `ferkit.jobs.table`; Parquet by default, `--format
jsonl|csv`), written in atomic parts, so running the same command again after a crash or Ctrl-C skips what is
done and finishes; `--annotate` adds annotated copies in `DIR/annotated/`. Work is spread over all cores
(`--workers`), or over a Ray cluster (`--engine ray`).

Exit 0 when every input was analysed; otherwise the failed inputs (each also in the output with its reason)
are named and the exit code is 2. A rerun analyses the inputs that failed before again, so its exit code tells
the state of the whole table. SIGTERM stops a run as Ctrl-C does: the rows of finished tasks are written, and
the exit code is 130. Output paths are checked before the first input (see `ferkit.files`).

`PredictConfig` nests the recognizer options (`ferkit.inference.config.RecognizerConfig`, also nested by `ferkit
video`, `ferkit webcam` and `ferkit serve`) and the job options (`ferkit.jobs.BatchConfig`).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ferkit.apps.config_args import add_config_arguments, config_from_args
from ferkit.config_fields import nested, option
from ferkit.errors import ConfigError, FerkitError, ImageReadError
from ferkit.files import check_output_file, check_results_dir
from ferkit.inference import sample_image_path
from ferkit.inference.config import RecognizerConfig
from ferkit.jobs import BatchConfig
from ferkit.jobs import run as run_job


@dataclass(frozen=True)
class PredictConfig:
    out: Path | None = option(None, "results folder: the table in OUT/predictions/ (resumed when run again) and, "
                                    "with --annotate, annotated copies in OUT/annotated/; unset = JSON lines")
    jsonl: Path | None = option(None, "without --out: write the JSON lines to this file, not stdout")
    sample: bool = option(False, "also run on ferkit's bundled sample photo")
    progress: bool = option(True, "progress bar with rate and ETA on stderr (only when it is a terminal)")
    batch: BatchConfig = nested(BatchConfig(), "how the work is spread and the table written")
    recognizer: RecognizerConfig = nested(RecognizerConfig(), "the model and the face detector")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="*", metavar="PATH",
                        help="images, videos, folders (walked recursively), glob patterns, or manifests "
                             "(.txt: a path a line; .csv: a 'path' column)")
    add_config_arguments(parser, PredictConfig)


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(PredictConfig, args)
    batch = cfg.batch
    sources = list(args.inputs) + ([str(sample_image_path())] if cfg.sample else [])
    if not sources:
        raise FerkitError("no inputs: give images, videos, folders, globs or manifests (or --sample)")
    if cfg.out is not None:
        if cfg.jsonl is not None:
            raise ConfigError("--jsonl writes JSON lines instead of a results folder: give --out or --jsonl, not both")
        check_results_dir(cfg.out, "--out", sources)
    elif batch.annotate:
        raise ConfigError("--annotate needs --out (the annotated copies go to OUT/annotated/)")
    if cfg.jsonl is not None:
        check_output_file(cfg.jsonl, "--jsonl", [Path(s) for s in sources])
    with _rows_stream(cfg.jsonl) as stream, _terminate_as_interrupt():
        summary = run_job(sources, cfg.recognizer, cfg.out, batch, stream, cfg.progress)
    done = f"{summary.analysed} input(s) analysed, {summary.rows} {'row' if cfg.out else 'JSON line'}(s)"
    if summary.retried:
        done += f"; {summary.retried} that had failed before analysed again"
    if summary.skipped:
        done += f"; {summary.skipped} skipped, already in the table"
    if summary.repeated:
        done += f"; {summary.repeated} named more than once, analysed once"
    where = f" -> {summary.table} ({batch.format})" if summary.table is not None else ""
    print(f"ferkit predict: {done}{where}", file=sys.stderr)
    if summary.failed:
        raise ImageReadError(f"{summary.failed} input(s) failed (each is in the output with its error): "
                             + "; ".join(summary.failures))
    return 0


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt, as Ctrl-C does, so the run writes what it finished before it ends."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _rows_stream(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    with path.open("w") as f:
        yield f
