"""``load_ahead``: a batch started before its keys are loaded, found by the loads that follow."""

from __future__ import annotations

import asyncio

import pytest

from resolvers.dispatch import OneTaskLoader


class Counting(OneTaskLoader[str, str | Exception]):
    def __init__(self, **options: bool) -> None:
        super().__init__(**options)
        self.batches: list[list[str]] = []

    async def batch_load_fn(self, keys: list[str]) -> list[str | Exception]:
        self.batches.append(list(keys))
        await asyncio.sleep(0)
        return [ValueError(k) if k.startswith("bad") else k.upper() for k in keys]


async def test_loads_after_a_load_ahead_wait_for_its_batch() -> None:
    loader = Counting()
    loader.load_ahead(["a", "b", "a"])
    assert await loader.load("a") == "A"
    assert await loader.load("b") == "B"
    assert loader.batches == [["a", "b"]]


async def test_a_failed_key_fails_its_load_and_leaves_no_unretrieved_exception() -> None:
    loader = Counting()
    loader.load_ahead(["bad-1", "ok"])
    with pytest.raises(ValueError, match="bad-1"):
        await loader.load("bad-1")
    assert await loader.load("ok") == "OK"
    loader.load_ahead(["bad-2"])  # nobody ever loads it
    await asyncio.gather(*loader._running)
    future = loader._cache["bad-2"]
    assert future.done() and not future._log_traceback  # retrieved: nothing logged at collection


async def test_without_the_memo_nothing_is_started_ahead() -> None:
    loader = Counting(cache=False)
    loader.load_ahead(["a"])
    assert await loader.load("a") == "A"
    assert loader.batches == [["a"]]


async def test_it_returns_each_keys_future_once_even_if_already_asked() -> None:
    loader = Counting()
    asked = loader.load("a")
    futures = loader.load_ahead(["a", "b", "b"])
    assert futures == [loader._cache["a"], loader._cache["b"]]
    assert await asyncio.gather(*futures) == ["A", "B"]
    assert await asked == "A"
    assert sorted(map(sorted, loader.batches)) == [["a"], ["b"]]
    assert Counting(cache=False).load_ahead(["a"]) == []
