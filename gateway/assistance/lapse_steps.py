"""What the lifecycle worker does about lapse (查扣冻规定 art. 27): refuse a renewal whose
control lapsed before it could be sent, and warn, once, of controls about to lapse.

The warning is a ``LAPSING`` event on the control's own timeline (so subscribers to the
case see it like any other step) and an ``assistance.lapsing`` audit record. A control
that a renewal already continues is not warned about: its lapse is being dealt with.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from connectors.control import ControlAction
from gateway.assistance.effects import SYSTEM, AssistanceEffects
from gateway.clock import court_date
from gateway.domain.assistance_rows import row_from
from gateway.domain.assistance_status import AssistanceStatus, EventKind
from gateway.domain.control_lapse import RENEWING_STATUSES, check_renewal_still_in_time
from gateway.errors import InvalidInput
from gateway.store.assistance import AssistanceRow, AssistanceStore
from gateway.store.assistance_tables import assistance_events, assistance_requests

__all__ = ["lapsing_controls", "notice_lapsing", "refuse_lapsed_renewal"]

R = assistance_requests.c
_CONTROLS = [str(a) for a in ControlAction if not a.is_lift]


def _not_renewed() -> ColumnElement[bool]:
    renewal = assistance_requests.alias("renewal")
    return ~exists().where(
        renewal.c.renewal_of == R.id,
        renewal.c.status.in_([str(s) for s in RENEWING_STATUSES]),
    )


def _not_warned() -> ColumnElement[bool]:
    ev = assistance_events.c
    return ~exists().where(ev.request_id == R.id, ev.kind == str(EventKind.LAPSING))


async def lapsing_controls(
    engine: AsyncEngine,
    today: date,
    within_days: int,
    *,
    case_number: str | None = None,
    unwarned_only: bool = False,
    limit: int = 500,
) -> list[AssistanceRow]:
    """Completed, unlifted, unrenewed controls whose term ends within ``within_days``."""
    query = select(assistance_requests).where(
        R.status == str(AssistanceStatus.COMPLETED),
        R.action.in_(_CONTROLS),
        R.lifted_by.is_(None),
        R.until >= today,
        R.until <= today + timedelta(days=within_days),
        _not_renewed(),
    )
    if case_number is not None:
        query = query.where(R.case_number == case_number)
    if unwarned_only:
        query = query.where(_not_warned())
    query = query.order_by(R.until, R.id).limit(limit)
    async with engine.connect() as conn:
        return [row_from(r._mapping) for r in await conn.execute(query)]


async def notice_lapsing(
    requests: AssistanceStore,
    effects: AssistanceEffects,
    now: datetime,
    within_days: int,
    limit: int,
) -> int:
    """Warn once of each control lapsing within ``within_days``; return how many."""
    done = 0
    for row in await lapsing_controls(
        requests.engine, court_date(now), within_days, unwarned_only=True, limit=limit
    ):
        assert row.until is not None
        warned = await requests.note(
            row.id,
            AssistanceStatus.COMPLETED,
            EventKind.LAPSING,
            actor=SYSTEM.officer_id,
            now=now,
            note=f"lapses after {row.until.isoformat()} unless renewed before",
            # Two scans may both have read it as unwarned: one UPDATE still finds it so.
            only_if=_not_warned(),
        )
        if warned is not None:
            await effects.record_step(
                SYSTEM, "assistance.lapsing", warned, until=row.until.isoformat()
            )
            await effects.publish(warned)
            done += 1
    return done


async def refuse_lapsed_renewal(
    requests: AssistanceStore, effects: AssistanceEffects, row: AssistanceRow, now: datetime
) -> bool:
    """End an approved renewal whose control lapsed before it was sent; True if it did."""
    if row.renewal_of is None:
        return False
    try:
        rows = await requests.of_case(row.case_number)
        check_renewal_still_in_time(row, rows, court_date(now), field="renewalOf")
    except InvalidInput as err:
        moved = await requests.transition(
            row.id,
            [AssistanceStatus.APPROVED],
            AssistanceStatus.REJECTED,
            EventKind.REJECTED,
            actor=SYSTEM.officer_id,
            now=now,
            note=err.message,
            values={"reply": err.message},
        )
        if moved is not None:
            await effects.record_step(
                SYSTEM,
                "assistance.renewal_lapsed",
                moved,
                outcome="refused",
                code=err.code,
                rule=err.extra.get("rule"),
            )
            await effects.publish(moved)
        return True
    return False
