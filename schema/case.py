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
from gateway.store.decision_pages import decisions_of_case
from gateway.store.request_pages import requests_of_case
from resolvers.assistance import runtime
from resolvers.context import RequestContext
from resolvers.handles import handles
from schema.debtor import Debtor
from schema.nested_connections import (
    After,
    First,
    RestrictionDecisionConnection,
    decision_connection,
)
from schema.node import Node
from schema.outside_enums import enum_with_values
from schema.pages import decode_cursor, page_size
from schema.request_connection import AssistanceRequestConnection, request_connection
from schema.scalars import Money

__all__ = ["Case"]

# The connections' names in their cursors: a cursor of one is refused by the other.
_DECISIONS = "Case.restrictionDecisions"
_REQUESTS = "Case.assistanceRequests"

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

    @strawberry.field(
        description="Written decisions on listings and bans, newest first, a page at a time."
    )
    async def restriction_decisions(
        self, info: Info[RequestContext, None], first: First = None, after: After = None
    ) -> RestrictionDecisionConnection:
        size, key = page_size(first), decode_cursor(_DECISIONS, after)
        found = await decisions_of_case(info.context.store.engine, self.number, key, size + 1)
        return decision_connection(_DECISIONS, found, size, key)

    @strawberry.field(
        description="The debtors (被执行人) who are parties to the case, in the order "
        "registered. A plain list, not a connection: the parties are fixed when the case is "
        "filed (a handful, at most a few hundred), so there is never a page to turn."
    )
    def debtors(self) -> list[Debtor]:
        return [
            Debtor(key=debtor_id, kind=kind, case_number=self.number)
            for debtor_id, kind in self.row.debtor_ids
        ]

    @strawberry.field(
        description="The case's assistance requests (协助执行), newest first, a page at a time."
    )
    async def assistance_requests(
        self, info: Info[RequestContext, None], first: First = None, after: After = None
    ) -> AssistanceRequestConnection:
        size, key = page_size(first), decode_cursor(_REQUESTS, after)
        engine = runtime(info.context).requests.engine
        found = await requests_of_case(engine, self.number, None, key, size + 1)
        return request_connection(_REQUESTS, found, size, key)

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
