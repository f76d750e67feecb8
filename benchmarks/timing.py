"""How fast a call runs, measured the same way by every benchmark script: repeated calls after a warm-up, and
the median of their durations (the median, not the mean, because other jobs on the machine add long outliers)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

from ferkit.inference.classify import Classifier


def timed(fn: Callable[[], object], min_time_s: float = 2.0, min_runs: int = 10) -> list[float]:
    """Durations of repeated calls of `fn` (after two warm-up calls), until both minimums are met."""
    fn(), fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - start < min_time_s:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def classifier_rate(classifier: Classifier, batch: int, min_time_s: float = 2.0,
                    min_runs: int = 10) -> tuple[float, int]:
    """(median ms per call, faces/s) of `classifier.predict` on `batch` random uint8 faces of its input size."""
    size = classifier.preprocess.input_size
    faces = np.random.default_rng(0).integers(0, 256, (batch, size, size), dtype=np.uint8)
    median = statistics.median(timed(lambda: classifier.predict(faces), min_time_s, min_runs))
    return round(median * 1e3, 3), round(batch / median)
