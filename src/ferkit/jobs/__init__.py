"""Batch inference: a collection of photos and videos in, one results table out (`run`), resumable, on all
local cores or on a Ray cluster. Sits above `inference` (it runs Recognizers) and below the apps."""

from ferkit.jobs.run import BatchConfig, BatchSummary, run

__all__ = ["BatchConfig", "BatchSummary", "run"]
