"""Per-principal rate limiting: a small async interface and an in-memory token bucket.

A limiter answers one question before a request runs: may ``key`` spend one more request
now, and if not, how many seconds until it may. The in-memory bucket suits one process; a
shared store (Redis) implements the same ``RateLimiter`` protocol for several.

Each key's bucket holds up to ``rate_per_minute`` tokens (a full minute's allowance may be
spent at once) and refills continuously at ``rate_per_minute / 60`` per second.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

__all__ = ["RateLimiter", "TokenBucketLimiter", "retry_after_header"]


class RateLimiter(Protocol):
    """Decides whether a principal may make another request now."""

    async def acquire(self, key: str) -> float:
        """Spend one request for ``key``: 0 if allowed, else seconds until one is allowed."""
        ...

    async def aclose(self) -> None:
        """Release whatever the limiter holds."""
        ...


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class TokenBucketLimiter:
    """Token buckets in this process's memory, one per key."""

    # Past this many keys, buckets that have refilled completely are forgotten (they hold
    # nothing a fresh bucket would not), so memory follows active principals only.
    max_keys = 10_000

    def __init__(
        self, rate_per_minute: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate_per_minute <= 0:
            raise ValueError("rate_per_minute must be positive")
        self.capacity = float(rate_per_minute)
        self.per_second = rate_per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    async def acquire(self, key: str) -> float:
        """Take one token from ``key``'s bucket, or say how long until there is one."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(self.capacity, now)
        else:
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(self.capacity, bucket.tokens + elapsed * self.per_second)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.per_second

    async def aclose(self) -> None:
        """Forget every bucket."""
        self._buckets.clear()

    def _forget_full(self, now: float) -> None:
        full_after = self.capacity / self.per_second
        for key in [k for k, b in self._buckets.items() if now - b.updated >= full_after]:
            del self._buckets[key]


def retry_after_header(seconds: float) -> str:
    """``Retry-After`` wants whole seconds; never say 0 to a client that was refused."""
    return str(max(1, math.ceil(seconds)))
