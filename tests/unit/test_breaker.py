"""The circuit breaker's state machine, on a fake clock."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.breaker import BreakerSettings, CircuitBreaker, CircuitState
from gateway.errors import CircuitOpen


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def state(b: CircuitBreaker) -> CircuitState:
    # A call, not the property: mypy would narrow the property across the calls in between.
    return b.state


def breaker(threshold: int = 3, cooldown: float = 10.0) -> tuple[CircuitBreaker, Clock]:
    clock = Clock()
    return CircuitBreaker("land_registry", BreakerSettings(threshold, cooldown), clock), clock


def test_opens_after_threshold_consecutive_failures() -> None:
    b, _ = breaker(threshold=3)
    for _ in range(2):
        assert b.acquire() is False
        b.failure()
    assert state(b) is CircuitState.CLOSED
    b.acquire()
    b.failure()
    assert state(b) is CircuitState.OPEN
    with pytest.raises(CircuitOpen) as raised:
        b.acquire()
    assert raised.value.extensions["code"] == "CIRCUIT_OPEN"
    assert raised.value.extensions["agency"] == "LAND_REGISTRY"
    assert raised.value.extensions["retryAfter"] == 10.0
    assert b.opened == 1


def test_a_success_resets_the_count() -> None:
    b, _ = breaker(threshold=3)
    for outcome in ["f", "f", "s", "f", "f"]:
        b.acquire()
        b.failure() if outcome == "f" else b.success()
    assert state(b) is CircuitState.CLOSED
    assert b.consecutive_failures == 2


def test_one_probe_after_the_cooldown_then_closed_on_success() -> None:
    b, clock = breaker(threshold=1, cooldown=10.0)
    b.acquire()
    b.failure()
    clock.now += 9.9
    with pytest.raises(CircuitOpen):
        b.acquire()
    clock.now += 0.1
    assert state(b) is CircuitState.HALF_OPEN
    assert b.acquire() is True  # the probe
    with pytest.raises(CircuitOpen):
        b.acquire()  # only one at a time
    b.success()
    assert state(b) is CircuitState.CLOSED
    assert b.acquire() is False


def test_a_failed_probe_opens_again_for_a_full_cooldown() -> None:
    b, clock = breaker(threshold=2, cooldown=5.0)
    for _ in range(2):
        b.acquire()
        b.failure()
    clock.now += 5.0
    assert b.acquire() is True
    b.failure()
    assert state(b) is CircuitState.OPEN
    assert b.retry_after() == 5.0
    assert b.opened == 2


def test_a_probe_without_outcome_gives_its_turn_back() -> None:
    b, clock = breaker(threshold=1, cooldown=1.0)
    b.acquire()
    b.failure()
    clock.now += 1.0
    assert b.acquire() is True
    b.release()
    assert b.acquire() is True


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="threshold"):
        CircuitBreaker("x", BreakerSettings(threshold=0))


@given(
    st.lists(st.sampled_from(["call-ok", "call-fail", "wait"]), max_size=60),
    st.integers(min_value=1, max_value=4),
)
def test_never_sends_while_open_and_always_recovers(events: list[str], threshold: int) -> None:
    """Whatever happens, an OPEN breaker lets nothing out before its cool-down, and a
    healthy agency is called again after at most one cool-down."""
    b, clock = breaker(threshold=threshold, cooldown=3.0)
    for event in events:
        if event == "wait":
            clock.now += 1.0
            continue
        was_open = state(b) is CircuitState.OPEN
        try:
            b.acquire()
        except CircuitOpen:
            continue
        assert not was_open, "a call went out while the circuit was open"
        b.success() if event == "call-ok" else b.failure()
    clock.now += 3.0
    b.acquire()
    b.success()
    assert state(b) is CircuitState.CLOSED
