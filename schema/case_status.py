"""Changing a case's status: full performance ends its restrictions, 终本 schedules re-queries."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.assistance.effects import Actor
from gateway.domain.case_values import CaseStatus
from gateway.errors import NotFound
from resolvers.access import authorized_case
from resolvers.assistance import runtime
from resolvers.context import RequestContext
from schema.assistance_types import AssistanceRequest
from schema.case import Case
from schema.types import Restriction

__all__ = ["CaseStatusMutation", "CaseStatusPayload", "SetCaseStatusInput"]


@strawberry.input(description="A case's new status, with the reason.")
class SetCaseStatusInput:
    case_number: str = strawberry.field(description="The case.")
    status: CaseStatus = strawberry.field(description="The new status.")
    reason: str = strawberry.field(description="Why, in writing; on the record.")
    document_number: str | None = strawberry.field(
        default=None,
        description="FULLY_PERFORMED with exit bans in force: the 协助执行通知书 number "
        "of their lifting (required then).",
    )


@strawberry.type(description="The case as now, and what its new status brought about.")
class CaseStatusPayload:
    case: Case = strawberry.field(description="The case after the change.")
    lifted_restrictions: list[Restriction] = strawberry.field(
        description="Listings deleted and consumption bans lifted (full performance)."
    )
    withdrawn_decisions: list[strawberry.ID] = strawberry.field(
        description="Unsigned decisions the change withdrew."
    )
    assistance_requests: list[AssistanceRequest] = strawberry.field(
        description="Exit-ban lifts sent for approval (full performance)."
    )
    delete_by: date | None = strawberry.field(
        description="The latest day the listing had to be deleted (three working days)."
    )
    requeried_debtors: int = strawberry.field(
        description="Debtors put on the dormant case's six-monthly re-query (终本)."
    )


@strawberry.type
class CaseStatusMutation:
    @strawberry.mutation(
        description="The case's judge, the bureau head or the court system sets its status."
    )
    async def set_case_status(
        self,
        info: Info[RequestContext, None],
        input: Annotated[
            SetCaseStatusInput,
            strawberry.argument(description="The case, its new status and the reason."),
        ],
    ) -> CaseStatusPayload:
        ctx = info.context
        rt = runtime(ctx)
        if rt.cases is None:
            raise NotFound("case status changes are not available on this gateway")
        case = await authorized_case(ctx, input.case_number, field="input.caseNumber")
        ctx.debtors_touched.update(d for d, _ in case.debtor_ids)
        change = await rt.cases.set_status(
            Actor.of(ctx.principal, ctx.request_id),
            case,
            input.status,
            reason=input.reason,
            document_number=input.document_number,
            watches=None if ctx.watch is None else ctx.watch.store,
        )
        return CaseStatusPayload(
            case=Case.from_row(change.case),
            lifted_restrictions=[Restriction.from_row(r) for r in change.lifted],
            withdrawn_decisions=[strawberry.ID(d) for d in change.withdrawn],
            assistance_requests=[AssistanceRequest(row=r) for r in change.requests],
            delete_by=change.delete_by,
            requeried_debtors=len(change.watched),
        )
