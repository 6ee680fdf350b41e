"""The in-memory token bucket, on a clock the test moves."""

from __future__ import annotations

from gateway.web.ratelimit import TokenBucketLimiter, retry_after_header


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_full_minute_may_be_spent_at_once_then_it_refills() -> None:
    clock = Clock()
    limiter = TokenBucketLimiter(6, clock=clock)
    assert [await limiter.acquire("a") for _ in range(6)] == [0.0] * 6
    wait = await limiter.acquire("a")
    assert wait == 10.0  # one token per 10 s at 6 per minute
    assert await limiter.acquire("b") == 0.0, "buckets are per key"
    clock.now += 10
    assert await limiter.acquire("a") == 0.0
    assert await limiter.acquire("a") > 0


async def test_idle_full_buckets_are_forgotten_past_the_key_limit() -> None:
    clock = Clock()
    limiter = TokenBucketLimiter(60, clock=clock)
    limiter.max_keys = 3
    for key in "abc":
        await limiter.acquire(key)
    clock.now += 120
    await limiter.acquire("d")
    assert set(limiter._buckets) == {"d"}


def test_retry_after_is_whole_seconds_and_never_zero() -> None:
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(9.2) == "10"
