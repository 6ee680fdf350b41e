"""Response-cache hits counted in plain integers, added to the ``/metrics`` series when read.

A hit answered at the door is one HTTP answer and one GraphQL duration. Counted through
prometheus-client, that is three locked increments and a Python loop over the buckets per
hit (``MutexValue.inc``); counted here it is a ``bisect`` and three additions, on the one
event loop that serves them (the tally is per worker and never touched from a thread).
``merge`` adds the tally to the series' samples as they are collected, so a scrape shows
exactly what observing every hit through the library would have shown.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from prometheus_client.metrics_core import Metric
from prometheus_client.samples import Sample

__all__ = ["HitTally"]


class HitTally:
    """HTTP answers by (route, method, status) and durations by operation, for one worker.

    ``bounds`` are the histogram's upper bounds, ``+Inf`` last, as prometheus-client keeps
    them: a duration falls in the first bucket whose bound it does not exceed.
    """

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self.http: dict[tuple[str, str, str], int] = {}
        self.buckets: dict[str, list[int]] = {}  # per operation: a count per bucket
        self.sums: dict[str, float] = {}

    def add(self, http: tuple[str, str, str], operation: str, seconds: float) -> None:
        """One hit: its HTTP series' labels, its operation's label, its duration."""
        self.http[http] = self.http.get(http, 0) + 1
        counts = self.buckets.get(operation)
        if counts is None:
            counts = self.buckets[operation] = [0] * len(self.bounds)
            self.sums[operation] = 0.0
        counts[bisect_left(self.bounds, seconds)] += 1
        self.sums[operation] += seconds

    def merge(self, http: Metric, duration: Metric) -> None:
        """Add the tally to the collected ``http`` counter and ``duration`` histogram.

        Every label set tallied must already be a child of its series (the caller makes
        it on the first hit), so each one has samples here to add to.
        """
        http.samples = [self._http_sample(s) for s in http.samples]
        seen: dict[str, int] = {}  # bucket samples met so far, per operation
        samples = []
        for sample in duration.samples:
            samples.append(self._duration_sample(sample, seen))
        duration.samples = samples

    def _duration_sample(self, s: Sample, seen: dict[str, int]) -> Sample:
        operation = s.labels.get("operation", "")
        counts = self.buckets.get(operation)
        if counts is None:
            return s
        if s.name.endswith("_bucket"):
            i = seen.get(operation, 0)
            seen[operation] = i + 1
            return s._replace(value=s.value + sum(counts[: i + 1]))  # cumulative
        if s.name.endswith("_count"):
            return s._replace(value=s.value + sum(counts))
        if s.name.endswith("_sum"):
            return s._replace(value=s.value + self.sums[operation])
        return s

    def _http_sample(self, s: Sample) -> Sample:
        if not s.name.endswith("_total"):
            return s
        key = (s.labels.get("route", ""), s.labels.get("method", ""), s.labels.get("status", ""))
        tallied = self.http.get(key)
        return s if tallied is None else s._replace(value=s.value + tallied)
