"""The fact cache: fresh within the TTL, stale for a while after, then gone."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from connectors.domain import Facet, Fetched
from resolvers.cache import FactCache

KEY = ("land_registry", Facet.ASSETS, "320311198505164411")


def fact() -> Fetched:
    return Fetched(value=(), agency="land_registry", fetched_at=datetime.now(UTC))


class FakeMonotonic:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = 1000.0
        monkeypatch.setattr(time, "monotonic", lambda: self.now)


def test_fresh_then_stale_then_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeMonotonic(monkeypatch)
    cache = FactCache(max_entries=10, ttl_s={"assets": 60}, stale_ttl_s=600)
    original = fact()
    cache.put(KEY, original)

    hit = cache.get(KEY)
    assert hit is not None and hit.cached and not hit.stale
    assert cache.get_stale(KEY) is None  # fresh entries are not "stale fallbacks"

    clock.now += 61
    assert cache.get(KEY) is None  # past its TTL: ask the agency again
    stale = cache.get_stale(KEY)
    assert stale is not None and stale.stale and stale.cached
    assert stale.fetched_at == original.fetched_at
    assert cache.stale_served == 1

    clock.now += 600
    assert cache.get_stale(KEY) is None
    assert len(cache) == 0


def test_no_stale_window_means_nothing_after_the_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeMonotonic(monkeypatch)
    cache = FactCache(max_entries=10, ttl_s={"assets": 60})
    cache.put(KEY, fact())
    clock.now += 61
    assert cache.get(KEY) is None and cache.get_stale(KEY) is None


def test_disabled_cache_holds_nothing() -> None:
    cache = FactCache(max_entries=10, ttl_s={}, enabled=False, stale_ttl_s=600)
    cache.put(KEY, fact())
    assert cache.get(KEY) is None and cache.get_stale(KEY) is None


def test_invalidate_drops_stale_copies_too(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeMonotonic(monkeypatch)
    cache = FactCache(max_entries=10, ttl_s={"assets": 1}, stale_ttl_s=600)
    cache.put(KEY, fact())
    clock.now += 2
    assert cache.invalidate([KEY[2]], [Facet.ASSETS]) == 1
    assert cache.get_stale(KEY) is None
