"""`run()`: a bulk job from inputs to one results table, on all local cores or on a Ray cluster, resumable.

The main process locks the results folder (`folder.ResultsFolder`), refuses a table of another model or
format, streams the inputs, skips those that already have rows (an input named twice, by any spelling or link,
is analysed once: inputs are compared by real path) except those that failed, whose old rows are taken out of
the table once their new ones are written, hands tasks (a chunk of images, or one video) to the engine with a
bounded number in flight, and writes the rows of finished tasks as atomic part files (`table.PartWriter`). So
memory stays bounded whatever the number of inputs, and after a crash, SIGKILL, SIGTERM or Ctrl-C the same call
finishes the job without losing or repeating a row: rows still in memory were not yet written, so their inputs
are simply analysed again.

Engines:
- `local` (default): `workers` processes, each with its own Recognizer and ONNX Runtime sessions using
  cores // workers threads, so that workers x threads = cores. `workers=1`, or a single image (no folder,
  video, glob or manifest), runs in this process: a photo is analysed without starting a pool. Workers die
  with this process, even when it is killed (`worker.py`).
- `ray`: the same `RecordMaker` as a Ray Data callable class in `map_batches`, an actor pool of `workers`
  actors with `num_cpus` (and `num_gpus`) each; videos go one per task.
"""

from __future__ import annotations

import glob
import json
import os
import sys
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import nullcontext
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Literal, TextIO

from ferkit.config_fields import check_bounds, option
from ferkit.inference.config import RecognizerConfig
from ferkit.inference.pipeline import Recognizer
from ferkit.inference.runtime import set_default_threads
from ferkit.jobs import worker
from ferkit.jobs.folder import ResultsFolder
from ferkit.jobs.inputs import MANIFEST_SUFFIXES, Input, count_inputs, iter_inputs, kind_of
from ferkit.jobs.records import RecordMaker
from ferkit.jobs.table import DoneInputs, Format, ModelVersion, PartWriter, drop_inputs, input_key, parts, upgrade_parts


@dataclass(frozen=True)
class BatchConfig:
    """How a job runs: engine, parallelism, task size and the table's format."""

    engine: Literal["local", "ray"] = option("local", "local: worker processes on this machine; ray: a Ray "
                                                      "Data pipeline (pip install 'ferkit[ray]')")
    workers: int = option(0, "worker processes (local) or actors (ray); 0 = one per CPU core", "[0, inf)")
    chunk: int = option(16, "images per task: each decoded and searched for faces, their faces classified in "
                            "one batch", "[1, inf)")
    format: Format = option("parquet", "table format: parquet (pyarrow), jsonl or csv")
    address: str | None = option(None, "with --engine ray: the cluster (auto, ray://HOST:PORT); unset = a "
                                       "Ray instance on this machine")
    gpus_per_actor: float = option(0.0, "with --engine ray: GPUs per actor, where the cluster has them",
                                   "[0, inf)")
    part_rows: int = option(5000, "rows per part file; rows in memory are lost (and redone) on a crash",
                            "[1, inf)")
    annotate: bool = option(False, "also save an annotated copy of each image (for small runs)")

    def __post_init__(self) -> None:
        check_bounds(self)


@dataclass
class BatchSummary:
    """What a run did: inputs analysed now, skipped as already done, named more than once (analysed once),
    failed (`retried` of them had failed in an earlier run too), and rows (or JSON lines) written."""

    analysed: int = 0
    skipped: int = 0
    repeated: int = 0
    failed: int = 0
    retried: int = 0
    rows: int = 0
    failures: list[str] = field(default_factory=list)  # the first few "input: reason" lines, for the user
    table: Path | None = None


def run(sources: Iterable[str], recognizer: RecognizerConfig, out: Path | None, cfg: BatchConfig = BatchConfig(),
        stream: TextIO | None = None, progress: bool = True) -> BatchSummary:
    """Analyse every input named by `sources` into one table.

    Args:
        sources: files, folders, glob patterns and manifests (see `ferkit.jobs.inputs`).
        recognizer: how each worker builds its Recognizer.
        out: results folder (`ResultsFolder`): the table goes to `out/predictions/` (resumed if already there,
            inputs that failed there analysed again; parts of an older ferkit rewritten in today's columns first),
            annotated copies to `out/annotated/`. None streams JSON lines to `stream` instead: each image's (or
            video frame's) `ImageResult.to_dict()`, and `{"source", "error"}` for an input that failed.
        cfg: engine and table settings.
        stream: where the JSON lines go when `out` is None (default stdout).
        progress: a progress bar with rate and ETA on stderr (shown only when stderr is a terminal).

    Raises:
        ConfigError: `out` is being written by another run, or holds a table of another format or model.
    """
    sources = list(sources)
    in_process = cfg.engine == "local" and (_workers(cfg) == 1 or _single_image(sources))
    if in_process:
        set_default_threads(None)
    here = recognizer.build() if in_process else None  # the model is loaded once, here, not again for its version
    model = _model_version(recognizer, here)
    folder = ResultsFolder(out) if out is not None else None
    with folder.locked() if folder is not None else nullcontext():
        return _run_locked(sources, recognizer, here, model, folder, cfg, stream, progress)


