"""``agencyWorkload``: per agency, how the caller's court's assistance requests stand.

The command centre's "controls sent and done, overdue" figures (联而不动 made visible),
counted by the store over every request of the caller's court in one grouped query. Who may
see it: the court-side roles of ``agencies``; the figures are counts, with no case and no
personal data.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.errors import Forbidden
from gateway.store.agency_workload import AgencyWorkload as Counts
from gateway.store.agency_workload import agency_workload
from resolvers.context import RequestContext
from schema.agencies import AGENCY_VIEWER_ROLES
from schema.types import Agency

__all__ = ["AgencyWorkload", "AgencyWorkloadQuery"]


@strawberry.type(description="One agency's assistance requests from the caller's court.")
class AgencyWorkload:
    agency: Agency = strawberry.field(description="The agency the requests went to.")
    sent: int = strawberry.field(
        description="Requests handed to the agency: SUBMITTED, COMPLETED, QUEUED or FAILED."
    )
    submitted: int = strawberry.field(
        description="Sent and not yet answered (SUBMITTED): the agency is working on them."
    )
    completed: int = strawberry.field(description="Carried out by the agency (COMPLETED).")
    failed: int = strawberry.field(
        description="No answer after every attempt (FAILED); each may be resent."
    )
    queued: int = strawberry.field(
        description="Carried out behind another court's control (QUEUED, 轮候)."
    )
    overdue: int = strawberry.field(
        description="Not answered by the legal deadline (联而不动), as the requests' "
        "`overdue` field counts them; a late request stays counted after it is answered."
    )

    @classmethod
    def of(cls, agency: Agency, counts: Counts | None) -> AgencyWorkload:
        c = counts or Counts(agency=agency.value)
        return cls(
            agency=agency,
            sent=c.sent,
            submitted=c.submitted,
            completed=c.completed,
            failed=c.failed,
            queued=c.queued,
            overdue=c.overdue,
        )


@strawberry.type
class AgencyWorkloadQuery:
    @strawberry.field(
        description="Per agency, the assistance requests of your court: sent, answered, "
        "failed, queued and overdue; every agency is listed, with zeros where none went. "
        "Court roles only."
    )
    async def agency_workload(self, info: Info[RequestContext, None]) -> list[AgencyWorkload]:
        ctx = info.context
        p = ctx.principal
        if not p.has_role(*AGENCY_VIEWER_ROLES):
            raise Forbidden("agency figures are for court roles", field="agencyWorkload")
        runtime = ctx.assistance
        if runtime is None:
            return [AgencyWorkload.of(a, None) for a in Agency]
        found = await agency_workload(runtime.requests.engine, p.court, runtime.clock.now())
        return [AgencyWorkload.of(a, found.get(a.value)) for a in Agency]
