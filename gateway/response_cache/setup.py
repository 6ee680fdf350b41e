"""Building the response cache of one process and connecting what drops its answers."""

from __future__ import annotations

from gateway.events.bus import LocalEventBus
from gateway.events.shared_bus import SharedEventBus
from gateway.response_cache.answers import AnswerCache
from gateway.response_cache.gate import ResponseGate
from gateway.response_cache.invalidation import AnswerInvalidation
from gateway.response_cache_settings import ResponseCacheSettings
from gateway.store.cases import Store
from resolvers.cache import FactCache

__all__ = ["response_gate"]


def response_gate(
    settings: ResponseCacheSettings,
    *,
    facts: FactCache,
    store: Store,
    bus: LocalEventBus | SharedEventBus | None,
) -> ResponseGate | None:
    """The gate, or ``None`` when the response cache or the fact cache is off."""
    if not settings.enabled or not facts.enabled:
        return None
    answers = AnswerCache(settings.max_bytes)
    drops = AnswerInvalidation(answers)
    facts.listeners.append(drops.on_facts_invalidated)
    store.add_restriction_listener(drops)
    if bus is not None:
        # The local fan-out sees this instance's changes and those relayed from the others.
        (bus.local if isinstance(bus, SharedEventBus) else bus).observers.append(drops.on_change)
    if isinstance(bus, SharedEventBus):
        # A notice sent while this instance's listener was away is lost: an answer kept
        # from before may name a control it never heard of. Start afresh on each link.
        bus.on_subscribed.append(answers.clear)
    return ResponseGate(answers, store, facts.ttl, settings.max_ttl_s)
