"""``Case`` (执行案件): the legal basis of every look-up."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry
from strawberry.types import Info

from gateway.domain.case_values import CaseStatus
from gateway.domain.overseizure import controlled_value
from gateway.store.case_costs import costs_of
from gateway.store.cases import CaseRow
from resolvers.assistance import runtime
from resolvers.context import RequestContext
from resolvers.handles import handles
from schema.assistance_types import AssistanceRequest
from schema.debtor import Debtor
from schema.decisions import RestrictionDecision
from schema.node import Node
from schema.outside_enums import enum_with_values
from schema.scalars import Money

__all__ = ["Case"]

enum_with_values(
    CaseStatus,
    description="Where a case stands: ACTIVE, DORMANT (终本), FULLY_PERFORMED, TERMINATED.",
    values={
        "ACTIVE": "执行中: being enforced.",
        "DORMANT": "终本: closed for now, re-queried every six months for five years.",
        "FULLY_PERFORMED": "执行完毕: paid; listings deleted, bans lifted.",
        "TERMINATED": "终结执行: enforcement ended for good.",
    },
)


@strawberry.federation.type(
    keys=["number"], description="执行案件: an enforcement case registered by its court."
)
class Case(Node):
    number: str = strawberry.field(
        description="The case number (案号), normalised: full-width brackets."
    )
    court: str = strawberry.field(description="The court enforcing it.")
    applicant: str = strawberry.field(description="The applicant for enforcement (申请执行人).")
    amount_due: Money = strawberry.field(description="The sum to enforce (执行标的), in yuan.")
    status: CaseStatus = strawberry.field(description="Where the case stands.")
    filed_on: date | None = strawberry.field(
        description="When the case was filed (立案); null if not registered."
    )
    row: strawberry.Private[CaseRow]

    @strawberry.field(description="The case's node id (opaque, stable): `node(id:)` takes it.")
    def id(self, info: Info[RequestContext, None]) -> strawberry.ID:
        return strawberry.ID(handles(info.context).seal_node("Case", self.number))

    @strawberry.field(description="When the status last changed (null: since registration).")
    def status_since(self) -> date | None:
        return self.row.status_since

    @strawberry.field(description="Security (担保) the debtor gave; null if none.")
    def security(self) -> Money | None:
        return self.row.security

    @strawberry.field(description="Written decisions on listings and bans, oldest first.")
    async def restriction_decisions(
        self, info: Info[RequestContext, None]
    ) -> list[RestrictionDecision]:
        rows = await runtime(info.context).restrictions.decisions.of_case(self.number)
        return [RestrictionDecision.from_row(r) for r in rows]

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
