"""An ``EventBus`` shared by several gateway instances, over Redis pub/sub.

Each instance keeps a ``LocalEventBus`` for its own subscribers. ``publish`` hands the
change to them directly (so this instance's subscribers never depend on Redis) and sends it
on one Redis channel; one listener per instance receives the other instances' changes and
hands them to its local subscribers, ignoring its own (each message names its origin).

A lost message or a Redis outage costs subscribers a notification, never an event: a
message only names the request, and the next one makes a subscriber read everything it
missed from the store (see ``gateway/events.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from gateway.events import Change, LocalEventBus

__all__ = ["CHANNEL", "RedisEventBus"]

log = logging.getLogger("liandong.events")

CHANNEL = "liandong:events"
SUBSCRIBE_WAIT_S = 2.0  # start-up waits at most this long for the listener's first try
_RECONNECT_MAX_S = 5.0


class RedisEventBus:
    """Local fan-out plus one Redis channel between instances; ``start`` it in the loop."""

    def __init__(self, redis_url: str, *, timeout_s: float = 0.5) -> None:
        self.local = LocalEventBus()
        self.origin = uuid.uuid4().hex
        self._redis = aioredis.Redis.from_url(
            redis_url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        self._listener_client = aioredis.Redis.from_url(
            redis_url, socket_connect_timeout=timeout_s, health_check_interval=30
        )
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._first_try = asyncio.Event()
        self.received = 0  # changes from other instances, for tests and metrics
        self.errors = 0

    async def start(self) -> None:
        """Start listening for the other instances' changes (waits briefly for Redis)."""
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="event-bus-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._first_try.wait(), SUBSCRIBE_WAIT_S)

    async def aclose(self) -> None:
        """Stop listening, end every subscription, close the connections."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        self.local.close()
        await self._redis.aclose()
        await self._listener_client.aclose()

    @property
    def listening(self) -> bool:
        """True while subscribed to the other instances' changes."""
        return self._subscribed.is_set()

    async def publish(self, topic: str, change: Change) -> None:
        await self.local.publish(topic, change)
        payload = orjson.dumps(
            {"o": self.origin, "t": topic, "r": change.request_id, "s": change.seq}
        )
        try:
            await self._redis.publish(CHANNEL, payload)
        except (RedisError, OSError) as exc:
            self.errors += 1
            log.warning("event bus: publish failed: %s", type(exc).__name__)

    def subscribe(
        self, topic: str
    ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[Change]]:
        return self.local.subscribe(topic)

    def close(self) -> None:
        """End every subscription (at shutdown)."""
        self.local.close()

    def subscriber_count(self, topic: str) -> int:
        return self.local.subscriber_count(topic)

    async def _on_message(self, data: Any) -> None:
        try:
            message = orjson.loads(data)
            origin, topic = str(message["o"]), str(message["t"])
            change = Change(str(message["r"]), int(message["s"]))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            log.warning("event bus: undecodable message ignored")
            return
        if origin == self.origin:
            return
        self.received += 1
        await self.local.publish(topic, change)

    async def _listen(self) -> None:
        delay = 0.1
        while True:
            pubsub = self._listener_client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                self._subscribed.set()
                self._first_try.set()
                delay = 0.1
                async for message in pubsub.listen():
                    await self._on_message(message["data"])
            except (RedisError, OSError) as exc:
                self.errors += 1
                log.warning("event bus: subscription lost: %s", type(exc).__name__)
                self._first_try.set()
            finally:
                self._subscribed.clear()
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RECONNECT_MAX_S)