def _run_locked(sources: list[str], recognizer: RecognizerConfig, here: Recognizer | None, model: ModelVersion,
                folder: ResultsFolder | None, cfg: BatchConfig, stream: TextIO | None,
                progress: bool) -> BatchSummary:
    summary = BatchSummary(table=folder.table if folder is not None else None)
    table = folder is not None  # else JSON lines: each image's ImageResult.to_dict()
    old_parts: list[Path] = []
    if folder is None:
        sink: _Sink = _StreamSink(stream or sys.stdout)
        done = DoneInputs()
        annotate_dir = None
    else:
        folder.check_table(cfg.format, model)
        upgrade_parts(folder.table, cfg.format, model.classes)  # parts of an older ferkit: today's columns first
        old_parts = parts(folder.table, cfg.format)
        done = DoneInputs.scan(folder.table, cfg.format)
        sink = _PartSink(PartWriter(folder.table, cfg.format, model.classes), cfg.part_rows)
        annotate_dir = folder.annotated if cfg.annotate else None
        if annotate_dir is not None:
            annotate_dir.mkdir(parents=True, exist_ok=True)
    bar = _progress_bar(sources, progress)
    todo = _pending(iter_inputs(sources), done, summary, bar)
    failed_before, retried = set(done.failed.tolist()), []
    try:
        if here is not None:
            rows_of = _in_process(todo, RecordMaker(here, model, annotate_dir, table), cfg)
        elif cfg.engine == "ray":
            rows_of = _ray_engine(todo, recognizer, model, annotate_dir, table, cfg)
        else:
            rows_of = _local_engine(todo, recognizer, model, annotate_dir, table, cfg)
        for items, rows in rows_of:
            sink.add(rows)
            _count(summary, items, rows)
            retried.extend(key for key in (input_key(item.path) for item in items) if key in failed_before)
            bar.update(len(items))
    finally:
        bar.close()
        sink.close()  # rows of finished tasks reach disk, also on Ctrl-C and SIGTERM
        drop_inputs(old_parts, cfg.format, retried)  # then the old rows of the failed inputs done again go
    summary.rows, summary.retried = sink.rows, len(retried)
    return summary


def _single_image(sources: list[str]) -> bool:
    """One image file, which one process analyses faster than a pool of them could start."""
    if len(sources) != 1 or glob.has_magic(sources[0]):
        return False
    path = Path(sources[0])
    return path.is_file() and path.suffix.lower() not in MANIFEST_SUFFIXES and kind_of(sources[0]) == "image"


def _model_version(recognizer: RecognizerConfig, built: Recognizer | None) -> ModelVersion:
    """Read once here, from the classifier alone (the workers build their own Recognizers)."""
    from ferkit.inference.classify import load_classifier

    classifier = built.classifier if built is not None else load_classifier(recognizer.model)
    return ModelVersion.of_file(recognizer.model, classifier.path, classifier.classes)


def _pending(items: Iterator[Input], done: DoneInputs, summary: BatchSummary, bar: Any) -> Iterator[Input]:
    """The inputs still to analyse: not done, and not named before in this run (by real path)."""
    seen: set[int] = set()  # keys of this run's inputs: 8-byte ints, not path strings
    for item in items:
        key = input_key(item.path)
        if item.path in done or key in seen:
            if key in seen:
                summary.repeated += 1
            else:
                summary.skipped += 1
            bar.update(1)
            continue
        seen.add(key)
        yield item


def _count(summary: BatchSummary, items: list[Input], rows: list[dict[str, Any]]) -> None:
    summary.analysed += len(items)
    failed = {row["source"]: row["error"] for row in rows if row.get("error") is not None}
    summary.failed += len(failed)
    summary.failures.extend(reason if reason.startswith(source) else f"{source}: {reason}"
                            for source, reason in list(failed.items())[:20])
    del summary.failures[20:]


