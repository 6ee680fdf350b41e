"""``OneTaskLoader`` against plain aiodataloader, side by side on one loop.

For any interleaving of ``load()`` calls over a few loop turns, both must form the same
batches, start them on the same turn, and settle every load the same way (values, an
``Exception`` value for one key, a failing batch, a wrong number of values); ours with one
task per batch where aiodataloader makes two.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import uvloop
from aiodataloader import DataLoader
from hypothesis import given, settings
from hypothesis import strategies as st

from resolvers.dispatch import OneTaskLoader
from tests.task_counting import counting_tasks

BAD_KEY = -1  # its value is an Exception: that key fails alone
BOOM_KEY = 13  # a batch holding it raises: every key of the batch fails, and is forgotten
SHORT_KEY = 17  # a batch holding it returns one value too few: a TypeError for the batch

LoopFactory = Callable[[], asyncio.AbstractEventLoop]
LOOPS: list[LoopFactory] = [asyncio.new_event_loop, uvloop.new_event_loop]

Load = tuple[int, int, int]  # (turn, loader, key)
Batch = tuple[int, int, tuple[int, ...]]  # (turn it started, loader, keys)


class Turns:
    """Counts loop turns: a callback that schedules itself runs once per turn."""

    def __init__(self) -> None:
        self.now = 0


async def _answer(turns: Turns, log: list[Batch], name: int, keys: list[int]) -> list[Any]:
    log.append((turns.now, name, tuple(keys)))
    # Batches that stay open for a few turns, so later loads meet running batches.
    for _ in range(len(keys) % 3):
        await asyncio.sleep(0)
    if BOOM_KEY in keys:
        raise RuntimeError(f"batch of {len(keys)} failed")
    values: list[Any] = [ValueError(f"no {k}") if k == BAD_KEY else k * 10 for k in keys]
    return values[:-1] if SHORT_KEY in keys else values


class Plain(DataLoader[int, Any]):
    def __init__(self, turns: Turns, log: list[Batch], name: int, **options: Any) -> None:
        super().__init__(**options)
        self.turns, self.log, self.name = turns, log, name

    async def batch_load_fn(self, keys: list[int]) -> list[Any]:
        return await _answer(self.turns, self.log, self.name, keys)


class Ours(OneTaskLoader[int, Any]):
    def __init__(self, turns: Turns, log: list[Batch], name: int, **options: Any) -> None:
        super().__init__(**options)
        self.turns, self.log, self.name = turns, log, name

    async def batch_load_fn(self, keys: list[int]) -> list[Any]:
        return await _answer(self.turns, self.log, self.name, keys)


def _outcome(result: object) -> tuple[str, str]:
    if isinstance(result, BaseException):
        return type(result).__name__, str(result)
    return "value", repr(result)


async def _drive(
    schedule: list[Load], max_batch_size: int | None, tasks: Counter[str]
) -> tuple[list[Batch], list[tuple[str, str]], list[Batch], list[tuple[str, str]]]:
    loop = asyncio.get_running_loop()

    loop.set_task_factory(counting_tasks(tasks))
    turns = Turns()
    plain_log: list[Batch] = []
    ours_log: list[Batch] = []
    plain = [Plain(turns, plain_log, n, max_batch_size=max_batch_size) for n in range(2)]
    ours = [Ours(turns, ours_log, n, max_batch_size=max_batch_size) for n in range(2)]
    plain_futures: list[asyncio.Future[Any]] = []
    ours_futures: list[asyncio.Future[Any]] = []
    # Turns are counted until every batch has started (three turns after its first load).
    last = max((turn for turn, _, _ in schedule), default=0) + 8
    walked = loop.create_future()

    def tick() -> None:
        for turn, which, key in schedule:
            if turn == turns.now:
                plain_futures.append(plain[which].load(key))
                ours_futures.append(ours[which].load(key))
        turns.now += 1
        if turns.now <= last:
            loop.call_soon(tick)
        else:
            walked.set_result(None)

    loop.call_soon(tick)
    await walked
    plain_out = await asyncio.gather(*plain_futures, return_exceptions=True)
    ours_out = await asyncio.gather(*ours_futures, return_exceptions=True)
    loop.set_task_factory(None)
    return (
        plain_log,
        [_outcome(r) for r in plain_out],
        ours_log,
        [_outcome(r) for r in ours_out],
    )


def _run(factory: LoopFactory, coro: Coroutine[Any, Any, Any]) -> Any:
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(coro)


loads = st.lists(
    st.tuples(
        st.integers(0, 6),
        st.integers(0, 1),
        st.sampled_from([BAD_KEY, 0, 1, 2, 3, 4, 5, 6, BOOM_KEY, SHORT_KEY]),
    ),
    max_size=25,
)
PLAIN_DISPATCH = "enqueue_post_future_job.<locals>.dispatch"


@pytest.mark.parametrize("factory", LOOPS, ids=["asyncio", "uvloop"])
@settings(max_examples=150, deadline=None)
@given(schedule=loads, max_batch_size=st.one_of(st.none(), st.integers(1, 4)))
def test_same_batches_on_the_same_turns_as_aiodataloader(
    factory: LoopFactory, schedule: list[Load], max_batch_size: int | None
) -> None:
    tasks: Counter[str] = Counter()
    plain_log, plain_out, ours_log, ours_out = _run(
        factory, _drive(schedule, max_batch_size, tasks)
    )
    assert ours_log == plain_log
    assert ours_out == plain_out
    # One task per batch, and nothing else; aiodataloader adds one per queue taken.
    assert tasks["_run"] == len(ours_log) == tasks["dispatch_queue_batch"]
    assert (tasks[PLAIN_DISPATCH] > 0) is bool(plain_log)
    assert set(tasks) <= {"_run", "dispatch_queue_batch", PLAIN_DISPATCH}


@pytest.mark.parametrize("factory", LOOPS, ids=["asyncio", "uvloop"])
def test_failures_settle_as_aiodataloader_settles_them(factory: LoopFactory) -> None:
    # Turn 0: a batch with a bad key and a failing one; turn 5: the same keys again (the
    # failed batch's keys were forgotten, the bad key's failure was kept); turn 9: a batch
    # with one value too few; max_batch_size 2 splits turn 0's four keys into two batches.
    schedule: list[Load] = [(0, 0, 1), (0, 0, BAD_KEY), (0, 0, BOOM_KEY), (0, 0, 2)]
    schedule += [(5, 0, 1), (5, 0, BAD_KEY), (5, 0, BOOM_KEY), (5, 0, 2)]
    schedule += [(9, 1, 3), (9, 1, SHORT_KEY)]
    tasks: Counter[str] = Counter()
    plain_log, plain_out, ours_log, ours_out = _run(factory, _drive(schedule, 2, tasks))
    assert (
        ours_log
        == plain_log
        == [
            (3, 0, (1, BAD_KEY)),
            (3, 0, (BOOM_KEY, 2)),
            (8, 0, (BOOM_KEY, 2)),
            (12, 1, (3, SHORT_KEY)),
        ]
    )
    assert ours_out == plain_out
    assert ours_out[:4] == [
        ("value", "10"),
        ("ValueError", f"no {BAD_KEY}"),
        ("RuntimeError", "batch of 2 failed"),
        ("RuntimeError", "batch of 2 failed"),
    ]
    assert ours_out[4:6] == ours_out[:2]  # kept: the value and the bad key's own failure
    assert [kind for kind, _ in ours_out[8:]] == ["TypeError", "TypeError"]
    assert tasks["_run"] == tasks["dispatch_queue_batch"] == 4
    assert tasks[PLAIN_DISPATCH] == 3  # one per queue taken


def test_a_loader_without_batching_dispatches_each_load_at_once() -> None:
    async def walk() -> tuple[list[Batch], list[Batch]]:
        turns = Turns()
        plain_log: list[Batch] = []
        ours_log: list[Batch] = []
        plain = Plain(turns, plain_log, 0, batch=False)
        ours = Ours(turns, ours_log, 0, batch=False)
        got = await asyncio.gather(plain.load(1), ours.load(1), plain.load(2), ours.load(2))
        assert list(got) == [10, 10, 20, 20]
        return plain_log, ours_log

    plain_log, ours_log = _run(asyncio.new_event_loop, walk())
    assert ours_log == plain_log == [(0, 0, (1,)), (0, 0, (2,))]
