"""Per-request DataLoaders: batch and de-duplicate keys, ask the cache, fetch only misses.

One ``FactLoader`` per (agency, facet) is made lazily within a request, so every
``load(id)`` made while the executor resolves one level of the query lands in the same
batch. Loaders are built inside the running loop (aiodataloader binds it at construction)
and never outlive their request.

When the agency fails a key that the cache still holds past its TTL (within the stale
window), the stale fact is served instead of the error, marked ``stale`` in its provenance.
Failures are logged once per batch and error code, with the request id, never with the ids.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from connectors.base import Connector
from connectors.domain import Facet, Fetched
from connectors.tracing import TRACER, agency_span
from gateway.errors import AgencyBadResponse, AgencyError
from resolvers.cache import CacheKey, FactCache
from resolvers.cache_redis import TieredFactCache
from resolvers.dispatch import OneTaskLoader

if TYPE_CHECKING:
    from gateway.store.cases import Store

__all__ = ["AgencyCall", "FactLoader", "Loaders", "StoreLoader"]

Outcome = Fetched | AgencyError

log = logging.getLogger("liandong.agency")


@dataclass(slots=True)
class AgencyCall:
    """One upstream batch made for this request (for the audit record and tests)."""

    agency: str
    facet: str
    keys: int
    errors: int
    ms: float
    stale: int = 0  # failed keys answered from the stale cache instead


class FactLoader(OneTaskLoader[str, "Outcome"]):
    """Loads one facet from one connector, through the cache."""

    def __init__(
        self,
        connector: Connector,
        facet: Facet,
        cache: FactCache,
        calls: list[AgencyCall],
        request_id: str = "",
        *,
        known: dict[CacheKey, Fetched] | None = None,
    ) -> None:
        super().__init__()
        self.connector = connector
        self.facet = facet
        # Not ``self.cache``: DataLoader uses that name for its own per-request memo switch.
        self.facts = cache
        self.calls = calls
        self.request_id = request_id
        # The request's facts at hand (see ``Loaders.peek``), told of what this loader got.
        self.known: dict[CacheKey, Fetched] = {} if known is None else known

    async def load_fact(self, key: str) -> Fetched:
        """Load ``key``; raises the key's ``AgencyError`` if the agency failed it."""
        return cast(Fetched, await self.load(key))

    async def fetch_ahead(self, keys: Sequence[str]) -> None:
        """One batch for ``keys`` now, without a future per key (the look-ahead's loads).

        Facts land in the request's facts at hand (``known``), where fields find them; a
        key the agency failed is primed with its failure, so that the field that loads it
        later gets that failure, as from a batch it had been part of.
        """
        wanted = [k for k in dict.fromkeys(keys) if k not in self._cache]
        if not wanted:
            return
        try:
            outcomes: Sequence[Any] = await self.batch_load_fn(wanted)
        except Exception as exc:  # as DataLoader: every key of the batch fails with it
            outcomes = [exc] * len(wanted)
        for key, outcome in zip(wanted, outcomes, strict=True):
            if not isinstance(outcome, Fetched):
                self.prime(key, outcome)

    async def batch_load_fn(self, keys: list[str]) -> list[Outcome]:
        if TRACER.get() is None:
            # No tracing: no span to open, and no context manager to enter for it.
            return (await self._batch(keys))[0]
        with agency_span(self.connector.agency, self.facet.value, len(keys)) as span:
            out, sent = await self._batch(keys)
            if span is not None:
                failed = [o for o in out if isinstance(o, AgencyError)]
                code = failed[0].code if failed else None
                span.finish(
                    keys_sent=sent, cache_hits=len(keys) - sent, errors=len(failed), code=code
                )
            return out

    async def _batch(self, keys: list[str]) -> tuple[list[Outcome], int]:
        """The outcome of each key, and how many of them were sent to the agency."""
        agency = self.connector.agency
        out: list[Outcome | None] = [None] * len(keys)
        misses: list[int] = []
        for i, key in enumerate(keys):
            hit = self.facts.get((agency, self.facet, key))
            if hit is None:
                misses.append(i)
            else:
                out[i] = hit
        # Several instances: what the local cache lacks may be in the shared one.
        shared = self.facts if isinstance(self.facts, TieredFactCache) else None
        if misses and shared is not None:
            recalled = await shared.recall([(agency, self.facet, keys[i]) for i in misses])
            for i, found in zip(misses, recalled, strict=True):
                out[i] = found
            misses = [i for i in misses if out[i] is None]
        if misses:
            started = time.perf_counter()
            values = await self.connector.fetch(self.facet, [keys[i] for i in misses])
            fetched_at = datetime.now(UTC)
            if len(values) != len(misses):
                bad = AgencyBadResponse(agency, "connector returned the wrong number of results")
                values = [bad] * len(misses)
            errors = 0
            stale = 0
            failed: Counter[tuple[str, str]] | None = None  # made only when one fails
            for i, value in zip(misses, values, strict=True):
                if isinstance(value, AgencyError):
                    errors += 1
                    if failed is None:
                        failed = Counter()
                    failed[(value.code, value.message)] += 1
                    fallback = self.facts.get_stale((agency, self.facet, keys[i]))
                    if fallback is not None:
                        stale += 1
                    out[i] = fallback or value
                    continue
                fact = Fetched(value=value, agency=agency, fetched_at=fetched_at)
                self.facts.put((agency, self.facet, keys[i]), fact)
                out[i] = fact
            self.calls.append(
                AgencyCall(
                    agency=agency,
                    facet=self.facet.value,
                    keys=len(misses),
                    errors=errors,
                    ms=(time.perf_counter() - started) * 1000,
                    stale=stale,
                )
            )
            if failed is not None:
                self._log_failures(failed, stale)
            if shared is not None:
                fresh = [(i, f) for i in misses if isinstance(f := out[i], Fetched) and not f.stale]
                await shared.share([((agency, self.facet, keys[i]), f) for i, f in fresh])
        for key, outcome in zip(keys, out, strict=True):
            if isinstance(outcome, Fetched):
                self.known.setdefault((agency, self.facet, key), outcome)
        return cast(list[Outcome], out), len(misses)

    def _log_failures(self, failed: Counter[tuple[str, str]], stale: int) -> None:
        # Messages name fields and statuses, never values (connectors/parsing.py), and the
        # keys are personal numbers: neither reaches the log.
        for (code, message), count in failed.items():
            log.warning(
                "request %s: %s %s failed for %d key(s): %s %s (%d served stale)",
                self.request_id or "-",
                self.connector.agency,
                self.facet.value,
                count,
                code,
                message,
                stale,
                extra={
                    "request_id": self.request_id,
                    "agency": self.connector.agency,
                    "facet": self.facet.value,
                    "code": code,
                },
            )


