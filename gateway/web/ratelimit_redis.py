"""The per-principal rate limiter shared by several instances: a token bucket in Redis.

Same bucket as ``TokenBucketLimiter`` (``rate_per_minute`` tokens, refilled continuously),
kept in one Redis hash per key and updated by one Lua script, so that a check-and-spend is
atomic across instances. The script reads Redis's own clock (``TIME``), so instances with
skewed clocks still share one budget.

Redis is not a dependency of serving: when it fails or is slow, this instance falls back
to its own in-memory bucket for that request (logged and counted).
"""

from __future__ import annotations

import logging
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from gateway.web.ratelimit import TokenBucketLimiter

__all__ = ["RedisRateLimiter"]

log = logging.getLogger("liandong.ratelimit")

PREFIX = "liandong:rate"

# KEYS[1] bucket; ARGV: capacity, tokens per second. Returns the wait in micro-seconds
# (0: allowed). Redis's TIME is read inside the script, so every instance shares one clock.
_SCRIPT = """
local capacity = tonumber(ARGV[1])
local per_second = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1])
local updated = tonumber(state[2])
if tokens == nil or updated == nil then
  tokens = capacity
  updated = now
end
local elapsed = math.max(0, now - updated)
tokens = math.min(capacity, tokens + elapsed * per_second)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / per_second
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / per_second * 1000) + 1000)
return math.ceil(wait * 1000000)
"""


class RedisRateLimiter:
    """Token buckets in Redis, one hash per key; falls back to memory when Redis fails."""

    def __init__(self, redis_url: str, rate_per_minute: int, *, timeout_s: float = 0.5) -> None:
        if rate_per_minute <= 0:
            raise ValueError("rate_per_minute must be positive")
        self.capacity = float(rate_per_minute)
        self.per_second = rate_per_minute / 60.0
        self._redis = aioredis.Redis.from_url(
            redis_url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        self._script: Any = self._redis.register_script(_SCRIPT)
        self._fallback = TokenBucketLimiter(rate_per_minute)
        self.errors = 0

    async def acquire(self, key: str) -> float:
        """Spend one request for ``key``: 0 if allowed, else seconds until one is allowed."""
        try:
            micros = await self._script(
                keys=[f"{PREFIX}:{key}"], args=[repr(self.capacity), repr(self.per_second)]
            )
        except (RedisError, OSError) as exc:
            self.errors += 1
            log.warning("rate limiter: Redis failed (%s), using memory", type(exc).__name__)
            return await self._fallback.acquire(key)
        return int(micros) / 1_000_000

    async def aclose(self) -> None:
        await self._redis.aclose()
        await self._fallback.aclose()
