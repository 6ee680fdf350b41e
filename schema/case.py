"""``Case`` (执行案件): the legal basis of every look-up."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry
from strawberry.types import Info

from gateway.overseizure import controlled_value
from gateway.store import CaseRow
from gateway.store_case_costs import costs_of
from resolvers.assistance import runtime
from resolvers.context import RequestContext
from resolvers.entities import case_reference
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
        "seizures and freezes neither lifted nor lapsed; queued ones hold nothing yet)."
    )
    async def controlled_value(self, info: Info[RequestContext, None]) -> Money:
        assistance = runtime(info.context)
        rows = await assistance.requests.of_case(self.number)
        return controlled_value(rows, assistance.clock.today())

    @strawberry.field(
        description="All the debtor owes (查扣冻规定 art. 19): the amount due plus enforcement "
        "costs and late-performance interest (民诉法 art. 264), as the court stated them."
    )
    async def amount_owed(self, info: Info[RequestContext, None]) -> Money:
        engine = runtime(info.context).requests.engine
        return (await costs_of(engine, self.number)).owed(self.row.amount_due)

    @classmethod
    async def resolve_reference(cls, info: Info[RequestContext, None], number: str) -> Case:
        """A federation entity reference ``{number}``: authorised as ``case(number:)``."""
        return cls.from_row(await case_reference(info.context, number))

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
