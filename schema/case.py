"""``Case`` (执行案件): the legal basis of every look-up."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from gateway.store import CaseRow
from schema.debtor import Debtor
from schema.scalars import Money

__all__ = ["Case"]


@strawberry.type(description="执行案件: an enforcement case registered by its court.")
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
            Debtor(key=debtor_id, debtor_kind=kind, case_number=self.number)
            for debtor_id, kind in self.row.debtor_ids
        ]

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
