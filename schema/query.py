"""Look-up root fields: cases and debtors, always through a case number."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway import validation
from gateway.errors import InvalidInput, LiandongError, LimitExceeded
from resolvers.access import authorized_case, authorized_debtors
from resolvers.context import RequestContext
from resolvers.debtor_items import debtor_items
from resolvers.entities import debtor_ids_of
from resolvers.prefetch import prefetch_debtors, prefetch_one, selections_of
from schema.case import Case
from schema.debtor import Debtor

__all__ = ["LookupQuery"]


def _ctx(info: Info[RequestContext, None]) -> RequestContext:
    return info.context


@strawberry.type
class LookupQuery:
    @strawberry.field(description="One case, if you are on it (or a judge of its court).")
    async def case(
        self,
        info: Info[RequestContext, None],
        number: Annotated[
            str,
            strawberry.argument(description="The case number (案号), e.g. （2024）苏0312执1234号."),
        ],
    ) -> Case | None:
        row = await authorized_case(_ctx(info), number, field="number")
        return Case.from_row(row)

    @strawberry.field(
        description="One debtor, through a case the debtor is a party to; `id` is a personal "
        "number or the debtor's `handle` in this case."
    )
    async def debtor(
        self,
        info: Info[RequestContext, None],
        id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="A resident ID, a credit code, or the debtor's handle in this case."
            ),
        ],
        case_number: Annotated[
            str,
            strawberry.argument(description="The case the debtor is a party to: the legal basis."),
        ],
    ) -> Debtor | None:
        ctx = _ctx(info)
        (given,) = debtor_ids_of(ctx, [str(id)], case_number, "id")
        parsed = validation.debtor_id(given, "id")
        case, _ = await authorized_debtors(ctx, [parsed], case_number, field="id")
        # Every agency batch the selection needs leaves now (the spouse's as soon as the
        # marriage is known), and the fields then complete from facts at hand rather than
        # suspending one by one. Each hop waits only for its own agencies: see prefetch_one.
        await prefetch_one(ctx, parsed, *selections_of(info))
        return Debtor(key=parsed[0], kind=parsed[1], case_number=case.number)

    @strawberry.field(
        description="Many debtors of one case at once, batched per agency; each of `ids` is a "
        "personal number or a debtor `handle` of this case. One answer per id, in order: an "
        "id that fails is null at its index, with an error whose path and `field` name it.",
        graphql_type=list[Debtor | None],
    )
    async def debtors(
        self,
        info: Info[RequestContext, None],
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(
                description="Resident IDs, credit codes or handles; at most `maxIds`."
            ),
        ],
        case_number: Annotated[
            str,
            strawberry.argument(
                description="The case the debtors are parties to: the legal basis."
            ),
        ],
    ) -> list[Debtor | LiandongError]:
        ctx = _ctx(info)
        if len(ids) > ctx.max_ids:
            raise LimitExceeded(
                f"ids: at most {ctx.max_ids} ids per call, got {len(ids)}",
                field="ids",
                limit="ids",
                max=ctx.max_ids,
            )
        if not ids:
            raise InvalidInput("ids", "must not be empty")
        # The case is the legal basis of the whole call: refused, it refuses every id.
        case = await authorized_case(ctx, case_number)
        items = debtor_items(ctx, case, [str(i) for i in ids])
        wanted = list(dict.fromkeys(i for i in items if isinstance(i, tuple)))
        await prefetch_debtors(ctx, wanted, *selections_of(info))
        # graphql-core reports an exception in a list as that item's error, at its index.
        return [
            i
            if isinstance(i, LiandongError)
            else Debtor(key=i[0], kind=i[1], case_number=case.number)
            for i in items
        ]
