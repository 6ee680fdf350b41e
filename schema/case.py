"""``Case`` (执行案件): the legal basis of every look-up."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry
from strawberry.types import Info

from gateway.overseizure import controlled_value
from gateway.store import CaseRow
from resolvers.assistance import runtime
from resolvers.context import RequestContext
from schema.assistance_types import AssistanceRequest
from schema.debtor import Debtor
from schema.scalars import Money

__all__ = ["Case"]


@strawberry.federation.type(
    keys=["number"], description="执行案件: an enforcement case registered by its court."
)
class Case:
    number: str
    court: str
    applicant: str
    amount_due: Money
    status: str
    filed_on: date | None
    row: strawberry.Private[CaseRow]

    @strawberry.field(description="The debtors (被执行人) who are parties to the case.")
    def debtors(self) -> list[Debtor]:
        return [
            Debtor(key=debtor_id, kind=kind, case_number=self.number)
            for debtor_id, kind in self.row.debtor_ids
        ]

    @strawberry.field(description="The case's assistance requests (协助执行), oldest first.")
    async def assistance_requests(
        self, info: Info[RequestContext, None]
    ) -> list[AssistanceRequest]:
        rows = await runtime(info.context).requests.of_case(self.number)
        return [AssistanceRequest(row=r) for r in rows]

    @strawberry.field(
        description="Estimated value under effective control for the case (completed "
        "seizures and freezes not lifted; queued ones hold nothing yet)."
    )
    async def controlled_value(self, info: Info[RequestContext, None]) -> Money:
        return controlled_value(await runtime(info.context).requests.of_case(self.number))

    @staticmethod
    def from_row(row: CaseRow) -> Case:
        amount: Decimal = row.amount_due
        return Case(
            number=row.number,
            court=row.court,
            applicant=row.applicant,
            amount_due=amount,
            status=row.status,
            filed_on=row.filed_on,
            row=row,
        )
