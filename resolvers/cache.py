"""The read cache in front of the connectors: bounded, with a TTL per facet, and a stale tail.

Keys are ``(agency, facet, debtor id)``; values are ``Fetched`` (the fact and when it was
fetched). One ``cachetools.TLRUCache`` holds every facet, so the size bound is global while
each entry lives for its own facet's TTL plus ``stale_ttl_s``:

- within the TTL an entry is *fresh*: ``get`` serves it (``cached: true``);
- after the TTL and within ``stale_ttl_s`` more it is *stale*: ``get`` misses, so the
  agency is asked again, and only if the agency then fails does ``get_stale`` serve it
  (``stale: true``, with its original ``fetchedAt``). An officer learns the last known fact
  and how old it is, rather than nothing.

Errors are never cached, and neither are control results (they do not pass through here).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from cachetools import TLRUCache

from connectors.domain import Facet, Fetched

__all__ = ["CacheKey", "FactCache"]

CacheKey = tuple[str, Facet, str]

DEFAULT_TTL_S = 600.0


@dataclass(frozen=True, slots=True)
class _Entry:
    fact: Fetched
    fresh_until: float  # monotonic seconds
    hit: Fetched  # what a hit returns, made once: facts are frozen, so hits share it


class FactCache:
    """A process-local TTL cache of agency facts, keeping expired ones a while as fallback."""

    def __init__(
        self,
        *,
        max_entries: int,
        ttl_s: Mapping[str, float],
        enabled: bool = True,
        stale_ttl_s: float = 0.0,
    ) -> None:
        self.enabled = enabled
        self.max_entries = max_entries
        self.stale_ttl_s = max(0.0, stale_ttl_s)
        self._ttl = {Facet(name): float(seconds) for name, seconds in ttl_s.items()}
        self._entries: TLRUCache[CacheKey, _Entry] = TLRUCache(
            maxsize=max(1, max_entries), ttu=self._expires_at, timer=time.monotonic
        )
        self.hits = 0
        self.misses = 0
        self.stale_served = 0
        # Told of every invalidation, local or relayed from another instance (the response
        # cache drops the answers showing these debtors); ``None`` means every debtor.
        self.listeners: list[Callable[[frozenset[str] | None], None]] = []

    def ttl(self, facet: Facet) -> float:
        """Seconds a fact of ``facet`` stays fresh."""
        return self._ttl.get(facet, DEFAULT_TTL_S)

    def _expires_at(self, key: CacheKey, _value: _Entry, now: float) -> float:
        return now + self.ttl(key[1]) + self.stale_ttl_s

    def get(self, key: CacheKey, *, count_miss: bool = True) -> Fetched | None:
        """The fresh fact for ``key``, or ``None`` (absent, or only stale).

        ``count_miss=False`` is for a look that will be followed by the real one (a resolver
        checking whether it can answer without waiting), so a miss is counted once.
        """
        if not self.enabled:
            return None
        entry = self._entries.get(key)
        if entry is None or time.monotonic() >= entry.fresh_until:
            if count_miss:
                self.misses += 1
            return None
        self.hits += 1
        return entry.hit

    def get_stale(self, key: CacheKey) -> Fetched | None:
        """The last fact for ``key`` if it is past its TTL but within the stale window.

        For when the agency just failed; a fresh entry is not returned here (``get`` would
        have served it).
        """
        if not self.enabled:
            return None
        entry = self._entries.get(key)
        if entry is None or time.monotonic() < entry.fresh_until:
            return None
        self.stale_served += 1
        return replace(entry.fact, cached=True, stale=True)

    def put(self, key: CacheKey, value: Fetched, *, fresh_for: float | None = None) -> None:
        """Keep ``value``; fresh for the facet's TTL, or less (``fresh_for`` seconds): a fact
        copied from a shared cache is only fresh for what is left of its TTL there."""
        if self.enabled:
            ttl = self.ttl(key[1])
            fresh_until = time.monotonic() + (ttl if fresh_for is None else min(ttl, fresh_for))
            self._entries[key] = _Entry(value, fresh_until, replace(value, cached=True))

    def invalidate(self, debtor_ids: Iterable[str], facets: Iterable[Facet] | None = None) -> int:
        """Drop entries of these debtors (all facets, or only ``facets``); returns the count.

        Stale copies go too: after a control action, the old assets are not a fallback.
        """
        ids = set(debtor_ids)
        for listener in self.listeners:
            listener(frozenset(ids))
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
        """Drop every entry, stale ones included."""
        for listener in self.listeners:
            listener(None)
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
