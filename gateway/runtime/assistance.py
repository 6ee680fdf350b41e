"""The assistance machinery of one gateway process, built and started together.

``Services`` holds one ``AssistanceRuntime``: the request store over the shared engine, the
event bus that feeds subscriptions, the service the mutations call, and — unless
``assistance.worker_enabled`` is off — the lifecycle worker, started here and stopped at
shutdown. The bus is shared between instances (``gateway/events/shared_bus.py``) when they share
a Redis (pub/sub) or a PostgreSQL store (LISTEN/NOTIFY), so that a subscriber on one
instance sees changes made through another. Without Redis, fact-cache invalidations travel
that bus too (``gateway/events/fact_relay.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.engine import make_url

from gateway.assistance.effects import AssistanceEffects
from gateway.assistance.lifecycle_worker import LifecycleWorker
from gateway.assistance.service import AssistanceService
from gateway.audit.log import AuditLog
from gateway.clock import Clock, SystemClock
from gateway.events.bus import LocalEventBus
from gateway.events.fact_relay import FactRelay, RelayedFacts
from gateway.events.postgres_bus import PgEventBus
from gateway.events.redis_bus import RedisEventBus
from gateway.events.shared_bus import SharedEventBus
from gateway.restrictions.case_status import CaseStatusService
from gateway.restrictions.service import RestrictionService
from gateway.screening.index import ScreeningIndex
from gateway.screening.sync import ScreeningSync
from gateway.settings import Settings, SettingsError
from gateway.store.assistance import AssistanceStore
from gateway.store.cases import Store
from gateway.store.org_persons import OrganizationPersons

__all__ = ["AssistanceRuntime"]


@dataclass(slots=True)
class AssistanceRuntime:
    """Requests, bus, service and worker of one process."""

    requests: AssistanceStore
    bus: LocalEventBus | SharedEventBus
    effects: AssistanceEffects
    service: AssistanceService
    restrictions: RestrictionService
    clock: Clock
    worker: LifecycleWorker | None
    # Restriction writes of other instances, applied to this one's screening index.
    screening_sync: ScreeningSync | None = None
    cases: CaseStatusService | None = None  # status changes and their legal effects
    # The persons behind organisations under measures, snapshots told to the index and sync.
    persons: OrganizationPersons | None = None
    # Fact-cache invalidations to and from the other instances, when no Redis carries them.
    fact_relay: FactRelay | None = None

    @classmethod
    def build(
        cls,
        settings: Settings,
        store: Store,
        *,
        connectors: Mapping[str, object],
        cache: RelayedFacts,
        audit: AuditLog,
        clock: Clock | None = None,
        screening: ScreeningIndex | None = None,
    ) -> AssistanceRuntime:
        """Wire the pieces; nothing runs until ``start``."""
        clock = clock or SystemClock()
        requests = AssistanceStore(store.engine)
        bus = _bus(settings)
        effects = AssistanceEffects(audit, bus, cache, clock)
        worker = None
        if settings.assistance.worker_enabled:
            worker = LifecycleWorker(
                requests,
                connectors=connectors,
                effects=effects,
                settings=settings.assistance,
                clock=clock,
            )
        service = AssistanceService(
            store,
            requests,
            connectors=dict(connectors),
            effects=effects,
            clock=clock,
            wake=worker.wake if worker is not None else lambda: None,
        )
        restrictions = RestrictionService(store, requests, effects, clock)
        sync = None
        if screening is not None and isinstance(bus, SharedEventBus):
            sync = ScreeningSync(store, screening, bus)
            store.add_restriction_listener(sync)
        cases = CaseStatusService(
            store,
            restrictions=restrictions,
            assistance=service,
            requests=requests,
            effects=effects,
            clock=clock,
        )
        persons = OrganizationPersons(store.engine)
        for listener in (screening, sync):
            if listener is not None:
                persons.add_listener(listener)
        relay = None
        if isinstance(bus, SharedEventBus) and not settings.cache.redis_url:
            # With Redis the shared fact cache relays its own invalidations.
            relay = FactRelay(bus, cache)
        return cls(
            requests,
            bus,
            effects,
            service,
            restrictions,
            clock,
            worker,
            sync,
            cases,
            persons,
            relay,
        )

    async def start(self) -> None:
        """Start the bus's listener and the worker (inside the running event loop)."""
        if isinstance(self.bus, SharedEventBus):
            await self.bus.start()
        if self.screening_sync is not None:
            await self.screening_sync.start()
        if self.worker is not None:
            self.worker.start()

    async def aclose(self) -> None:
        """Stop the worker and end every subscription."""
        if self.worker is not None:
            await self.worker.stop()
        if self.screening_sync is not None:
            self.screening_sync.store.remove_restriction_listener(self.screening_sync)
            await self.screening_sync.aclose()
        if self.fact_relay is not None:
            await self.fact_relay.aclose()
        if isinstance(self.bus, SharedEventBus):
            await self.bus.aclose()
        else:
            self.bus.close()


def _bus(settings: Settings) -> LocalEventBus | SharedEventBus:
    """Redis pub/sub when instances share a Redis, LISTEN/NOTIFY when they share a
    PostgreSQL store (see ``events.backend``), else local."""
    backend = settings.events.backend
    url = settings.cache.redis_url
    on_postgres = make_url(settings.database_url).get_backend_name() == "postgresql"
    if backend == "redis" or (backend == "auto" and url):
        if not url:
            raise SettingsError("events.backend = redis needs cache.redis_url")
        return RedisEventBus(url, timeout_s=settings.cache.redis_timeout_s)
    if backend == "postgres" or (backend == "auto" and on_postgres):
        if not on_postgres:
            raise SettingsError("events.backend = postgres needs a PostgreSQL database_url")
        return PgEventBus(settings.database_url)
    return LocalEventBus()
