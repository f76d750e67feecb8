"""InferencePool: bounded admission, per-worker recognizers, timeouts that free their place only when done."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace

import pytest

from ferkit.apps.service.pool import MAX_VARIANTS_PER_WORKER, InferencePool, PoolBusy
from ferkit.inference.config import RecognizerConfig

DEFAULT = RecognizerConfig(detector="auto", score_threshold=0.7, align=True)


class Built:
    """A recognizer factory that records what it built (and on which options)."""

    def __init__(self) -> None:
        self.options: list[dict] = []

    def __call__(self, config: RecognizerConfig):
        options = {"detector": config.detector, "score_threshold": config.score_threshold, "align": config.align}
        self.options.append(options)
        return _Recognizer(options)


class _Recognizer:
    classes = ("a", "b")

    def __init__(self, options: dict) -> None:
        self.options = options

    def model_info(self) -> dict:
        return {"name": "fake"}


async def run(pool: InferencePool, job, timeout_s: float = 5.0):
    with pool.place() as place:
        return await place.run(job, timeout_s)


@pytest.fixture
def pool():
    pools: list[InferencePool] = []

    def make(workers: int = 1, queue_size: int = 0, factory=None) -> InferencePool:
        p = InferencePool(factory or Built(), DEFAULT, workers=workers, queue_size=queue_size)
        p.start()
        pools.append(p)
        return p

    yield make
    for p in pools:
        p.stop()


def test_start_builds_one_default_recognizer_per_worker(pool):
    factory = Built()
    p = pool(workers=3, factory=factory)
    assert factory.options == [{"detector": "auto", "score_threshold": 0.7, "align": True}] * 3
    assert p.ready and p.classes == ["a", "b"] and p.model_info == {"name": "fake"}


def test_start_fails_when_the_model_cannot_load():
    def broken(config):
        raise FileNotFoundError("no model")

    p = InferencePool(broken, DEFAULT, workers=1, queue_size=0)
    with pytest.raises(FileNotFoundError):
        p.start()
    assert not p.ready


def test_jobs_run_on_worker_threads_with_their_own_recognizer(pool):
    p = pool(workers=2, queue_size=2)
    both_running = threading.Barrier(2, timeout=5)  # each job waits for the other: two workers at once

    def job(rec):
        both_running.wait()
        return threading.current_thread().name, id(rec.get(DEFAULT))

    async def run_two():
        return await asyncio.gather(run(p, job), run(p, job))

    (name_a, rec_a), (name_b, rec_b) = asyncio.run(run_two())
    assert name_a.startswith("ferkit-infer-") and name_b.startswith("ferkit-infer-") and name_a != name_b
    assert rec_a != rec_b


def test_variants_are_cached_per_options_and_bounded(pool):
    factory = Built()
    p = pool(factory=factory)

    async def get(threshold: float):
        options = replace(DEFAULT, detector="haar", score_threshold=threshold, align=False)
        return await run(p, lambda rec: rec.get(options).options["score_threshold"])

    for threshold in (0.1, 0.1, 0.2):
        assert asyncio.run(get(threshold)) == threshold
    assert len(factory.options) == 1 + 2  # default + two distinct variants, the repeat was cached
    for i in range(MAX_VARIANTS_PER_WORKER + 1):
        asyncio.run(get(0.3 + i / 100))
    before = len(factory.options)
    asyncio.run(get(0.1))  # evicted by the newer variants: built again
    assert len(factory.options) == before + 1


def test_job_exceptions_reach_the_caller_and_free_the_slot(pool):
    p = pool()

    def fail(rec):
        raise ValueError("bad image")

    with pytest.raises(ValueError, match="bad image"):
        asyncio.run(run(p, fail))
    assert p.admitted == 0


def test_admission_is_bounded_by_workers_plus_queue(pool):
    p = pool(workers=1, queue_size=1)
    gate = threading.Event()

    async def scenario():
        held = [asyncio.ensure_future(run(p, lambda rec: gate.wait(5))) for _ in range(2)]
        await asyncio.sleep(0.05)
        assert p.admitted == 2
        with pytest.raises(PoolBusy):
            p.place()
        gate.set()
        return await asyncio.gather(*held)

    assert asyncio.run(scenario()) == [True, True]
    assert p.admitted == 0


def test_a_place_left_without_a_job_is_given_back(pool):
    p = pool(workers=1, queue_size=0)
    with pytest.raises(ValueError), p.place():
        raise ValueError("the upload was bad")  # e.g. 413 while reading the body
    assert p.admitted == 0
    with p.place() as place:
        assert asyncio.run(place.run(lambda rec: "ok", 5)) == "ok"
        with pytest.raises(RuntimeError, match="one job"):
            asyncio.run(place.run(lambda rec: "again", 5))
    assert p.admitted == 0


def test_timeout_drops_a_waiting_job_and_keeps_counting_until_workers_are_done(pool):
    p = pool(workers=1, queue_size=1)
    gate = threading.Event()
    ran: list[str] = []

    async def scenario():
        running = asyncio.ensure_future(run(p, lambda rec: (gate.wait(5), ran.append("running")), 0.2))
        await asyncio.sleep(0.05)
        with pytest.raises(asyncio.TimeoutError):
            await run(p, lambda rec: ran.append("waiting"), 0.1)
        with pytest.raises(asyncio.TimeoutError):
            await running
        # Both still count: the running job occupies its worker, the dropped one its place until a worker skips it.
        assert p.admitted == 2
        gate.set()

    asyncio.run(scenario())
    p.stop()
    assert ran == ["running"]  # the timed-out waiting job never ran
    assert p.admitted == 0


def test_back_to_back_jobs_at_capacity_one_are_never_refused(pool):
    p = pool(workers=1, queue_size=0)

    async def one_after_another():
        return [await run(p, lambda rec, i=i: i) for i in range(300)]

    assert asyncio.run(one_after_another()) == list(range(300))
