"""The read cache in front of the connectors: bounded, with a TTL per facet.

Keys are ``(agency, facet, debtor id)``; values are ``Fetched`` (the fact and when it was
fetched). One ``cachetools.TLRUCache`` holds every facet, so the size bound is global while
each entry expires after its own facet's TTL. Errors are never cached, and neither are
control results (they do not pass through here).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import replace

from cachetools import TLRUCache

from connectors.domain import Facet, Fetched

__all__ = ["CacheKey", "FactCache"]

CacheKey = tuple[str, Facet, str]

DEFAULT_TTL_S = 600.0


class FactCache:
    """A process-local TTL cache of agency facts."""

    def __init__(
        self,
        *,
        max_entries: int,
        ttl_s: Mapping[str, float],
        enabled: bool = True,
    ) -> None:
        self.enabled = enabled
        self.max_entries = max_entries
        self._ttl = {Facet(name): float(seconds) for name, seconds in ttl_s.items()}
        self._entries: TLRUCache[CacheKey, Fetched] = TLRUCache(
            maxsize=max(1, max_entries), ttu=self._expires_at, timer=time.monotonic
        )
        self.hits = 0
        self.misses = 0

    def _expires_at(self, key: CacheKey, _value: Fetched, now: float) -> float:
        return now + self._ttl.get(key[1], DEFAULT_TTL_S)

    def get(self, key: CacheKey) -> Fetched | None:
        if not self.enabled:
            return None
        found = self._entries.get(key)
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        return replace(found, cached=True)

    def put(self, key: CacheKey, value: Fetched) -> None:
        if self.enabled:
            self._entries[key] = value

    def invalidate(self, debtor_ids: Iterable[str], facets: Iterable[Facet] | None = None) -> int:
        """Drop entries of these debtors (all facets, or only ``facets``); returns the count."""
        ids = set(debtor_ids)
        wanted = set(facets) if facets is not None else None
        doomed = [
            key
            for key in list(self._entries.keys())
            if key[2] in ids and (wanted is None or key[1] in wanted)
        ]
        for key in doomed:
            self._entries.pop(key, None)
        return len(doomed)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
