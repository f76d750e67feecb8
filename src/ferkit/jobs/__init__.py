"""Bulk jobs, the engine behind `ferkit predict`: a collection of photos and videos in, one results table (or JSON
lines) out (`run`), resumable, on all local cores or on a Ray cluster. Not to be confused with
`Recognizer.analyze_batch` or the service's `/v1/predict/batch`, which analyse the few images of one call. Sits
above `inference` (it runs Recognizers) and below the apps."""

from ferkit.jobs.run import BatchConfig, BatchSummary, run

__all__ = ["BatchConfig", "BatchSummary", "run"]
