"""Asyncio tasks of a cold look-up: one per DataLoader batch, none of aiodataloader's two.

A task factory on the test's loop (where the gateway runs) counts every task made while the
gateway answers one cold profile; the batches are counted apart, where they are run.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from aiodataloader import dispatch_queue_batch

import resolvers.dispatch
from mocks.records import CaseRecord
from resolvers.loaders import FactLoader
from tests.harness import PROFILE, PROFILE_VARIABLES, StackFactory
from tests.task_counting import counting_tasks

AIODATALOADER_TASKS = ("enqueue_post_future_job.<locals>.dispatch", "dispatch_queue_batch")


async def test_a_cold_look_up_makes_one_task_per_loader_batch(
    make_stack: StackFactory, cases: list[CaseRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    gw = await make_stack(cases, cache={"enabled": False})
    batches: list[tuple[str, int]] = []

    async def counted(loader: Any, queue: list[Any]) -> None:
        batches.append((type(loader).__name__, len(queue)))
        await dispatch_queue_batch(loader, queue)

    monkeypatch.setattr(resolvers.dispatch, "dispatch_queue_batch", counted)
    agency_batches: list[int] = []
    batch_load_fn = FactLoader.batch_load_fn

    async def sent(loader: FactLoader, keys: list[str]) -> Any:
        agency_batches.append(len(keys))
        return await batch_load_fn(loader, keys)

    monkeypatch.setattr(FactLoader, "batch_load_fn", sent)
    tasks: Counter[str] = Counter()

    loop = asyncio.get_running_loop()
    loop.set_task_factory(counting_tasks(tasks))
    try:
        data = await gw.graphql(PROFILE, PROFILE_VARIABLES)
    finally:
        loop.set_task_factory(None)
    assert data["debtor"]["identity"]
    # The cold profile: eight batches of agencies' facts and one of the store's restrictions,
    # each a task of its own (aiodataloader made 18 tasks for them). The first hop's seven
    # are started ahead (``load_ahead``), the spouse's identity when the marriage is in.
    assert len(agency_batches) == 8
    assert sorted(name for name, _ in batches) == ["FactLoader"] * 8 + ["StoreLoader"]
    assert tasks["_run"] == len(batches) == 9
    assert sum(tasks[name] for name in AIODATALOADER_TASKS) == 0
