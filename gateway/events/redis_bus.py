"""The shared event bus over Redis pub/sub: one channel between instances.

See ``gateway/events/shared_bus.py`` for what the bus does with it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from gateway.events.shared_bus import Deliver, SharedEventBus

__all__ = ["CHANNEL", "LISTENER_NAME", "RedisEventBus", "RedisRelay"]

CHANNEL = "liandong:events"
LISTENER_NAME = "liandong-events"  # the listening connection's CLIENT SETNAME


class RedisRelay:
    """Publishes on ``CHANNEL``; listens with a client of its own."""

    failures: tuple[type[BaseException], ...] = (RedisError, OSError)

    def __init__(self, redis_url: str, *, timeout_s: float = 0.5) -> None:
        self._redis = aioredis.Redis.from_url(
            redis_url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        # Named, so that an operator (or a test) can tell the bus's link in CLIENT LIST.
        self._listener_client = aioredis.Redis.from_url(
            redis_url,
            socket_connect_timeout=timeout_s,
            health_check_interval=30,
            client_name=LISTENER_NAME,
        )

    async def send(self, payload: bytes) -> None:
        """Publish one message on the channel."""
        await self._redis.publish(CHANNEL, payload)

    async def listen(self, deliver: Deliver, subscribed: Callable[[], None]) -> None:
        """Subscribe to the channel and deliver what arrives until the link is lost."""
        pubsub = self._listener_client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(CHANNEL)
            subscribed()
            async for message in pubsub.listen():
                await deliver(message["data"])
        finally:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()

    async def aclose(self) -> None:
        """Close both clients."""
        await self._redis.aclose()
        await self._listener_client.aclose()


class RedisEventBus(SharedEventBus):
    """The shared bus with Redis pub/sub between instances."""

    def __init__(self, redis_url: str, *, timeout_s: float = 0.5) -> None:
        super().__init__(RedisRelay(redis_url, timeout_s=timeout_s), "redis")
