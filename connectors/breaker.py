"""A circuit breaker per agency: stop calling an agency that keeps failing, then probe it.

    CLOSED ──(threshold consecutive failures)──▶ OPEN ──(cool-down passed)──▶ HALF_OPEN
      ▲                                            ▲                              │
      └──────────────(the probe succeeds)──────────┼──────(the probe fails)───────┘

In CLOSED every call goes out; a success resets the failure count. In OPEN nothing goes out
and callers get ``CircuitOpen`` at once. Once the cool-down has passed, exactly one call (the
probe) is let through; the others keep getting ``CircuitOpen`` until the probe's outcome
closes the circuit or opens it for another cool-down.

What counts as a failure is the caller's call (``AgencyHttp``: timeouts, connection errors
and 5xx; an agency that answers 4xx or 429 is up). The clock is injectable for unit tests.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway.errors import CircuitOpen

__all__ = ["BreakerSettings", "CircuitBreaker", "CircuitState"]


class CircuitState(enum.StrEnum):
    """Where a breaker is in its cycle."""

    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    """When a breaker opens and how long it stays open."""

    threshold: int = 5  # consecutive failures that open the circuit
    cooldown_s: float = 30.0  # time open before one probe is let through


class CircuitBreaker:
    """The breaker of one agency; single event loop, so no locking is needed."""

    def __init__(
        self,
        agency: str,
        settings: BreakerSettings,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if settings.threshold < 1 or settings.cooldown_s < 0:
            raise ValueError("breaker threshold must be >= 1 and cool-down >= 0")
        self.agency = agency
        self.settings = settings
        self._clock = clock
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False
        self.opened = 0  # how many times the circuit has opened (a service figure)

    @property
    def state(self) -> CircuitState:
        """The state now: an OPEN breaker whose cool-down has passed reads HALF_OPEN."""
        if self._state is CircuitState.OPEN and self._cooled_down():
            return CircuitState.HALF_OPEN
        return self._state

    @property
    def consecutive_failures(self) -> int:
        """Failures since the last success."""
        return self._failures

    def retry_after(self) -> float:
        """Seconds until the next probe may go out (0 when one may go now)."""
        if self._state is not CircuitState.OPEN:
            return 0.0
        return max(0.0, self._opened_at + self.settings.cooldown_s - self._clock())

    def _cooled_down(self) -> bool:
        return self._clock() >= self._opened_at + self.settings.cooldown_s

    def acquire(self) -> bool:
        """Permission for one call; raises ``CircuitOpen`` when none may go out.

        Returns True when the call is the half-open probe: the caller must then report its
        outcome (``success``/``failure``) or give the turn back with ``release``.
        """
        if self._state is CircuitState.CLOSED:
            return False
        if self._state is CircuitState.OPEN and self._cooled_down():
            self._state = CircuitState.HALF_OPEN
        if self._state is CircuitState.HALF_OPEN and not self._probing:
            self._probing = True
            return True
        raise CircuitOpen(
            self.agency,
            f"circuit open after {self.settings.threshold} consecutive failures",
            retryAfter=round(self.retry_after(), 3),
        )

    def success(self) -> None:
        """The agency answered: close the circuit."""
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._probing = False

    def failure(self) -> None:
        """The agency failed a call: count it, and open the circuit when due."""
        self._failures += 1
        if self._state is CircuitState.HALF_OPEN or (
            self._state is CircuitState.CLOSED and self._failures >= self.settings.threshold
        ):
            self._open()

    def release(self) -> None:
        """A probe ended without an outcome (cancelled): let another call probe."""
        self._probing = False

    def _open(self) -> None:
        self._state = CircuitState.OPEN
        self._opened_at = self._clock()
        self._probing = False
        self.opened += 1