# --- engines: each yields (the inputs of a finished task, their rows) ---------------------------------------


def _tasks(items: Iterator[Input], chunk: int) -> Iterator[list[Input]]:
    """Chunks of up to `chunk` images; every video is a task of its own."""
    images: list[Input] = []
    for item in items:
        if item.kind == "video":
            yield [item]
            continue
        images.append(item)
        if len(images) == chunk:
            yield images
            images = []
    if images:
        yield images


def _workers(cfg: BatchConfig) -> int:
    return cfg.workers or os.cpu_count() or 1


def _in_process(items: Iterator[Input], make_records: RecordMaker,
                cfg: BatchConfig) -> Iterator[tuple[list[Input], list]]:
    for task in _tasks(items, cfg.chunk):
        yield task, make_records(task)


def _local_engine(items: Iterator[Input], recognizer: RecognizerConfig, model: ModelVersion, annotate_dir: Path | None,
                  table: bool, cfg: BatchConfig) -> Iterator[tuple[list[Input], list[dict[str, Any]]]]:
    workers = _workers(cfg)
    threads = max(1, (os.cpu_count() or 1) // workers)
    # spawn, not fork: the parent may hold ONNX Runtime and OpenCV thread pools, which do not survive a fork.
    pool = ProcessPoolExecutor(workers, get_context("spawn"), worker.start,
                               (os.getpid(), recognizer, model, annotate_dir, table, threads))
    in_flight: dict[Future, list[Input]] = {}
    try:
        for task in _tasks(items, cfg.chunk):
            in_flight[pool.submit(worker.run_task, task)] = task
            if len(in_flight) >= 2 * workers:  # bounded: never more than two tasks per worker queued
                yield from _finished(in_flight, wait(in_flight, return_when=FIRST_COMPLETED).done)
        while in_flight:
            yield from _finished(in_flight, wait(in_flight, return_when=FIRST_COMPLETED).done)
    finally:  # interrupted or failed: queued tasks are dropped, not run (their inputs are not in the table)
        pool.shutdown(wait=True, cancel_futures=True)


def _finished(in_flight: dict[Future, list[Input]], done: set[Future]) -> Iterator[tuple[list[Input], list]]:
    for future in done:
        yield in_flight.pop(future), future.result()


def _ray_engine(items: Iterator[Input], recognizer: RecognizerConfig, model: ModelVersion, annotate_dir: Path | None,
                table: bool, cfg: BatchConfig) -> Iterator[tuple[list[Input], list[dict[str, Any]]]]:
    from ferkit.jobs.ray_engine import ray_tasks

    yield from ray_tasks(_tasks(items, cfg.chunk), recognizer, model, annotate_dir, table, cfg, _workers(cfg))


# --- sinks ----------------------------------------------------------------------------------------------------


class _Sink:
    rows = 0

    def add(self, rows: list[dict[str, Any]]) -> None: ...

    def close(self) -> None: ...


class _StreamSink(_Sink):
    """Records as JSON lines on a stream, as they come (no resume)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def add(self, rows: list[dict[str, Any]]) -> None:
        self.stream.writelines(json.dumps(row) + "\n" for row in rows)
        self.stream.flush()
        self.rows += len(rows)


class _PartSink(_Sink):
    """Rows buffered to `part_rows`, then written as one part; `close` writes what is left."""

    def __init__(self, writer: PartWriter, part_rows: int) -> None:
        self.writer = writer
        self.part_rows = part_rows
        self._buffer: list[dict[str, Any]] = []

    def add(self, rows: list[dict[str, Any]]) -> None:
        self._buffer.extend(rows)
        if len(self._buffer) >= self.part_rows:
            self.close()

    def close(self) -> None:
        self.writer.write(self._buffer)
        self.rows = self.writer.rows_written
        self._buffer = []


# --- progress ---------------------------------------------------------------------------------------------------


def _progress_bar(sources: list[str], enabled: bool) -> Any:
    """tqdm with rate and ETA; the total is counted in a background thread so the first rows do not wait for
    a walk over a million files. Silent when stderr is not a terminal."""
    from tqdm import tqdm

    bar = tqdm(unit="input", disable=not (enabled and sys.stderr.isatty()), dynamic_ncols=True)
    if not bar.disable:
        def set_total() -> None:
            bar.total = count_inputs(sources)
            bar.refresh()

        threading.Thread(target=set_total, daemon=True).start()
    return bar
