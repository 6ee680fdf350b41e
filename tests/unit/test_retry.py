"""Retry policy: who may be retried, how long to wait, and the deadline's last word."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from connectors.retry import RetryPolicy, is_retryable_call


def test_reads_and_keyed_writes_only() -> None:
    assert is_retryable_call("GET", {}, read=None, idempotency_key=None)
    assert not is_retryable_call("POST", {}, read=None, idempotency_key=None)
    assert is_retryable_call("POST", {}, read=True, idempotency_key=None)  # a batch query
    assert is_retryable_call("POST", {}, read=None, idempotency_key="k-1")
    assert is_retryable_call("POST", {"idempotency-key": "k-1"}, read=None, idempotency_key=None)
    assert not is_retryable_call("POST", {"Idempotency-Key": ""}, read=None, idempotency_key=None)
    assert not is_retryable_call("GET", {}, read=False, idempotency_key=None)


@given(st.integers(min_value=1, max_value=30), st.integers(min_value=0, max_value=2**32))
def test_backoff_is_jittered_within_the_exponential_ceiling(retry: int, seed: int) -> None:
    policy = RetryPolicy(max_retries=30, backoff_base_s=0.1, backoff_max_s=2.0)
    delay = policy.backoff(retry, random.Random(seed))
    assert 0.0 <= delay <= min(2.0, 0.1 * 2 ** (retry - 1))


def test_gives_up_after_max_retries() -> None:
    policy = RetryPolicy(max_retries=2)
    assert policy.wait(2, None, None) is not None
    assert policy.wait(3, None, None) is None


def test_retry_after_is_honoured_as_given() -> None:
    policy = RetryPolicy(max_retries=2, backoff_max_s=0.5)
    assert policy.wait(1, 3.0, None) == 3.0
    assert policy.wait(1, 3.0, 10.0) == 3.0


def test_nothing_waits_past_the_deadline() -> None:
    policy = RetryPolicy(max_retries=5, backoff_base_s=1.0, backoff_max_s=1.0)
    assert policy.wait(1, 1.0, 0.9) is None  # Retry-After longer than what is left
    assert policy.wait(1, None, 0.0) is None
    rng = random.Random(1)
    for _ in range(50):
        delay = policy.wait(1, None, 0.5, rng)
        assert delay is None or delay < 0.5


def test_without_a_deadline_a_long_retry_after_is_not_waited() -> None:
    policy = RetryPolicy(retry_after_max_s=10.0)
    assert policy.wait(1, 11.0, None) is None
    assert policy.wait(1, 11.0, 60.0) == 11.0  # a deadline says how long is acceptable
