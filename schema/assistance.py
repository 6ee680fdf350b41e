"""Root fields of assistance requests: look at them, make and decide them, follow them.

Every field goes through the request's case (``authorized_case``): one sees and acts on a
case's requests only if one may see the case. Who may do what on it (officer, judge, the
court's system) is decided by ``gateway/assistance/service.py``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.assistance.effects import Actor
from gateway.assistance.lapse_steps import lapsing_controls
from gateway.assistance.rules import RequestSpec, TargetFacts
from gateway.domain.assistance_rows import AssistanceRow
from gateway.domain.assistance_status import AssistanceStatus
from gateway.errors import InvalidInput, NotFound
from gateway.events.bus import case_topic
from gateway.store.request_pages import requests_of_case
from resolvers.access import authorized_case, authorized_party
from resolvers.assistance import check_target, runtime
from resolvers.context import RequestContext
from schema.assistance_types import (
    AssistanceEvent,
    AssistanceRequest,
    AssistanceRequestInput,
    AssistanceRequestPayload,
    AssistanceUpdate,
)
from schema.pages import decode_cursor, page_size
from schema.request_connection import AssistanceRequestConnection, request_connection

__all__ = ["AssistanceMutation", "AssistanceQuery", "AssistanceSubscription", "visible_request"]


_CASE_REQUESTS = "assistanceRequests"


def _ctx(info: Info[RequestContext, None]) -> RequestContext:
    return info.context


def _actor(ctx: RequestContext) -> Actor:
    return Actor.of(ctx.principal, ctx.request_id)


async def visible_request(ctx: RequestContext, request_id: str) -> AssistanceRow:
    """The request, if the caller may see its case; ``NOT_FOUND`` or ``FORBIDDEN`` otherwise."""
    row = await runtime(ctx).requests.get(str(request_id))
    if row is None:
        raise NotFound(f"no assistance request {request_id}", field="id")
    await authorized_case(ctx, row.case_number, field="id")
    return row


@strawberry.type
class AssistanceQuery:
    @strawberry.field(description="One assistance request, if you may see its case.")
    async def assistance_request(
        self,
        info: Info[RequestContext, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The request's id.")],
    ) -> AssistanceRequest | None:
        return AssistanceRequest(row=await visible_request(_ctx(info), str(id)))

    @strawberry.field(description="A case's assistance requests, newest first, a page at a time.")
    async def assistance_requests(
        self,
        info: Info[RequestContext, None],
        case_number: Annotated[
            str, strawberry.argument(description="The case whose requests to list.")
        ],
        statuses: Annotated[
            list[AssistanceStatus] | None,
            strawberry.argument(description="Only requests with one of these statuses."),
        ] = None,
        first: Annotated[
            int | None, strawberry.argument(description="Page size: 1 to 100 (default 20).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(description="The `cursor` of the last request of the page before."),
        ] = None,
    ) -> AssistanceRequestConnection:
        ctx = _ctx(info)
        case = await authorized_case(ctx, case_number)
        size = page_size(first)
        key = decode_cursor(_CASE_REQUESTS, after)
        engine = runtime(ctx).requests.engine
        found = await requests_of_case(engine, case.number, statuses, key, size + 1)
        return request_connection(_CASE_REQUESTS, found, size, key)

    @strawberry.field(
        description="A case's controls whose term ends within `withinDays` with no renewal on "
        "its way: renew them before they lapse (查扣冻规定 art. 27), soonest first."
    )
    async def lapsing_controls(
        self,
        info: Info[RequestContext, None],
        case_number: Annotated[
            str, strawberry.argument(description="The case whose controls to check.")
        ],
        within_days: Annotated[
            int, strawberry.argument(description="How far ahead to look, 0 to 3660 days.")
        ] = 30,
    ) -> list[AssistanceRequest]:
        ctx = _ctx(info)
        case = await authorized_case(ctx, case_number)
        if not 0 <= within_days <= 3660:
            raise InvalidInput("withinDays", "must be between 0 and 3660")
        assistance = runtime(ctx)
        rows = await lapsing_controls(
            assistance.requests.engine,
            assistance.clock.today(),
            within_days,
            case_number=case.number,
        )
        return [AssistanceRequest(row=r) for r in rows]


@strawberry.type
class AssistanceMutation:
    @strawberry.mutation(
        description="Ask an agency to act (seize, freeze, ban exit, lift); needs approval."
    )
    async def request_assistance(
        self,
        info: Info[RequestContext, None],
        input: Annotated[
            AssistanceRequestInput,
            strawberry.argument(description="What to ask of which agency, for which case."),
        ],
    ) -> AssistanceRequestPayload:
        ctx = _ctx(info)
        rt = runtime(ctx)
        case, debtor = await authorized_party(
            ctx,
            input.case_number,
            str(input.debtor_id),
            case_field="input.caseNumber",
            debtor_field="input.debtorId",
        )
        spec = RequestSpec(
            case_number=case.number,
            debtor_id=debtor[0],
            action=input.action,
            target=input.target or "",
            document_number=input.document_number,
            since=input.since,
            until=input.until,
            amount=input.amount,
            renewal_of=None if input.renewal_of is None else str(input.renewal_of),
            idempotency_key=input.idempotency_key,
            override_reason=input.override_reason,
        )
        path = info.path.as_list()

        async def look() -> tuple[str, TargetFacts]:
            # Asked of the agency only for a new key: the service answers a replay first.
            return await check_target(
                ctx, case, input.action, debtor=debtor, target=input.target, path=path
            )

        row, created = await rt.service.request(_actor(ctx), case, spec, look)
        return AssistanceRequestPayload(request=AssistanceRequest(row=row), replayed=not created)

    @strawberry.mutation(description="A judge approves a pending request; the worker sends it.")
    async def approve_assistance(
        self,
        info: Info[RequestContext, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The request to approve.")],
        override_reason: Annotated[
            str | None,
            strawberry.argument(
                description="A judge's written reason to pass the over-seizure guard "
                "(OVER_SEIZURE); audited."
            ),
        ] = None,
    ) -> AssistanceRequest:
        ctx = _ctx(info)
        row = await visible_request(ctx, str(id))
        moved = await runtime(ctx).service.approve(_actor(ctx), row.id, override_reason)
        return AssistanceRequest(row=moved)

    @strawberry.mutation(description="A judge rejects a pending request, with a reason.")
    async def reject_assistance(
        self,
        info: Info[RequestContext, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The request to reject.")],
        reason: Annotated[
            str, strawberry.argument(description="Why, in writing; on the request's timeline.")
        ],
    ) -> AssistanceRequest:
        ctx = _ctx(info)
        row = await visible_request(ctx, str(id))
        return AssistanceRequest(row=await runtime(ctx).service.reject(_actor(ctx), row.id, reason))

    @strawberry.mutation(description="Withdraw a request before it is sent.")
    async def cancel_assistance(
        self,
        info: Info[RequestContext, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The request to withdraw.")],
        reason: Annotated[
            str | None,
            strawberry.argument(description="Why, in writing; on the request's timeline."),
        ] = None,
    ) -> AssistanceRequest:
        ctx = _ctx(info)
        row = await visible_request(ctx, str(id))
        return AssistanceRequest(row=await runtime(ctx).service.cancel(_actor(ctx), row.id, reason))

    @strawberry.mutation(
        description="Send a FAILED request again, with the same idempotency key: the agency "
        "answers with the first execution's result if it carried it out, or carries it out "
        "now. Until then a FAILED request counts as holding its value."
    )
    async def resend_assistance(
        self,
        info: Info[RequestContext, None],
        id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The failed request to send again with its key."),
        ],
    ) -> AssistanceRequest:
        ctx = _ctx(info)
        row = await visible_request(ctx, str(id))
        return AssistanceRequest(row=await runtime(ctx).service.resend(_actor(ctx), row.id))


@strawberry.type
class AssistanceSubscription:
    @strawberry.subscription(
        description="Every event of the case's requests, in order, from now on "
        "(graphql-transport-ws; authenticate in connection_init)."
    )
    async def assistance_request_updated(
        self,
        info: Info[RequestContext, None],
        case_number: Annotated[
            str, strawberry.argument(description="The case whose requests to follow.")
        ],
    ) -> AsyncGenerator[AssistanceUpdate, None]:
        ctx = _ctx(info)
        rt = runtime(ctx)
        case = await authorized_case(ctx, case_number)
        await rt.effects.record(
            _actor(ctx), "assistance.subscribe", case_number=case.number, debtor_id=None
        )
        async with rt.bus.subscribe(case_topic(case.number)) as changes:
            # Read after subscribing: an event committed in between is both in the
            # baseline's past or announced by a change, never lost between the two.
            seen = await rt.requests.last_seqs(case.number)
            async for change in changes:
                events = await rt.requests.events(change.request_id, seen.get(change.request_id, 0))
                if not events:
                    continue
                row = await rt.requests.get(change.request_id)
                if row is None:
                    continue
                for event in events:
                    seen[change.request_id] = event.seq
                    yield AssistanceUpdate(
                        event=AssistanceEvent.from_row(event), request=AssistanceRequest(row=row)
                    )
