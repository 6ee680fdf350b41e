"""``agencies``: each linked agency's health, circuit state and service figures.

The command centre's view of who "links but does not move" (联而不动): which agency is
failing the court right now (``health``, ``circuitState``) and how it has served this
gateway process (``stats``). Figures are per gateway process, counted since it started;
behind a load balancer, sum ``/metrics`` across processes instead.

Who may see it: every court-side role — ``officer``, ``judge``, ``court_system``, ``admin``
and ``auditor``. The figures hold no personal data and no case, and an officer or a court
system that knows an agency is down can plan around it (a batch re-query can wait for the
circuit to close). Outside parties — the ``agency`` role of joint-punishment screeners,
``subject``, and anonymous callers — get ``FORBIDDEN``: how the court's links perform is
not theirs to watch.
"""

from __future__ import annotations

import enum

import strawberry
from strawberry.types import Info

from connectors.http import AgencyHttp
from gateway.errors import Forbidden
from resolvers.context import RequestContext
from schema.types import Agency

__all__ = ["AGENCY_VIEWER_ROLES", "AgencyHealth", "AgencyQuery", "AgencyStatus", "CircuitState"]

AGENCY_VIEWER_ROLES = ("officer", "judge", "court_system", "admin", "auditor")


@strawberry.enum(description="How an agency is serving this gateway.")
class AgencyHealth(enum.Enum):
    UNKNOWN = strawberry.enum_value("UNKNOWN", description="Not called yet by this process.")
    UP = strawberry.enum_value("UP", description="Answering normally.")
    DEGRADED = strawberry.enum_value(
        "DEGRADED", description="Answering, with errors or timeouts of late."
    )
    DOWN = strawberry.enum_value("DOWN", description="Not answering: its circuit is open.")


@strawberry.enum(description="The agency's circuit breaker: OPEN means it is not being called.")
class CircuitState(enum.Enum):
    CLOSED = strawberry.enum_value("CLOSED", description="Calls go through.")
    OPEN = strawberry.enum_value(
        "OPEN", description="Calls are refused at once (CIRCUIT_OPEN) until a trial is due."
    )
    HALF_OPEN = strawberry.enum_value(
        "HALF_OPEN", description="One trial call decides whether the circuit closes again."
    )


@strawberry.type(description="Calls this gateway process made to one agency, since it started.")
class AgencyStats:
    requests: int = strawberry.field(description="Attempts sent, retries included.")
    errors: int = strawberry.field(description="Attempts that failed: timeout, 5xx, 429, ...")
    timeouts: int = strawberry.field(description="Attempts that got no answer in time.")
    retries: int = strawberry.field(description="Attempts that were retries.")
    short_circuited: int = strawberry.field(description="Calls refused while the circuit was open.")
    in_flight: int = strawberry.field(description="Calls under way right now.")
    p50_ms: float | None = strawberry.field(description="Median response time, recent calls.")
    p95_ms: float | None = strawberry.field(description="95th percentile, recent calls.")


@strawberry.type(description="One linked agency as the command centre sees it.")
class AgencyStatus:
    name: Agency = strawberry.field(description="The agency.")
    health: AgencyHealth = strawberry.field(description="How it has been answering of late.")
    circuit_state: CircuitState = strawberry.field(
        description="Whether calls to it go through (the circuit breaker)."
    )
    stats: AgencyStats = strawberry.field(description="This process's calls to it since start-up.")

    @staticmethod
    def of(http: AgencyHttp) -> AgencyStatus:
        figures = http.stats
        return AgencyStatus(
            name=Agency(http.agency),
            health=AgencyHealth(http.health().value),
            circuit_state=CircuitState(http.circuit_state.value),
            stats=AgencyStats(
                requests=figures.requests,
                errors=figures.errors,
                timeouts=figures.timeouts,
                retries=figures.retries,
                short_circuited=figures.short_circuited,
                in_flight=figures.in_flight,
                p50_ms=_rounded(figures.percentile(0.5)),
                p95_ms=_rounded(figures.percentile(0.95)),
            ),
        )


def _rounded(ms: float | None) -> float | None:
    return None if ms is None else round(ms, 3)


def _known(name: str) -> bool:
    return name in {a.value for a in Agency}


@strawberry.type
class AgencyQuery:
    @strawberry.field(description="Each linked agency: health, circuit state, service figures.")
    def agencies(self, info: Info[RequestContext, None]) -> list[AgencyStatus]:
        ctx = info.context
        if not ctx.principal.has_role(*AGENCY_VIEWER_ROLES):
            raise Forbidden("agency figures are for court roles", field="agencies")
        http = ctx.http
        if http is None:
            return []
        # A third-party connector under a name the Agency enum lacks is left out rather than
        # failing the whole list.
        return [AgencyStatus.of(a) for name, a in http.agencies.items() if _known(name)]
