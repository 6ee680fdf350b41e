"""Service figures: percentiles, histogram buckets, the health verdict."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from connectors.service_stats import LATENCY_BUCKETS_S, AgencyHealth, AgencyStats


def test_percentiles_nearest_rank() -> None:
    stats = AgencyStats()
    assert stats.percentile(0.5) is None
    for ms in range(1, 101):
        stats.record(float(ms))
    assert stats.percentile(0.5) == 50.0
    assert stats.percentile(0.95) == 95.0


@given(st.lists(st.floats(min_value=0, max_value=60_000, allow_nan=False), max_size=200))
def test_histogram_is_cumulative_and_counts_everything(samples: list[float]) -> None:
    stats = AgencyStats()
    for ms in samples:
        stats.record(ms)
    buckets = stats.cumulative_buckets()
    assert [b for b, _ in buckets] == [*LATENCY_BUCKETS_S, math.inf]
    counts = [c for _, c in buckets]
    assert counts == sorted(counts)
    assert counts[-1] == len(samples)
    for bound, count in buckets[:-1]:
        assert count == sum(1 for ms in samples if ms / 1000 <= bound)


def test_latency_window_is_bounded() -> None:
    stats = AgencyStats()
    for _ in range(10_000):
        stats.record(1.0)
    assert len(stats.latencies_ms) <= 2048
    assert stats.latency_count == 10_000


def test_health_verdict() -> None:
    stats = AgencyStats()
    assert stats.health("CLOSED") is AgencyHealth.UNKNOWN
    for _ in range(20):
        stats.outcome(None)
    assert stats.health("CLOSED") is AgencyHealth.UP
    stats.outcome("AGENCY_TIMEOUT", timeout=True)
    assert stats.health("CLOSED") is AgencyHealth.DEGRADED  # the last call failed
    assert stats.errors == 1 and stats.timeouts == 1
    assert stats.errors_by_code == {"AGENCY_TIMEOUT": 1}
    stats.outcome(None)
    assert stats.health("CLOSED") is AgencyHealth.UP  # 1 in 22 is below the threshold
    assert stats.health("HALF_OPEN") is AgencyHealth.DEGRADED
    assert stats.health("OPEN") is AgencyHealth.DOWN
