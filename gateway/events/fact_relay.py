"""A debtor's facts dropped on one instance are dropped on every instance, over the shared bus.

With Redis, the fact cache's shared level carries its own invalidations
(``resolvers/cache_redis.py``). Without it (PostgreSQL alone, LISTEN/NOTIFY as the bus) each
instance's fact cache is its own: a control carried out through one instance would leave
another's copy of the debtor's assets or exit bans in place until the facet's TTL, and its
next answer would be rebuilt from that old copy. ``FactRelay`` hears every invalidation of
the local fact cache, sends each debtor's id on the bus topic ``facts``, and applies the
other instances' messages to this instance's cache.

A message names only the debtor, so the hearer drops all of that debtor's facets: one
look-up too many, never an old fact. A message sent while an instance's listener was
disconnected never reaches it, so each time the listener (re)subscribes the relay drops this
instance's whole fact cache (and, through the cache's listeners, the response cache's
answers) before the first message of the new link is applied, as the Redis level does on
its own reconnect. Between the link's loss and the listener noticing it (the bus checks
every second) an instance may still answer from what it holds.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Iterable
from typing import Protocol

from connectors.domain import Facet
from gateway.events.bus import Change
from gateway.events.shared_bus import SharedEventBus

__all__ = ["ALL_DEBTORS", "TOPIC", "FactRelay", "RelayedFacts"]

log = logging.getLogger("liandong.events")

TOPIC = "facts"
ALL_DEBTORS = "*"  # the message of a cleared cache


class RelayedFacts(Protocol):
    """The fact cache as the relay sees it (``resolvers.cache.FactCache`` fits)."""

    listeners: list[Callable[[frozenset[str] | None], None]]

    def invalidate(self, debtor_ids: Iterable[str], facets: Iterable[Facet] | None = None) -> int:
        """Drop the debtors' cached facts (all facets, or only ``facets``)."""
        ...

    def clear(self) -> None:
        """Drop every cached fact."""
        ...


class FactRelay:
    """Sends this instance's fact invalidations on the bus and applies the others'."""

    def __init__(self, bus: SharedEventBus, facts: RelayedFacts) -> None:
        self.bus = bus
        self.facts = facts
        # Tells this instance's own messages apart: the bus hands them to local observers too.
        self.token = secrets.randbits(62)
        self._applying = False
        self._sending: set[asyncio.Task[None]] = set()
        self.sent = 0
        self.applied = 0  # invalidations heard from other instances, for tests and metrics
        self.resets = 0  # caches dropped because the listener (re)subscribed
        facts.listeners.append(self._on_invalidated)
        bus.local.observers.append(self._on_change)
        bus.on_subscribed.append(self._on_subscribed)

    def _on_invalidated(self, debtor_ids: frozenset[str] | None) -> None:
        if self._applying:
            return  # another instance's invalidation: never sent on again
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            log.error("fact invalidation not relayed: the cache was invalidated outside the loop")
            return
        for debtor in sorted(debtor_ids) if debtor_ids is not None else [ALL_DEBTORS]:
            task = loop.create_task(self.bus.publish(TOPIC, Change(debtor, self.token)))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
            self.sent += 1

    def _on_change(self, topic: str, change: Change) -> None:
        if topic != TOPIC or change.seq == self.token:
            return
        self._applying = True
        try:
            if change.request_id == ALL_DEBTORS:
                self.facts.clear()
            else:
                self.facts.invalidate([change.request_id])
        finally:
            self._applying = False
        self.applied += 1

    def _on_subscribed(self) -> None:
        # Invalidations sent while this instance was not listening are lost: start afresh.
        # Not relayed: the other instances missed nothing.
        self._applying = True
        try:
            self.facts.clear()
        finally:
            self._applying = False
        self.resets += 1

    async def flush(self) -> None:
        """Wait until every invalidation heard so far has been sent."""
        while self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)

    async def aclose(self) -> None:
        """Send what is queued, then stop hearing the cache and the bus."""
        await self.flush()
        if self._on_invalidated in self.facts.listeners:
            self.facts.listeners.remove(self._on_invalidated)
        if self._on_change in self.bus.local.observers:
            self.bus.local.observers.remove(self._on_change)
        if self._on_subscribed in self.bus.on_subscribed:
            self.bus.on_subscribed.remove(self._on_subscribed)
