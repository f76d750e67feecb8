"""Inference off the event loop: a fixed set of worker threads and a hard cap on the requests admitted.

A request takes a `Place` before its upload is read and keeps it until its job has run, so at most
`workers + queue_size` uploads are ever held in memory (being read, waiting or being recognised). One
more request is refused at once with `PoolBusy`, which the API turns into 503 + Retry-After. A place is
given back only when a worker has finished or skipped its job, so a request that timed out while its
job still runs keeps counting for the worker it really occupies.

Each worker owns its recognizers, so no recognizer (detector state, runtime sessions) is ever shared
between threads. The default one is built at `start()`, which is where a missing model fails the service.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from ferkit.inference import Recognizer
from ferkit.inference.config import RecognizerConfig

log = logging.getLogger(__name__)

T = TypeVar("T")
# Builds a recognizer from its settings: `RecognizerConfig.build` in the service, a stub in tests.
RecognizerFactory = Callable[[RecognizerConfig], Recognizer]
# Per-request settings a worker keeps built, beyond its default recognizer (least recently used go first).
MAX_VARIANTS_PER_WORKER = 4


class PoolBusy(Exception):
    """Every worker is busy and the waiting room is full."""


class WorkerRecognizers:
    """The recognizers of one worker thread: the default one, and a few per-request variants built on demand
    (a request's settings are the server's `RecognizerConfig` with its query options replaced)."""

    def __init__(self, factory: RecognizerFactory, default: RecognizerConfig, recognizer: Recognizer) -> None:
        self._factory = factory
        self._default = default
        self._recognizer = recognizer
        self._variants: OrderedDict[RecognizerConfig, Recognizer] = OrderedDict()

    def get(self, config: RecognizerConfig) -> Recognizer:
        if config == self._default:
            return self._recognizer
        if config in self._variants:
            self._variants.move_to_end(config)
        else:
            log.info("building a recognizer variant %s", config)
            self._variants[config] = self._factory(config)
            if len(self._variants) > MAX_VARIANTS_PER_WORKER:
                self._variants.popitem(last=False)
        return self._variants[config]


Job = Callable[[WorkerRecognizers], T]


class InferencePool:
    """Runs jobs `job(recognizers) -> result` on `workers` threads, for requests holding a `Place`.

    See the module docstring for the bounds.
    """

    def __init__(self, factory: RecognizerFactory, default: RecognizerConfig, workers: int, queue_size: int):
        self._factory = factory
        self.default = default
        self.workers = workers
        self.capacity = workers + queue_size
        self._queue: queue.SimpleQueue[tuple[Job, concurrent.futures.Future] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._admitted = 0
        self.classes: list[str] = []
        self.model_info: dict[str, Any] = {}

    def start(self) -> None:
        """Build one default recognizer per worker (raising if the model cannot load) and start the threads."""
        recognizers = [self._factory(self.default) for _ in range(self.workers)]
        self.classes = list(recognizers[0].classes)
        self.model_info = dict(recognizers[0].model_info())
        for index, recognizer in enumerate(recognizers):
            own = WorkerRecognizers(self._factory, self.default, recognizer)
            thread = threading.Thread(target=self._work, args=(own,), name=f"ferkit-infer-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("inference pool ready: %d workers, %d waiting places", self.workers, self.capacity - self.workers)

    def stop(self) -> None:
        """Finish the admitted jobs, then end the threads."""
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    @property
    def ready(self) -> bool:
        return bool(self._threads) and all(t.is_alive() for t in self._threads)

    @property
    def admitted(self) -> int:
        """Requests holding a place right now."""
        return self._admitted

    def place(self) -> Place:
        """Reserve room for one request: `with pool.place() as place: ... await place.run(job, timeout_s)`.

        Raises:
            PoolBusy: every place is taken.
        """
        with self._lock:
            if self._admitted >= self.capacity:
                raise PoolBusy
            self._admitted += 1
        return Place(self._submit, self._release)

    def _submit(self, job: Job) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._queue.put((job, future))
        return future

    def _work(self, recognizers: WorkerRecognizers) -> None:
        # The slot is released before the caller hears back, so that a client sending one request after
        # another never finds its own finished request still counted.
        while (item := self._queue.get()) is not None:
            job, future = item
            if not future.set_running_or_notify_cancel():  # the caller gave up while it waited
                self._release()
                continue
            try:
                result = job(recognizers)
            except BaseException as exc:  # handed to the awaiting request, which decides what to say
                self._release()
                future.set_exception(exc)
            else:
                self._release()
                future.set_result(result)

    def _release(self) -> None:
        with self._lock:
            self._admitted -= 1


class Place:
    """One request's room in the pool; runs at most one job. Leaving the `with` block without running a
    job gives the place back; once a job is submitted, the worker gives it back when the job ends."""

    def __init__(self, submit: Callable[[Job], concurrent.futures.Future], release: Callable[[], None]) -> None:
        self._submit = submit
        self._release = release
        self._submitted = False

    def __enter__(self) -> Place:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self._submitted:
            self._release()

    async def run(self, job: Job[T], timeout_s: float) -> T:
        """Run `job` on a worker and return its result (or raise its exception).

        Raises:
            asyncio.TimeoutError: no result within `timeout_s`; the job is skipped if it has not started yet.
        """
        if self._submitted:
            raise RuntimeError("a Place runs one job")
        self._submitted = True
        return await asyncio.wait_for(asyncio.wrap_future(self._submit(job)), timeout_s)
