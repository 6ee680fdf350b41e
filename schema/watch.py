"""Asset watches: re-query a debtor's assets on a schedule and hear about what changed.

Watching goes through the case like any look-up (``authorized_case``, and the debtor must
be a party to it). The scheduler (``gateway/watch/scheduler.py``) does the re-queries;
``assetDiscovered`` streams the case's events as they are recorded.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from gateway.audit.log import AuditEntry
from gateway.errors import NotFound
from gateway.masking import mask_id, mask_value
from gateway.watch.scheduler import WatchScheduler, asset_topic
from gateway.watch.store import AssetEventRow, WatchRow
from resolvers.access import authorized_case, authorized_party
from resolvers.context import RequestContext
from schema.assets import AssetKind

__all__ = ["AssetDiscovered", "WatchMutation", "WatchSubscription"]


@strawberry.enum(description="How often a watched debtor's assets are looked up again.")
class WatchInterval(enum.Enum):
    _value_: int  # strawberry.enum unwraps each enum_value(...): .value is the plain value

    DAILY = strawberry.enum_value(86400, description="Once a day.")
    WEEKLY = strawberry.enum_value(7 * 86400, description="Once a week.")
    MONTHLY = strawberry.enum_value(30 * 86400, description="Once every 30 days.")


@strawberry.enum(description="What a watch found.")
class AssetChangeKind(enum.Enum):
    NEW_ASSET = strawberry.enum_value("NEW_ASSET", description="An asset not seen on the last run.")
    ENCUMBRANCE_CHANGED = strawberry.enum_value(
        "ENCUMBRANCE_CHANGED", description="A mortgage or another court's seizure changed."
    )
    SEIZURE_LIFTED = strawberry.enum_value(
        "SEIZURE_LIFTED", description="A seizure on the asset was lifted."
    )
    ASSET_GONE = strawberry.enum_value(
        "ASSET_GONE", description="An asset seen before is no longer registered."
    )


@strawberry.type(description="A debtor's assets, looked up again on a schedule.")
class AssetWatch:
    id: strawberry.ID = strawberry.field(description="The watch's id.")
    case_number: str = strawberry.field(description="The case the debtor is watched through.")
    debtor_id: strawberry.ID = strawberry.field(
        description="The debtor (resident ids masked unless you may unmask)."
    )
    interval_seconds: int = strawberry.field(description="Seconds between runs.")
    next_due: datetime = strawberry.field(description="When it runs next.")
    last_run: datetime | None = strawberry.field(
        description="When it last ran; null before the first run."
    )

    @classmethod
    def of(cls, row: WatchRow, unmask: bool) -> AssetWatch:
        return cls(
            id=strawberry.ID(row.id),
            case_number=row.case_number,
            debtor_id=strawberry.ID(row.debtor_id if unmask else mask_id(row.debtor_id)),
            interval_seconds=row.interval_s,
            next_due=row.next_due,
            last_run=row.last_run,
        )


@strawberry.type(description="A change a watch found in a debtor's assets.")
class AssetDiscovered:
    id: strawberry.ID = strawberry.field(description="The event's id.")
    case_number: str = strawberry.field(description="The case of the watch.")
    debtor_id: strawberry.ID = strawberry.field(
        description="The debtor (resident ids masked unless you may unmask)."
    )
    asset_id: str = strawberry.field(
        description="The agency's own id: certificate no., VIN or company code."
    )
    asset_kind: AssetKind = strawberry.field(description="Real estate, vehicle or equity.")
    change: AssetChangeKind = strawberry.field(description="What changed.")
    detail: JSON = strawberry.field(description="The asset before and after.")
    at: datetime = strawberry.field(description="When the watch found it.")

    @classmethod
    def of(cls, row: AssetEventRow, unmask: bool) -> AssetDiscovered:
        return cls(
            id=strawberry.ID(str(row.id)),
            case_number=row.case_number,
            debtor_id=strawberry.ID(row.debtor_id if unmask else mask_id(row.debtor_id)),
            asset_id=row.asset_id,
            asset_kind=AssetKind(row.asset_kind),
            change=AssetChangeKind(row.change),
            detail=cast(JSON, row.detail if unmask else mask_value(row.detail)),
            at=row.at,
        )


def _scheduler(ctx: RequestContext) -> WatchScheduler:
    if ctx.watch is None:
        raise NotFound("asset watches are not available on this gateway")
    return ctx.watch


async def _party(
    info: Info[RequestContext, None], case_number: str, debtor_id: strawberry.ID
) -> tuple[str, str, str]:
    case, debtor = await authorized_party(info.context, case_number, str(debtor_id))
    return case.number, case.court, debtor[0]


@strawberry.type
class WatchMutation:
    @strawberry.mutation(
        description="Look the debtor's assets up again every interval and report changes; "
        "the first run takes the baseline."
    )
    async def watch_debtor(
        self,
        info: Info[RequestContext, None],
        case_number: Annotated[
            str, strawberry.argument(description="The case the debtor is a party to.")
        ],
        debtor_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="A resident ID or credit code of a party to the case."),
        ],
        every: Annotated[
            WatchInterval,
            strawberry.argument(description="How often to re-query the debtor's assets."),
        ] = WatchInterval.MONTHLY,
    ) -> AssetWatch:
        ctx = info.context
        scheduler = _scheduler(ctx)
        number, court, debtor = await _party(info, case_number, debtor_id)
        now = scheduler.clock.now()
        row = await scheduler.store.watch(
            case_number=number,
            court=court,
            debtor_id=debtor,
            interval_s=every.value,
            next_due=now,
            officer=ctx.principal.officer_id,
            now=now,
        )
        return AssetWatch.of(row, ctx.unmask)

    @strawberry.mutation(description="Stop watching; true if there was a watch.")
    async def unwatch_debtor(
        self,
        info: Info[RequestContext, None],
        case_number: Annotated[str, strawberry.argument(description="The case of the watch.")],
        debtor_id: Annotated[strawberry.ID, strawberry.argument(description="The watched debtor.")],
    ) -> bool:
        scheduler = _scheduler(info.context)
        number, _court, debtor = await _party(info, case_number, debtor_id)
        return await scheduler.store.unwatch(number, debtor)


@strawberry.type
class WatchSubscription:
    @strawberry.subscription(
        description="The case's AssetDiscovered events from now on "
        "(graphql-transport-ws; authenticate in connection_init)."
    )
    async def asset_discovered(
        self,
        info: Info[RequestContext, None],
        case_number: Annotated[
            str, strawberry.argument(description="The case whose watched debtors to follow.")
        ],
    ) -> AsyncGenerator[AssetDiscovered, None]:
        ctx = info.context
        scheduler = _scheduler(ctx)
        case = await authorized_case(ctx, case_number)
        if scheduler.bus is None:
            raise NotFound("asset events are not published on this gateway")
        # Websockets bypass the HTTP audit pipeline: the subscription is recorded here, and
        # nothing streams if that fails (AuditUnavailable propagates).
        p = ctx.principal
        await scheduler.audit.append(
            AuditEntry(
                time=scheduler.clock.now(),
                request_id=ctx.request_id,
                principal=p.officer_id,
                court=p.court,
                roles=tuple(sorted(p.roles)),
                case_number=case.number,
                operation="watch.subscribe",
                document_hash=None,
                variables={"caseNumber": case.number},
                debtors=(),
                agencies=(),
                outcome="ok",
            )
        )
        async with scheduler.bus.subscribe(asset_topic(case.number)) as changes:
            # Read after subscribing: an event committed in between is announced or past.
            seen = await scheduler.store.last_event_id(case.number)
            async for _change in changes:
                for event in await scheduler.store.events_after(case.number, seen):
                    seen = event.id
                    yield AssetDiscovered.of(event, ctx.unmask)
