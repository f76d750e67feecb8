"""Deprecated alias of `ferkit.jobs`, kept so that `from ferkit.batch import BatchConfig, BatchSummary, run` still
works: the package was renamed because `batch` also names `Recognizer.analyze_batch` and `/v1/predict/batch`.
Only the package's public names are kept; its modules live on under `ferkit.jobs` alone."""

import warnings

from ferkit.jobs import BatchConfig, BatchSummary, run

warnings.warn("ferkit.batch is deprecated: import ferkit.jobs instead", DeprecationWarning, stacklevel=2)

__all__ = ["BatchConfig", "BatchSummary", "run"]
