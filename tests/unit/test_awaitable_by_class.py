"""Awaitability remembered per class answers as the check it remembers, in any order."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from strawberry.execution import optimized_is_awaitable

from resolvers.awaitables import remembered_per_class
from schema.fast.awaitable import is_awaitable


@dataclass
class Plain:
    value: int = 0


class Dynamic:
    def __getattr__(self, name: str) -> Any:
        return name


class Awaits:
    def __await__(self) -> Any:
        return iter(())


async def _coroutine() -> None:
    return None


def _generator() -> Any:
    yield 1


@given(
    st.lists(
        st.sampled_from(["plain", "dynamic", "awaits", "int", "str", "none", "list", "gen"]),
        max_size=20,
    )
)
def test_every_answer_is_the_checks_in_any_order(kinds: list[str]) -> None:
    made: dict[str, Callable[[], Any]] = {
        "plain": Plain,
        "dynamic": Dynamic,
        "awaits": Awaits,
        "int": lambda: 3,
        "str": lambda: "x",
        "none": lambda: None,
        "list": lambda: [1],
        "gen": _generator,
    }
    # A memo of each check, fresh for this example, so that any class may be seen first.
    checks = (optimized_is_awaitable, inspect.isawaitable)
    remembered = [(check, remembered_per_class(check)) for check in checks]
    for kind in kinds:
        value = made[kind]()
        for check, memo in remembered:
            assert memo(value) == check(value), (kind, check)
        assert is_awaitable(value) == optimized_is_awaitable(value), kind


def test_coroutines_and_futures_are_awaitable() -> None:
    loop = asyncio.new_event_loop()
    try:
        future = loop.create_future()
        coroutine = _coroutine()
        close = coroutine.close
        try:
            assert is_awaitable(future) and is_awaitable(coroutine)
        finally:
            close()
    finally:
        loop.close()


def test_an_instance_with_its_own_await_attribute_does_not_decide_for_its_class() -> None:
    class Odd:
        pass

    odd = Odd()
    odd.__await__ = lambda: iter(())  # type: ignore[attr-defined]
    assert is_awaitable(odd) == optimized_is_awaitable(odd)
    assert not is_awaitable(Odd())
