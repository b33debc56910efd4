"""WorkerPool: jobs run, blocking jobs do not hold the others back, the Executor API works."""

from __future__ import annotations

import threading
import time

from kitura.net.workers import WorkerPool


def test_jobs_run_in_order_on_one_busy_thread():
    pool = WorkerPool(max_workers=4, spawn_delay=10.0)
    seen, done = [], threading.Event()
    for i in range(100):
        pool.dispatch(seen.append, i)
    pool.dispatch(done.set)
    assert done.wait(5)
    assert seen == list(range(100))
    pool.shutdown()


def test_a_blocking_job_gets_a_second_thread_started():
    pool = WorkerPool(max_workers=4, spawn_delay=0.01)
    release, second = threading.Event(), threading.Event()
    pool.dispatch(release.wait, 10)
    start = time.monotonic()
    pool.dispatch(second.set)
    assert second.wait(5)
    assert time.monotonic() - start < 2
    release.set()
    pool.shutdown()


def test_max_workers_bounds_threads_and_the_backlog_drains():
    pool = WorkerPool(max_workers=2, spawn_delay=0.001)
    release = threading.Event()
    count, lock, all_done = [0], threading.Lock(), threading.Event()

    def job():
        release.wait(5)
        with lock:
            count[0] += 1
            if count[0] == 10:
                all_done.set()

    for _ in range(10):
        pool.dispatch(job)
    time.sleep(0.1)
    assert pool._threads <= 2
    release.set()
    assert all_done.wait(5)
    pool.shutdown()


def test_submit_returns_futures_with_results_and_errors():
    pool = WorkerPool(max_workers=2)
    assert pool.submit(lambda a, b: a + b, 2, 3).result(5) == 5
    failing = pool.submit(lambda: 1 / 0)
    try:
        failing.result(5)
    except ZeroDivisionError:
        pass
    else:
        raise AssertionError("the error was not handed to the future")
    pool.shutdown()


def test_a_failing_job_does_not_kill_its_thread(caplog):
    pool = WorkerPool(max_workers=1)
    done = threading.Event()
    pool.dispatch(lambda: 1 / 0)
    pool.dispatch(done.set)
    assert done.wait(5)
    pool.shutdown()


def _on_loop(fn):
    """Run fn(loop) on a fresh event loop thread, one turn, and return."""
    import asyncio

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(_call(fn, loop))
    finally:
        loop.close()


async def _call(fn, loop):
    fn(loop)


def test_dispatch_soon_wakes_one_worker_a_loop_turn_for_all_its_jobs():
    pool = WorkerPool(max_workers=4, spawn_delay=10.0)
    seen, done = [], threading.Event()

    def queue_all(loop):
        for i in range(50):
            pool.dispatch_soon(loop, seen.append, (i, threading.get_ident()))
        pool.dispatch_soon(loop, done.set)
        assert seen == []  # nothing runs before the loop's next turn

    _on_loop(queue_all)
    assert done.wait(5)
    assert [i for i, _ in seen] == list(range(50))
    assert len({t for _, t in seen}) == 1  # one thread ran the turn's jobs, in order
    assert pool._threads == 1
    pool.shutdown()


def test_dispatch_soon_with_a_blocking_job_wakes_an_idle_worker_for_the_rest():
    pool = WorkerPool(max_workers=4, spawn_delay=0.01)
    # Two idle workers first.
    release, both = threading.Event(), threading.Barrier(2, timeout=5)
    pool.dispatch(both.wait)
    pool.dispatch(both.wait)
    deadline = time.monotonic() + 5
    while len(pool._idle) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(pool._idle) == 2
    second = threading.Event()

    def queue(loop):
        pool.dispatch_soon(loop, release.wait, 10)
        pool.dispatch_soon(loop, second.set)

    start = time.monotonic()
    _on_loop(queue)
    assert second.wait(5)  # the monitor handed it to the other idle worker
    assert time.monotonic() - start < 2
    assert pool._threads == 2  # no new thread: an idle one was used
    release.set()
    pool.shutdown()


def test_dispatch_soon_after_shutdown_raises():
    pool = WorkerPool(max_workers=1)
    pool.shutdown()
    errors = []

    def queue(loop):
        try:
            pool.dispatch_soon(loop, print)
        except RuntimeError as exc:
            errors.append(exc)

    _on_loop(queue)
    assert errors and "shut down" in str(errors[0])


def test_a_loop_closed_with_its_kick_pending_holds_back_no_other_loop():
    import asyncio

    pool = WorkerPool(max_workers=2, spawn_delay=10.0)
    lost = asyncio.new_event_loop()
    seen = []
    pool.dispatch_soon(lost, seen.append, 1)  # its kick is scheduled on a loop that never runs it
    lost.close()
    done = threading.Event()
    _on_loop(lambda loop: pool.dispatch_soon(loop, done.set))
    assert done.wait(5)
    assert seen == [1]  # the other loop's kick woke a worker for the whole queue
    pool.shutdown()
