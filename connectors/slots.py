"""A free slot of an ``asyncio.Semaphore`` taken without a coroutine, on every agency call.

Each agency call passes two semaphores (the agency's bulkhead and its connection pool).
``locked()`` builds a generator over the waiters and ``acquire()`` is a coroutine: a few
microseconds a call, for the common case where a slot is free and nobody is waiting.
"""

from __future__ import annotations

import asyncio

__all__ = ["take_free"]


def take_free(slots: asyncio.Semaphore) -> bool:
    """Take one slot of ``slots`` if one is free and nobody waits; else take nothing.

    The same test as the fast path of ``Semaphore.acquire`` (a free slot goes to a waiter
    first); when it says no, the caller awaits ``acquire()`` as before.
    """
    if slots._value > 0 and not slots._waiters:
        slots._value -= 1
        return True
    return False
