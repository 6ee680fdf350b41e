"""Per agency, how a court's assistance requests stand: one grouped query over the store.

The command centre's "linked but not acting" (联而不动) figures: what the court sent each
agency, what came back done, failed or queued, and what is past its legal deadline. Counted
in SQL over every request of the court, not per case, so the figures cover the whole court
however many cases it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.domain.assistance_status import AssistanceStatus as S
from gateway.store.assistance_tables import assistance_requests

__all__ = ["SENT_STATUSES", "AgencyWorkload", "agency_workload"]

R = assistance_requests.c

# Handed to the agency: it has the order, whatever it made of it. REJECTED is left out: a
# judge's rejection never reaches the agency, and the two are one status in the store.
SENT_STATUSES = (S.SUBMITTED, S.COMPLETED, S.QUEUED, S.FAILED)


@dataclass(frozen=True, slots=True)
class AgencyWorkload:
    """One agency's requests of one court, by how they stand."""

    agency: str
    sent: int = 0
    submitted: int = 0
    completed: int = 0
    failed: int = 0
    queued: int = 0
    overdue: int = 0


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def overdue_at(now: datetime) -> ColumnElement[bool]:
    """The ``overdue`` field's rule in SQL: marked overdue, or submitted and past deadline.

    The worker marks a late request on its next scan; between the deadline and that scan the
    request is already overdue, as ``AssistanceRequest.overdue`` says.
    """
    late = and_(R.status == str(S.SUBMITTED), R.deadline.is_not(None), R.deadline < now)
    return or_(R.overdue.is_(True), late)


async def agency_workload(
    engine: AsyncEngine, court: str, now: datetime
) -> dict[str, AgencyWorkload]:
    """The court's requests per agency (agencies with none are absent), as at ``now``."""
    query = (
        select(
            R.agency,
            _count(R.status.in_([str(s) for s in SENT_STATUSES])),
            _count(R.status == str(S.SUBMITTED)),
            _count(R.status == str(S.COMPLETED)),
            _count(R.status == str(S.FAILED)),
            _count(R.status == str(S.QUEUED)),
            _count(overdue_at(now)),
        )
        .where(R.court == court)
        .group_by(R.agency)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return {
        agency: AgencyWorkload(
            agency=agency,
            sent=int(sent),
            submitted=int(submitted),
            completed=int(completed),
            failed=int(failed),
            queued=int(queued),
            overdue=int(overdue),
        )
        for agency, sent, submitted, completed, failed, queued, overdue in rows
    }
