"""The per-request deadline: set, inherited by tasks, only ever shortened."""

from __future__ import annotations

import asyncio
import time

from connectors import deadline


def test_no_deadline_outside_a_scope() -> None:
    assert deadline.current() is None
    assert deadline.remaining() is None


def test_nested_scopes_only_shorten() -> None:
    with deadline.deadline_after(10.0) as outer:
        assert outer is not None
        with deadline.deadline_after(100.0) as inner:
            assert inner == outer
        with deadline.deadline_after(1.0) as inner:
            assert inner is not None and inner < outer
            left = deadline.remaining()
            assert left is not None and 0 < left <= 1.0
        with deadline.deadline_after(None) as same:
            assert same == outer
        assert deadline.current() == outer
    assert deadline.current() is None


async def test_tasks_inherit_it() -> None:
    async def seen() -> float | None:
        return deadline.current()

    with deadline.deadline_after(5.0) as set_to:
        assert await asyncio.create_task(seen()) == set_to
    assert await asyncio.create_task(seen()) is None


def test_remaining_goes_negative_once_passed() -> None:
    with deadline.deadline_after(0.0):
        time.sleep(0.001)
        left = deadline.remaining()
        assert left is not None and left < 0
