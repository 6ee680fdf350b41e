"""Look-up root fields: cases and debtors, always through a case number."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway import validation
from gateway.errors import LimitExceeded
from resolvers.access import authorized_case, authorized_debtors
from resolvers.context import RequestContext
from resolvers.entities import debtor_ids_of
from resolvers.prefetch import prefetch_debtors, selection_of
from schema.case import Case
from schema.debtor import Debtor

__all__ = ["LookupQuery"]


def _ctx(info: Info[RequestContext, None]) -> RequestContext:
    return info.context


@strawberry.type
class LookupQuery:
    @strawberry.field(description="One case, if you are on it (or a judge of its court).")
    async def case(self, info: Info[RequestContext, None], number: str) -> Case | None:
        row = await authorized_case(_ctx(info), number, field="number")
        return Case.from_row(row)

    @strawberry.field(
        description="One debtor, through a case the debtor is a party to; `id` is a personal "
        "number or the debtor's `handle` in this case."
    )
    async def debtor(
        self, info: Info[RequestContext, None], id: strawberry.ID, case_number: str
    ) -> Debtor | None:
        ctx = _ctx(info)
        (given,) = debtor_ids_of(ctx, [str(id)], case_number, "id")
        parsed = validation.debtor_id(given, "id")
        case, _ = await authorized_debtors(ctx, [parsed], case_number)
        # No look-ahead for one debtor: measured, it cost more on warm look-ups (one more
        # wait, for the court's restrictions) than it saved.
        return Debtor(key=parsed[0], kind=parsed[1], case_number=case.number)

    @strawberry.field(
        description="Many debtors of one case at once, batched per agency; each of `ids` is a "
        "personal number or a debtor `handle` of this case."
    )
    async def debtors(
        self, info: Info[RequestContext, None], ids: list[strawberry.ID], case_number: str
    ) -> list[Debtor | None]:
        ctx = _ctx(info)
        if len(ids) > ctx.max_ids:
            raise LimitExceeded(
                f"ids: at most {ctx.max_ids} ids per call, got {len(ids)}",
                field="ids",
                limit="ids",
                max=ctx.max_ids,
            )
        given = debtor_ids_of(ctx, [str(i) for i in ids], case_number)
        parsed = validation.id_list(given, "ids", ctx.max_ids)
        case, wanted = await authorized_debtors(ctx, parsed, case_number)
        await prefetch_debtors(ctx, wanted, selection_of(info))
        return [Debtor(key=k, kind=kind, case_number=case.number) for k, kind in wanted]
