"""The assistance machinery of one gateway process, built and started together.

``Services`` holds one ``AssistanceRuntime``: the request store over the shared engine, the
event bus that feeds subscriptions, the service the mutations call, and — unless
``assistance.worker_enabled`` is off — the lifecycle worker, started here and stopped at
shutdown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway.assistance import AssistanceService
from gateway.assistance_effects import AssistanceEffects
from gateway.audit import AuditLog
from gateway.clock import Clock, SystemClock
from gateway.events import LocalEventBus
from gateway.restrictions import RestrictionService
from gateway.settings import Settings
from gateway.store import Store
from gateway.store_assistance import AssistanceStore
from gateway.worker import LifecycleWorker
from resolvers.cache import FactCache

__all__ = ["AssistanceRuntime"]


@dataclass(slots=True)
class AssistanceRuntime:
    """Requests, bus, service and worker of one process."""

    requests: AssistanceStore
    bus: LocalEventBus
    effects: AssistanceEffects
    service: AssistanceService
    restrictions: RestrictionService
    clock: Clock
    worker: LifecycleWorker | None

    @classmethod
    def build(
        cls,
        settings: Settings,
        store: Store,
        *,
        connectors: Mapping[str, object],
        cache: FactCache,
        audit: AuditLog,
        clock: Clock | None = None,
    ) -> AssistanceRuntime:
        """Wire the pieces; nothing runs until ``start``."""
        clock = clock or SystemClock()
        requests = AssistanceStore(store.engine)
        bus = LocalEventBus()
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
        restrictions = RestrictionService(store, effects, clock)
        return cls(requests, bus, effects, service, restrictions, clock, worker)

    def start(self) -> None:
        """Start the worker (inside the running event loop)."""
        if self.worker is not None:
            self.worker.start()

    async def aclose(self) -> None:
        """Stop the worker and end every subscription."""
        if self.worker is not None:
            await self.worker.stop()
        self.bus.close()
