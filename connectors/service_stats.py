"""Service figures of one agency: what we sent it, how it answered, how fast.

Counted per attempt actually sent, so that they can be checked against the agency's own
counts (the mocks' ``/_stats``): ``requests`` are attempts on the wire (retries included),
``errors`` the attempts that failed (timeout, connection error, 5xx, 429) and ``timeouts``
the subset that timed out. Calls that never went out are counted apart: ``short_circuited``
(the circuit was open) and ``shed`` (no concurrency slot, or no time left, before the
deadline).

Latencies feed a fixed-bucket histogram (for Prometheus) and a bounded window of recent
samples (for the median and p95 shown in GraphQL), so memory stays flat however long the
process runs.
"""

from __future__ import annotations

import bisect
import enum
import math
from collections import Counter, deque
from dataclasses import dataclass, field

__all__ = ["LATENCY_BUCKETS_S", "AgencyHealth", "AgencyStats"]

#: Upper bounds (seconds) of the latency histogram buckets; +Inf is implied.
LATENCY_BUCKETS_S: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)

_WINDOW = 2048  # latency samples kept for percentiles
_RECENT = 50  # attempt outcomes kept for the health verdict
_DEGRADED_RATIO = 0.2  # share of recent attempts failing that makes an agency DEGRADED


class AgencyHealth(enum.StrEnum):
    """The verdict the command centre sees."""

    UNKNOWN = "UNKNOWN"  # nothing sent yet by this process
    UP = "UP"
    DEGRADED = "DEGRADED"  # answering, but failing often or the circuit is probing
    DOWN = "DOWN"  # circuit open: we are not calling it


@dataclass(slots=True)
class AgencyStats:
    """Running service figures for one agency (exported to GraphQL and Prometheus)."""

    requests: int = 0
    errors: int = 0
    timeouts: int = 0
    retries: int = 0
    short_circuited: int = 0
    shed: int = 0
    in_flight: int = 0
    errors_by_code: Counter[str] = field(default_factory=Counter)
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=_WINDOW))
    bucket_counts: list[int] = field(default_factory=lambda: [0] * len(LATENCY_BUCKETS_S))
    latency_sum_s: float = 0.0
    latency_count: int = 0
    recent_failures: deque[bool] = field(default_factory=lambda: deque(maxlen=_RECENT))

    def record(self, ms: float) -> None:
        """One attempt's time on the wire."""
        self.latencies_ms.append(ms)
        seconds = ms / 1000
        index = bisect.bisect_left(LATENCY_BUCKETS_S, seconds)
        if index < len(self.bucket_counts):
            self.bucket_counts[index] += 1
        self.latency_sum_s += seconds
        self.latency_count += 1

    def outcome(self, error_code: str | None, *, timeout: bool = False) -> None:
        """One attempt's outcome: ``None`` for an answer, else the error code it earned."""
        self.recent_failures.append(error_code is not None)
        if error_code is None:
            return
        self.errors += 1
        self.errors_by_code[error_code] += 1
        if timeout:
            self.timeouts += 1

    def percentile(self, q: float) -> float | None:
        """The ``q`` quantile (0..1) of recent latencies in ms, nearest-rank; ``None`` if none."""
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        rank = max(1, math.ceil(q * len(ordered)))
        return ordered[rank - 1]

    def cumulative_buckets(self) -> list[tuple[float, int]]:
        """``(upper bound s, count <= bound)`` pairs, ending with ``(inf, total)``."""
        out: list[tuple[float, int]] = []
        running = 0
        for bound, count in zip(LATENCY_BUCKETS_S, self.bucket_counts, strict=True):
            running += count
            out.append((bound, running))
        out.append((math.inf, self.latency_count))
        return out

    def recent_error_ratio(self) -> float:
        """The share of the last attempts that failed (0 with none)."""
        if not self.recent_failures:
            return 0.0
        return sum(self.recent_failures) / len(self.recent_failures)

    def health(self, circuit: str) -> AgencyHealth:
        """The verdict from the circuit state (``CircuitState`` value) and recent outcomes."""
        if circuit == "OPEN":
            return AgencyHealth.DOWN
        if circuit == "HALF_OPEN":
            return AgencyHealth.DEGRADED
        if not self.recent_failures:
            return AgencyHealth.UNKNOWN
        if self.recent_failures[-1] or self.recent_error_ratio() >= _DEGRADED_RATIO:
            return AgencyHealth.DEGRADED
        return AgencyHealth.UP
