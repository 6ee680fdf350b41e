"""``setCaseCosts``: the enforcement costs and late interest a debtor owes beyond the sum.

The over-seizure guard weighs controls against all that is owed (查扣冻规定 art. 19:
债权额及执行费用; 民诉法 art. 264: doubled interest for late performance); the court states
both figures, and restates them as interest accrues. Only a judge of the case or its court
(or the court's own system) may; each change is an audit step of its own.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.assistance.effects import Actor
from gateway.assistance.rules import is_judge_of
from gateway.errors import Forbidden, InvalidInput
from gateway.store.case_costs import CaseCosts, set_costs
from resolvers.access import authorized_case
from resolvers.assistance import runtime
from resolvers.context import RequestContext
from schema.scalars import Money

__all__ = ["CaseCostsMutation", "CaseCostsPayload"]

_MAX = Decimal("1000000000000.00")


@strawberry.type(description="A case's costs as now stated, and all the debtor owes.")
class CaseCostsPayload:
    case_number: str = strawberry.field(description="The case.")
    enforcement_costs: Money = strawberry.field(
        description="Enforcement costs now on record, in yuan."
    )
    late_interest: Money = strawberry.field(
        description="Late-performance interest now on record, in yuan."
    )
    amount_owed: Money = strawberry.field(
        description="All the debtor owes now: amount due, costs, interest."
    )


def _amount(value: Decimal, field: str) -> Decimal:
    if not Decimal(0) <= value <= _MAX:
        raise InvalidInput(field, "must be between 0 and 1,000,000,000,000.00")
    return value


@strawberry.type
class CaseCostsMutation:
    @strawberry.mutation(
        description="State a case's enforcement costs (执行费) and late-performance interest "
        "(迟延履行利息, 民诉法 art. 264); the over-seizure guard counts them as owed."
    )
    async def set_case_costs(
        self,
        info: Info[RequestContext, None],
        case_number: Annotated[str, strawberry.argument(description="The case.")],
        enforcement_costs: Annotated[
            Money, strawberry.argument(description="Enforcement costs (执行费), in yuan.")
        ],
        late_interest: Annotated[
            Money,
            strawberry.argument(description="Late-performance interest (迟延履行利息), in yuan."),
        ],
    ) -> CaseCostsPayload:
        ctx = info.context
        case = await authorized_case(ctx, case_number)
        actor = Actor.of(ctx.principal, ctx.request_id)
        if not (
            is_judge_of(actor, case)
            or (actor.has_role("court_system") and actor.court == case.court)
        ):
            raise Forbidden("only a judge of the case's court states its costs")
        costs = CaseCosts(
            _amount(enforcement_costs, "enforcementCosts"),
            _amount(late_interest, "lateInterest"),
        )
        assistance = runtime(ctx)
        # On the record before it takes effect: a change that cannot be audited is not made.
        await assistance.effects.record(
            actor,
            "case.costs",
            case_number=case.number,
            debtor_id=None,
            detail={
                "enforcementCosts": str(costs.enforcement_costs),
                "lateInterest": str(costs.late_interest),
            },
        )
        await set_costs(
            assistance.requests.engine,
            case.number,
            costs,
            by=actor.officer_id,
            now=assistance.clock.now(),
        )
        return CaseCostsPayload(
            case_number=case.number,
            enforcement_costs=costs.enforcement_costs,
            late_interest=costs.late_interest,
            amount_owed=costs.owed(case.amount_due),
        )
