"""The shared second level of the fact cache: Redis, behind each instance's own ``FactCache``.

With several gateway instances, a fact one of them fetched is served to all: a look-up
asks its own in-process cache first, then Redis (one ``MGET`` per DataLoader batch), and
only then the agency; what the agency returns is written to both (one pipelined ``SET`` per
batch, with the facet's TTL). A fact recalled from Redis stays fresh locally only for what
is left of its TTL, so no copy outlives the freshness an officer is promised.

Invalidation (a control action changed a debtor's assets) drops the local entries at once,
then deletes the Redis keys and publishes the debtor ids on a channel every instance
listens to, so each drops its own copies. Reads on this instance wait for pending Redis
deletions first. A listener that lost its connection clears its whole local cache when it
is back, since it may have missed invalidations meanwhile.

Redis is an optimisation, never a dependency: an error or a slow answer (past
``redis_timeout_s``) is a miss, logged and counted, and the look-up goes to the agency.
Values are encoded with ``resolvers.fact_codec`` (explicit JSON, never pickle).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from connectors.domain import Facet, Fetched
from resolvers.cache import CacheKey, FactCache
from resolvers.fact_codec import VERSION, CodecError, decode_fact, encode_fact

__all__ = ["CHANNEL", "TieredFactCache"]

log = logging.getLogger("liandong.cache")

PREFIX = "liandong:fact"
CHANNEL = "liandong:fact:invalidate"
SUBSCRIBE_WAIT_S = 2.0  # start-up waits at most this long for the listener's first try
_RECONNECT_MAX_S = 5.0


class TieredFactCache(FactCache):
    """A ``FactCache`` backed by Redis; ``start()`` it in the loop, ``aclose()`` at the end."""

    def __init__(
        self,
        *,
        redis_url: str,
        agencies: Iterable[str],
        max_entries: int,
        ttl_s: Mapping[str, float],
        enabled: bool = True,
        stale_ttl_s: float = 0.0,
        timeout_s: float = 0.5,
    ) -> None:
        super().__init__(
            max_entries=max_entries, ttl_s=ttl_s, enabled=enabled, stale_ttl_s=stale_ttl_s
        )
        self.agencies = tuple(agencies)
        self.instance = uuid.uuid4().hex  # tells our own invalidation messages apart
        self._redis = aioredis.Redis.from_url(
            redis_url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        # Subscribers block on reads indefinitely, so they get a client without the timeout.
        self._listener_client = aioredis.Redis.from_url(
            redis_url, socket_connect_timeout=timeout_s, health_check_interval=30
        )
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._first_try = asyncio.Event()  # the listener's first attempt is over, either way
        self._pending: set[asyncio.Task[None]] = set()
        self.shared_hits = 0
        self.shared_misses = 0
        self.shared_errors = 0
        self.invalidations_received = 0

    # -- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start listening for other instances' invalidations (waits briefly for Redis)."""
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="fact-cache-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._first_try.wait(), SUBSCRIBE_WAIT_S)

    async def aclose(self) -> None:
        """Finish pending invalidations, stop listening, close the connections."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        await self._redis.aclose()
        await self._listener_client.aclose()

    @property
    def listening(self) -> bool:
        """True while subscribed to the other instances' invalidations."""
        return self._subscribed.is_set()

    # -- the second level -----------------------------------------------------------------

    def redis_key(self, key: CacheKey) -> str:
        agency, facet, debtor_id = key
        return f"{PREFIX}:v{VERSION}:{agency}:{facet.value}:{debtor_id}"

    async def recall(self, keys: Sequence[CacheKey]) -> list[Fetched | None]:
        """Facts for ``keys`` from Redis (``None`` for misses); hits are kept locally too."""
        if not self.enabled or not keys:
            return [None] * len(keys)
        if self._pending:  # our own deletions land before we read
            await asyncio.gather(*self._pending, return_exceptions=True)
        try:
            payloads = await self._redis.mget([self.redis_key(k) for k in keys])
        except (RedisError, OSError) as exc:
            self._failed("read", exc)
            return [None] * len(keys)
        now = datetime.now(UTC)
        out: list[Fetched | None] = []
        for key, payload in zip(keys, payloads, strict=True):
            fact = self._decode(payload)
            left = -1.0 if fact is None else self.ttl(key[1]) - _age(fact, now)
            if fact is None or left <= 0:
                self.shared_misses += 1
                out.append(None)
                continue
            self.shared_hits += 1
            self.put(key, fact, fresh_for=left)
            out.append(replace(fact, cached=True))
        return out

    async def share(self, items: Sequence[tuple[CacheKey, Fetched]]) -> None:
        """Write freshly fetched facts to Redis, each with its facet's TTL."""
        if not self.enabled:
            return
        writes = [(k, f, self.ttl(k[1])) for k, f in items if self.ttl(k[1]) > 0]
        if not writes:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key, fact, ttl in writes:
                    pipe.set(self.redis_key(key), encode_fact(fact), px=max(1, int(ttl * 1000)))
                await pipe.execute()
        except (RedisError, OSError) as exc:
            self._failed("write", exc)

    def _decode(self, payload: Any) -> Fetched | None:
        if payload is None:
            return None
        try:
            return decode_fact(bytes(payload))
        except CodecError as exc:
            self._failed("decode", exc)
            return None

    def _failed(self, what: str, exc: BaseException) -> None:
        self.shared_errors += 1
        log.warning("shared cache %s failed: %s", what, type(exc).__name__)

    # -- invalidation ---------------------------------------------------------------------

    def invalidate(self, debtor_ids: Iterable[str], facets: Iterable[Facet] | None = None) -> int:
        """Drop local entries now; delete in Redis and tell the other instances next."""
        ids = sorted(set(debtor_ids))
        wanted = None if facets is None else sorted(set(facets))
        dropped = super().invalidate(ids, wanted)
        if not ids:
            return dropped
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            log.error("shared cache not invalidated: invalidate() called outside the loop")
            return dropped
        task = loop.create_task(self._invalidate_shared(ids, wanted))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return dropped

    async def _invalidate_shared(self, ids: list[str], facets: list[Facet] | None) -> None:
        keys = [
            self.redis_key((agency, facet, debtor_id))
            for debtor_id in ids
            for agency in self.agencies
            for facet in (facets if facets is not None else list(Facet))
        ]
        message = orjson.dumps(
            {"o": self.instance, "ids": ids, "f": None if facets is None else facets}
        )
        try:
            await self._redis.delete(*keys)
            await self._redis.publish(CHANNEL, message)
        except (RedisError, OSError) as exc:
            self._failed("invalidate", exc)

    def _on_message(self, data: Any) -> None:
        try:
            raw = orjson.loads(data)
            if raw["o"] == self.instance:
                return
            ids = [str(i) for i in raw["ids"]]
            facets = None if raw["f"] is None else [Facet(f) for f in raw["f"]]
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            self._failed("decode invalidation", exc)
            return
        self.invalidations_received += 1
        FactCache.invalidate(self, ids, facets)  # local only: never re-published

    async def _listen(self) -> None:
        delay = 0.1
        while True:
            pubsub = self._listener_client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                # Invalidations sent while we were not subscribed are lost: start afresh.
                self.clear()
                self._subscribed.set()
                self._first_try.set()
                delay = 0.1
                async for message in pubsub.listen():
                    self._on_message(message["data"])
            except (RedisError, OSError) as exc:
                self._failed("subscription", exc)
                self._first_try.set()
            finally:
                self._subscribed.clear()
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RECONNECT_MAX_S)


def _age(fact: Fetched, now: datetime) -> float:
    return (now - fact.fetched_at).total_seconds()
