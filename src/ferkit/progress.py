"""`Progress`: a log line every few seconds for a long loop over faces, so no wait of minutes is silent.

A log line rather than a bar: it reaches a redirected log file and the console alike, as training's lines do.
"""

from __future__ import annotations

import logging
import time

EVERY_S = 5.0  # seconds between lines: a wait of a few seconds stays quiet, a longer one is never silent


class Progress:
    """Logs `"<what>: done/total faces (rate faces/s)"` at most every `every_s` seconds, and once at the end.

    Example:
        >>> progress = Progress(log, "scoring small", len(images))
        >>> for start in range(0, len(images), 256):
        ...     progress.add(len(images[start:start + 256]))
    """

    def __init__(self, log: logging.Logger, what: str, total: int, every_s: float = EVERY_S) -> None:
        self.log, self.what, self.total, self.every_s = log, what, total, every_s
        self.done = 0
        self.start = self.last = time.perf_counter()

    def add(self, count: int) -> None:
        self.done += count
        now = time.perf_counter()
        if self.done >= self.total and self.last == self.start and now - self.start < self.every_s:
            return  # finished before the first line was due: nothing was slow enough to report
        if now - self.last >= self.every_s or self.done >= self.total:
            self.last = now
            self.log.info("%s: %d/%d faces (%.0f faces/s)", self.what, self.done, self.total,
                          self.done / max(now - self.start, 1e-9))
