"""``take_free`` takes a semaphore's slot exactly when ``acquire`` would without waiting."""

from __future__ import annotations

import asyncio

from connectors.slots import take_free


async def test_a_free_slot_is_taken_and_given_back_by_release() -> None:
    slots = asyncio.Semaphore(2)
    assert take_free(slots) and take_free(slots)
    assert slots.locked() and not take_free(slots)
    slots.release()
    assert take_free(slots)


async def test_a_waiter_is_served_before_a_newcomer() -> None:
    slots = asyncio.Semaphore(1)
    assert take_free(slots)
    waiter = asyncio.ensure_future(slots.acquire())
    await asyncio.sleep(0)  # the waiter is queued
    slots.release()  # the slot is the waiter's now
    assert not take_free(slots)
    assert await waiter
    slots.release()
    assert take_free(slots)
