"""Fan-out of assistance-request changes to subscribers, behind a small interface.

A message only says *which* request changed and up to which event; subscribers read the
events themselves from the store. So a bus may drop, merge or reorder notifications
without a subscriber missing or reordering an event, which is what lets PostgreSQL's
LISTEN/NOTIFY or Redis pub/sub replace ``LocalEventBus`` (one process) later.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Change", "EventBus", "LocalEventBus", "case_topic"]

QUEUE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class Change:
    """Request ``request_id`` has events up to ``seq``."""

    request_id: str
    seq: int


def case_topic(case_number: str) -> str:
    """The topic a case's request changes are published on."""
    return f"case:{case_number}"


class EventBus(Protocol):
    """Publish changes by topic; subscribe to a topic for as long as a context lasts."""

    async def publish(self, topic: str, change: Change) -> None:
        """Tell the topic's current subscribers; never blocks on a slow one."""
        ...

    def subscribe(
        self, topic: str
    ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[Change]]:
        """Changes published on ``topic`` from now on, until the context is left."""
        ...


class LocalEventBus:
    """In-process fan-out through one bounded queue per subscriber."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Change | None]]] = {}
        # Told of every change on every topic, at once (the response cache drops answers so).
        self.observers: list[Callable[[str, Change], None]] = []

    async def publish(self, topic: str, change: Change) -> None:
        for observe in self.observers:
            observe(topic, change)
        for queue in list(self._subscribers.get(topic, ())):
            if queue.full():
                # A stalled subscriber loses notifications, not events: the next one it
                # gets makes it read everything it missed from the store.
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(change)

    @contextlib.asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[Change]]:
        queue: asyncio.Queue[Change | None] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers.setdefault(topic, set()).add(queue)
        try:
            yield _drain(queue)
        finally:
            subscribers = self._subscribers.get(topic)
            if subscribers is not None:
                subscribers.discard(queue)
                if not subscribers:
                    del self._subscribers[topic]

    def close(self) -> None:
        """End every subscription (at shutdown)."""
        for queues in self._subscribers.values():
            for queue in queues:
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(None)

    def subscriber_count(self, topic: str) -> int:
        """How many subscriptions ``topic`` has (for tests and metrics)."""
        return len(self._subscribers.get(topic, ()))


async def _drain(queue: asyncio.Queue[Change | None]) -> AsyncIterator[Change]:
    while True:
        change = await queue.get()
        if change is None:
            return
        yield change
