"""The response cache's series of ``/metrics`` (read from its counters at scrape time)::

liandong_response_cache_hits_total       requests served from kept answers
liandong_response_cache_misses_total     lookups that found nothing this principal may see
liandong_response_cache_stored_total     answers kept
liandong_response_cache_evictions_total  answers pushed out by the size bound
liandong_response_cache_dropped_total    answers dropped by a control, restriction or
                                         invalidation (on this instance)
liandong_response_cache_entries          answers held
liandong_response_cache_bytes            bytes of the answers held
"""

from __future__ import annotations

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from gateway.response_cache.answers import AnswerCache

__all__ = ["response_cache_metrics"]


def response_cache_metrics(answers: AnswerCache) -> list[Metric]:
    """The series above, as they stand now."""
    prefix = "liandong_response_cache"
    return [
        CounterMetricFamily(f"{prefix}_hits", "Requests served from kept answers.", answers.hits),
        CounterMetricFamily(
            f"{prefix}_misses", "Lookups that found no answer to serve.", answers.misses
        ),
        CounterMetricFamily(f"{prefix}_stored", "Answers kept.", answers.stored),
        CounterMetricFamily(
            f"{prefix}_evictions", "Answers pushed out by the size bound.", answers.evicted
        ),
        CounterMetricFamily(
            f"{prefix}_dropped",
            "Answers dropped by a control, restriction or invalidation.",
            answers.dropped,
        ),
        GaugeMetricFamily(f"{prefix}_entries", "Answers held.", len(answers)),
        GaugeMetricFamily(f"{prefix}_bytes", "Bytes of the answers held.", answers.bytes_held),
    ]
