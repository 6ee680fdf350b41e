"""What a debtor owes beyond the judgment's sum: enforcement costs and late interest.

The over-seizure guard weighs controls against all the debtor must pay (查扣冻规定 art. 19:
债权额及执行费用), which includes the enforcement fee the court charges (执行费) and the
doubled interest for late performance (民诉法 art. 264, 加倍支付迟延履行期间的债务利息).
Both are figures the court states and updates as they accrue; a case without a row owes
nothing beyond its ``amount_due``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, String, Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store.tables import Money, UtcDateTime, metadata

__all__ = ["CaseCosts", "case_costs", "costs_of", "set_costs"]

ZERO = Decimal("0.00")

case_costs = Table(
    "case_costs",
    metadata,
    Column(
        "case_number",
        String(64),
        ForeignKey("cases.number", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("enforcement_costs", Money(), nullable=False),
    Column("late_interest", Money(), nullable=False),
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)


@dataclass(frozen=True, slots=True)
class CaseCosts:
    """Enforcement costs (执行费) and late-performance interest (迟延履行利息) of a case."""

    enforcement_costs: Decimal = ZERO
    late_interest: Decimal = ZERO

    def owed(self, amount_due: Decimal) -> Decimal:
        """All the debtor must pay: the judgment's sum, costs and interest."""
        return amount_due + self.enforcement_costs + self.late_interest


async def costs_of(engine: AsyncEngine, case_number: str) -> CaseCosts:
    """The case's costs; zero for a case the court has stated none for."""
    c = case_costs.c
    query = select(c.enforcement_costs, c.late_interest).where(c.case_number == case_number)
    async with engine.connect() as conn:
        found = (await conn.execute(query)).first()
    return CaseCosts() if found is None else CaseCosts(found[0], found[1])


async def set_costs(
    engine: AsyncEngine, case_number: str, costs: CaseCosts, *, by: str, now: datetime
) -> None:
    """Replace the case's costs (one row per case)."""
    values = {
        "enforcement_costs": costs.enforcement_costs,
        "late_interest": costs.late_interest,
        "updated_by": by,
        "updated_at": now,
    }
    c = case_costs.c
    async with engine.begin() as conn:
        result = await conn.execute(case_costs.update().where(c.case_number == case_number), values)
        if result.rowcount == 0:
            await conn.execute(case_costs.insert(), {"case_number": case_number, **values})
