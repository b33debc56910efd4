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