class StoreLoader(OneTaskLoader[str, Sequence[Any]]):
    """Batches look-ups in our own store by debtor id: one query per request level."""

    def __init__(
        self, fetch: Callable[[Sequence[str]], Awaitable[Mapping[str, Sequence[Any]]]]
    ) -> None:
        super().__init__()
        self._fetch = fetch
        self._known: dict[str, Sequence[Any]] = {}

    def peek(self, key: str) -> Sequence[Any] | None:
        """The rows for ``key`` if this request has loaded them already, else ``None``."""
        return self._known.get(key)

    async def batch_load_fn(self, keys: list[str]) -> list[Sequence[Any]]:
        found = await self._fetch(keys)
        rows = [found.get(key, ()) for key in keys]
        self._known.update(zip(keys, rows, strict=True))
        return rows


@dataclass(slots=True)
class Loaders:
    """The DataLoaders of one request, made on first use."""

    connectors: Mapping[str, Connector]
    cache: FactCache
    store: Store
    calls: list[AgencyCall] = field(default_factory=list)
    request_id: str = ""  # for the log lines of failing agencies
    _facts: dict[tuple[str, Facet], FactLoader] = field(default_factory=dict)
    _restrictions: StoreLoader | None = None
    # Agencies per facet; the connectors do not change, so one dict may serve all requests.
    providers_memo: dict[Facet, list[str]] = field(default_factory=dict)
    # Facts this request already has: one request sees one fact per key, however it got it.
    known: dict[CacheKey, Fetched] = field(default_factory=dict)

    @property
    def restrictions(self) -> StoreLoader:
        """The court's own restrictions of each debtor, from the store, batched."""
        if self._restrictions is None:
            self._restrictions = StoreLoader(self.store.restrictions_of)
        return self._restrictions

    def providers(self, facet: Facet) -> list[str]:
        """Agencies whose connector serves ``facet``, in registration order."""
        found = self.providers_memo.get(facet)
        if found is None:
            found = [name for name, c in self.connectors.items() if facet in c.facets]
            self.providers_memo[facet] = found
        return found

    def peek(self, agency: str, facet: Facet, key: str) -> Fetched | None:
        """The fact if it is at hand: loaded earlier in this request, or fresh in the local
        cache. ``None`` means: load it (and wait). Makes no DataLoader."""
        wanted = (agency, facet, key)
        fact = self.known.get(wanted)
        if fact is None:
            fact = self.cache.get(wanted, count_miss=False)
            if fact is not None:
                self.known[wanted] = fact
        return fact

    def fact(self, agency: str, facet: Facet) -> FactLoader:
        loader = self._facts.get((agency, facet))
        if loader is None:
            loader = FactLoader(
                self.connectors[agency],
                facet,
                self.cache,
                self.calls,
                self.request_id,
                known=self.known,
            )
            self._facts[(agency, facet)] = loader
        return loader

    async def first(self, facet: Facet, key: str) -> Fetched | None:
        """Load a single-valued facet from the first agency that serves it."""
        agencies = self.providers(facet)
        if not agencies:
            return None
        return await self.fact(agencies[0], facet).load_fact(key)

    def first_now(self, facet: Facet, key: str) -> Fetched | Awaitable[Fetched | None] | None:
        """``first``, answered at once when the fact is at hand (see ``FactLoader.peek``)."""
        agencies = self.providers(facet)
        if not agencies:
            return None
        fact = self.peek(agencies[0], facet, key)
        # Asked now, not when the executor first awaits: the batch (and the agency's first
        # request) leaves as soon as this level of the query has been walked.
        return (
            cast("Awaitable[Fetched]", self.fact(agencies[0], facet).load(key))
            if fact is None
            else fact
        )

    def agencies_called(self) -> Sequence[str]:
        return sorted({c.agency for c in self.calls})
