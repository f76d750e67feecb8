"""The Ray engine: the job's tasks as a Ray Data pipeline, `map_batches` over an actor pool of `RecordMaker`s.

Each actor builds its Recognizer once. Rows travel back as JSON strings (exact floats, and None stays None
where pandas or NumPy columns would turn it into NaN), and the driver writes them with the same part writer
as the local engine, so the two engines give the same table and the same resume.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ferkit.errors import ConfigError
from ferkit.inference.config import RecognizerConfig
from ferkit.jobs.inputs import Input
from ferkit.jobs.records import RecordMaker
from ferkit.jobs.table import ModelVersion

# Tasks handed to Ray per dataset (4,096 tasks of 16 images: 65,536 photos): bounds the driver's memory for any
# number of inputs, while each dataset's start-up (an actor pool, each actor loading its Recognizer: seconds)
# is spread over minutes of work.
WINDOW = 4096


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise ConfigError("--engine ray needs Ray: pip install 'ferkit[ray]'") from exc
    return ray


class _RayRecordMaker:
    """The callable class of `map_batches`: one Recognizer per actor."""

    def __init__(self, recognizer: RecognizerConfig, model: ModelVersion, annotate_dir: Path | None, table: bool,
                 gpu: bool) -> None:
        from ferkit.inference.runtime import set_default_threads, use_gpu

        set_default_threads(1)  # one core per actor (num_cpus=1): the actor pool uses the cores
        use_gpu(gpu)  # an actor given a GPU share classifies (and detects) on it, with onnxruntime-gpu
        self.make_records = RecordMaker(recognizer.build(), model, annotate_dir, table)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = []
        for task in batch["task"]:
            items = [Input(**item) for item in json.loads(task)]
            out.append(json.dumps(self.make_records(items)))
        return {"task": batch["task"], "rows": np.array(out, dtype=object)}


def ray_tasks(tasks: Iterator[list[Input]], recognizer: RecognizerConfig, model: ModelVersion,
              annotate_dir: Path | None, table: bool, cfg: Any,
              actors: int) -> Iterator[tuple[list[Input], list[dict[str, Any]]]]:
    """Run `tasks` on Ray, `WINDOW` at a time; yields each task's inputs with its rows."""
    ray = _ray()
    if not ray.is_initialized():
        ray.init(address=cfg.address, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING,
                 **({} if cfg.address else {"num_cpus": actors}))
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # ferkit's own bar counts inputs
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    window: list[str] = []
    for task in tasks:
        window.append(json.dumps([item.__dict__ for item in task]))
        if len(window) == WINDOW:
            yield from _run_window(ray, window, recognizer, model, annotate_dir, table, cfg, actors)
            window = []
    if window:
        yield from _run_window(ray, window, recognizer, model, annotate_dir, table, cfg, actors)


def _run_window(ray: Any, window: list[str], recognizer: RecognizerConfig, model: ModelVersion,
                annotate_dir: Path | None, table: bool, cfg: Any,
                actors: int) -> Iterator[tuple[list[Input], list[dict]]]:
    dataset = ray.data.from_items([{"task": task} for task in window]).map_batches(
        _RayRecordMaker, fn_constructor_args=(recognizer, model, annotate_dir, table, cfg.gpus_per_actor > 0),
        batch_size=1, batch_format="numpy",
        concurrency=min(actors, len(window)), num_cpus=1,
        **({"num_gpus": cfg.gpus_per_actor} if cfg.gpus_per_actor else {}))
    for batch in dataset.iter_batches(batch_size=1, batch_format="numpy"):
        for task, rows in zip(batch["task"], batch["rows"], strict=True):
            yield [Input(**item) for item in json.loads(task)], json.loads(rows)
