"""``/healthz`` (the process) and ``/readyz`` (ready to serve, and which agencies are up).

``/healthz`` answers 200 whenever the process can answer at all: for liveness probes, it
must not depend on anything outside the process.

``/readyz`` answers 200 once the services have started, the store answers a ping within
``PING_TIMEOUT_S`` and the audit log is writing; 503 otherwise. A failing agency does not
make the gateway unready — partial answers are what it is for — but the body says which
agencies are up, from each one's circuit breaker and recent calls (no agency is called for
it, so probes cost the agencies nothing)::

    {"status": "ok", "store": "ok", "audit": "ok",
     "agencies": {"land_registry": {"health": "DOWN", "circuit": "OPEN"}, ...},
     "agenciesUp": ["civil_affairs", ...]}
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.service_stats import AgencyHealth

if TYPE_CHECKING:
    from gateway.web.services import Services

__all__ = ["PING_TIMEOUT_S", "health_routes", "healthz", "readiness"]

PING_TIMEOUT_S = 2.0

ServicesGetter = Callable[[], "Services | None"]


async def healthz(_request: Request) -> Response:
    """The process is alive."""
    return JSONResponse({"status": "ok"})


async def _store_ok(services: Services) -> bool:
    try:
        async with asyncio.timeout(PING_TIMEOUT_S):
            return await services.store.ping()
    except (TimeoutError, OSError):
        return False


async def readiness(services: Services | None) -> tuple[bool, dict[str, Any]]:
    """Whether the gateway can serve, and the report ``/readyz`` shows."""
    if services is None:
        return False, {"status": "unavailable", "reason": "starting or stopping"}
    store = await _store_ok(services)
    audit = services.audit.healthy
    agencies = {
        name: {"health": http.health().value, "circuit": http.circuit_state.value}
        for name, http in services.http.agencies.items()
    }
    up = [
        name
        for name, http in services.http.agencies.items()
        if http.health() is not AgencyHealth.DOWN  # not known to be failing: worth calling
    ]
    ready = store and audit
    return ready, {
        "status": "ok" if ready else "unavailable",
        "store": "ok" if store else "unreachable",
        "audit": "ok" if audit else "failing",
        "agencies": agencies,
        "agenciesUp": up,
    }


def health_routes(services: ServicesGetter) -> list[Route]:
    """``/healthz`` and ``/readyz`` for an app whose services ``services()`` returns."""

    async def readyz(_request: Request) -> Response:
        ready, report = await readiness(services())
        return JSONResponse(report, status_code=200 if ready else 503)

    return [Route("/healthz", healthz), Route("/readyz", readyz)]
