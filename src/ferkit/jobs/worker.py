"""A worker process of the local engine: its Recognizer, and its tie to the process that started it.

A worker dies with its parent, however the parent ends: on Linux the kernel sends it SIGKILL when the parent
dies (`PR_SET_PDEATHSIG`), and everywhere a watchdog thread ends it once its parent is gone (its parent id
changes), so that a killed `ferkit predict` never leaves workers of about 575 MB each behind. Ctrl-C in a
terminal reaches the whole process group: workers ignore it and the parent decides (it stops the pool).

A worker whose Recognizer cannot be built (a missing `--yunet-path`, say) does not fail in the pool's
initializer, which would break the pool with a traceback on stderr: it keeps the error and raises it for its
first task, so the run ends with that error's own one-line message.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ferkit.inference.config import RecognizerConfig
from ferkit.inference.runtime import set_default_threads
from ferkit.jobs.inputs import Input
from ferkit.jobs.records import RecordMaker
from ferkit.jobs.table import ModelVersion

PR_SET_PDEATHSIG = 1  # linux/prctl.h
WATCHDOG_S = 1.0  # how often the watchdog looks for the parent: an orphan lives at most this long

_make_records: RecordMaker | None = None  # one per worker process
_setup_error: BaseException | None = None


def start(parent: int, recognizer: RecognizerConfig, model: ModelVersion, annotate_dir: Path | None, table: bool,
          threads: int) -> None:
    """The pool's initializer: tie this process to `parent` (the pid of the run), then build its RecordMaker."""
    global _make_records, _setup_error
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with(parent)
    try:
        set_default_threads(threads)
        _make_records = RecordMaker(recognizer.build(), model, annotate_dir, table)
    except Exception as exc:  # raised again by run_task, in the parent, as itself
        _setup_error = exc


def run_task(task: list[Input]) -> list[dict[str, Any]]:
    if _setup_error is not None:
        raise _setup_error
    assert _make_records is not None, "worker not initialised"
    return _make_records(task)


def _die_with(parent: int) -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), daemon=True, name="ferkit-parent-watchdog").start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCHDOG_S)
    os._exit(1)
