"""Hits tallied at the door show on ``/metrics`` as if each had been observed directly."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.web.request_metrics import RequestMetrics


@dataclass
class _Op:
    name: str | None
    errors: list[Any] = field(default_factory=list)


_DURATIONS = st.one_of(
    st.sampled_from([0.0, 0.005, 0.01, 0.1, 10.0]),  # on a bucket's bound: counted in it
    st.floats(min_value=0.0, max_value=20.0, allow_nan=False),
)
_EVENTS = st.lists(
    st.tuples(
        st.booleans(),  # a hit at the door, or an answer of the normal path
        st.sampled_from(["GET", "POST"]),
        st.sampled_from([None, "Profile", "Other", "not a name!"]),
        _DURATIONS,
    ),
    max_size=40,
)


def _figures(metrics: RequestMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in metrics.collect()
        for s in family.samples
        if not s.name.endswith("_created")  # the time a series was made
    }


@given(_EVENTS)
def test_tallied_hits_collect_as_observed_ones(
    events: list[tuple[bool, str, str | None, float]],
) -> None:
    tallied, observed = RequestMetrics({"/graphql"}), RequestMetrics({"/graphql"})
    for hit, method, name, seconds in events:
        if hit:
            tallied.count_hit(method, seconds, name)
        else:
            tallied.observe_graphql(seconds, None, [_Op(name)])
            tallied.count_http("/graphql", method, 200)
        observed.observe_graphql(seconds, None, [_Op(name)])
        observed.count_http("/graphql", method, 200)
    got, want = _figures(tallied), _figures(observed)
    assert got.keys() == want.keys()
    for key, value in want.items():
        if key[0].endswith("_sum"):  # the same additions, maybe in another order
            assert got[key] == pytest.approx(value)
        else:
            assert got[key] == value, key


def test_a_scrape_does_not_count_twice() -> None:
    metrics = RequestMetrics({"/graphql"})
    for _ in range(3):
        metrics.count_hit("POST", 0.002, "Profile")
    first = _figures(metrics)
    assert first == _figures(metrics)
    http = (
        "liandong_http_requests_total",
        (("method", "POST"), ("route", "/graphql"), ("status", "200")),
    )
    assert first[http] == 3
    count = ("liandong_graphql_operation_duration_seconds_count", (("operation", "Profile"),))
    assert first[count] == 3
