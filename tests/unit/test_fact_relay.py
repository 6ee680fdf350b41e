"""``FactRelay`` over an in-memory relay: what crosses between two instances' fact caches.

The PostgreSQL test (tests/integration/test_fact_relay_postgres.py) shows the effect end to
end; these show the counting: one message per debtor, none echoed back, none re-sent by the
hearer, a cleared cache cleared everywhere, a cache dropped (and not relayed) whenever the
listener subscribes again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from connectors.domain import Facet, Fetched
from gateway.events.fact_relay import FactRelay
from gateway.events.shared_bus import Deliver, SharedEventBus
from resolvers.cache import FactCache

DEBTORS = ("110101199003077777", "320311198505164411")


class MemoryRelay:
    """Every bus joined to one ``MemoryRelay`` hears every message, its own included."""

    failures: tuple[type[BaseException], ...] = (ConnectionError,)

    def __init__(self) -> None:
        self.listeners: list[Deliver] = []
        self.sent = 0
        self.cut = asyncio.Event()  # set: every listener loses its link once

    async def send(self, payload: bytes) -> None:
        self.sent += 1
        for deliver in list(self.listeners):
            await deliver(payload)

    async def listen(self, deliver: Deliver, subscribed: Callable[[], None]) -> None:
        self.listeners.append(deliver)
        subscribed()
        try:
            await self.cut.wait()
            self.cut.clear()
            raise ConnectionError("link cut")
        finally:
            self.listeners.remove(deliver)

    async def aclose(self) -> None:
        return None


def keys(debtor: str) -> list[tuple[str, Facet, str]]:
    return [("public_security", f, debtor) for f in (Facet.ASSETS, Facet.EXIT_BANS, Facet.IDENTITY)]


def filled(cache: FactCache | None = None) -> FactCache:
    cache = cache if cache is not None else FactCache(max_entries=100, ttl_s={})
    for debtor in DEBTORS:
        for key in keys(debtor):
            cache.put(key, Fetched((), "public_security", NOW))
    return cache


NOW = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)


async def test_an_invalidation_crosses_once_and_is_not_echoed() -> None:
    relay = MemoryRelay()
    buses = [SharedEventBus(relay, "memory"), SharedEventBus(relay, "memory")]
    caches = [FactCache(max_entries=100, ttl_s={}) for _ in buses]
    relays = [FactRelay(bus, cache) for bus, cache in zip(buses, caches, strict=True)]
    for bus in buses:
        await bus.start()
    for cache in caches:
        filled(cache)  # after subscribing, which starts each cache afresh
    try:
        assert caches[0].invalidate([DEBTORS[0]], [Facet.ASSETS]) == 1
        await relays[0].flush()
        assert relay.sent == 1 and relays[0].sent == 1
        # The other instance dropped every facet of that debtor, and nothing of the other.
        assert len(caches[1]) == 3
        assert all(caches[1].get(key) for key in keys(DEBTORS[1]))
        assert relays[1].applied == 1 and relays[1].sent == 0  # heard, not sent on
        assert relays[0].applied == 0  # its own message, not applied again
        assert len(caches[0]) == 5

        caches[1].clear()
        await relays[1].flush()
        assert relay.sent == 2
        assert len(caches[0]) == 0
        assert relays[0].applied == 1 and relays[0].sent == 1  # the clear, not sent back
    finally:
        for fact_relay in relays:
            await fact_relay.aclose()
        for bus in buses:
            await bus.aclose()


async def test_each_subscription_drops_the_cache_without_relaying_it() -> None:
    relay = MemoryRelay()
    bus = SharedEventBus(relay, "memory")
    cache = filled()
    fact_relay = FactRelay(bus, cache)
    dropped: list[frozenset[str] | None] = []
    cache.listeners.append(dropped.append)  # as the response cache listens
    await bus.start()
    try:
        # The first subscription: anything cached before listening may have missed a notice.
        assert bus.subscriptions == 1 and len(cache) == 0 and dropped == [None]
        filled(cache)
        resubscribed = asyncio.Event()
        bus.on_subscribed.append(resubscribed.set)  # runs after the relay's own hook
        relay.cut.set()  # a message sent now would be lost to this instance
        await asyncio.wait_for(resubscribed.wait(), 5)
        assert bus.subscriptions == 2
        assert len(cache) == 0 and dropped == [None, None]
        assert fact_relay.resets == 2
        await fact_relay.flush()
        assert fact_relay.sent == 0 and relay.sent == 0  # the others missed nothing
    finally:
        await fact_relay.aclose()
        await bus.aclose()
