"""``first_step``: a coroutine's first step, C (``_speedups.first_step``) and Python
(``loop.py_first_step``) twins; and the eager start built on it."""

from __future__ import annotations

import asyncio
import types

import pytest

from kitura.net import loop as loop_module
from kitura.net.loop import STEP_DONE, py_first_step, start_coroutine

C_FIRST_STEP = loop_module.first_step if loop_module.first_step is not py_first_step else None
TWINS = [pytest.param(py_first_step, id="py"),
         pytest.param(C_FIRST_STEP, id="c", marks=pytest.mark.skipif(C_FIRST_STEP is None,
                                                                     reason="kitura.net._speedups not built"))]


@types.coroutine
def bare_yield(value):
    return (yield value)


@pytest.mark.parametrize("first_step", TWINS)
def test_a_coroutine_that_returns_at_once_is_done_in_its_first_step(first_step):
    seen = []

    async def handler():
        seen.append("ran")
        return "its result is not needed"

    assert first_step(handler()) is STEP_DONE
    assert seen == ["ran"]


@pytest.mark.parametrize("first_step", TWINS)
def test_what_a_suspending_coroutine_yields_comes_back_and_it_can_go_on(first_step):
    async def handler():
        got = await bare_yield("first")
        await bare_yield(None)  # what asyncio.sleep(0) yields
        return got

    coro = handler()
    assert first_step(coro) == "first"
    assert coro.send("answer") is None
    with pytest.raises(StopIteration) as stop:
        coro.send(None)
    assert stop.value.value == "answer"


@pytest.mark.parametrize("first_step", TWINS)
def test_what_the_coroutine_raises_comes_through(first_step):
    async def handler():
        raise KeyError("missing")

    async def stops():
        raise StopIteration  # PEP 479: a RuntimeError

    with pytest.raises(KeyError):
        first_step(handler())
    with pytest.raises(RuntimeError):
        first_step(stops())
    with pytest.raises((TypeError, AttributeError)):
        first_step(42)


def test_start_coroutine_reports_errors_and_drives_a_suspended_one_to_the_end():
    errors, steps = [], []

    async def fails():
        raise ValueError("boom")

    async def suspends():
        steps.append(1)
        await asyncio.sleep(0)
        steps.append(2)

    async def main():
        assert start_coroutine(fails(), errors.append) is None
        task = start_coroutine(suspends(), errors.append)
        assert steps == [1] and task is not None
        await asyncio.wait_for(task, 5)

    asyncio.run(main())
    assert [type(e) for e in errors] == [ValueError] and steps == [1, 2]
