"""The cases a principal may see, filtered and paged: what ``cases(filter:)`` reads.

The same rule as ``resolvers.access.may_see_case``, in SQL: an officer sees the cases they
are assigned to; a judge those they are assigned to and every case of their court; a
court's system every case of its court. Nobody else sees a list.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.domain.case_values import CaseStatus
from gateway.store.keyset import PageKey, after_key
from gateway.store.tables import case_officers, cases

__all__ = ["CaseScope", "CaseSearch", "visible_cases"]

C = cases.c


@dataclass(frozen=True, slots=True)
class CaseScope:
    """Who is asking: their id, court and roles (from the token)."""

    officer_id: str
    court: str
    roles: Collection[str]


@dataclass(frozen=True, slots=True)
class CaseSearch:
    """Every given criterion must hold; text criteria are partial, case-sensitive matches."""

    number: str | None = None
    applicant: str | None = None
    statuses: frozenset[CaseStatus] | None = None


def _assigned(officer_id: str, role: str) -> ColumnElement[bool]:
    mine = select(case_officers.c.case_number).where(
        case_officers.c.officer_id == officer_id, case_officers.c.role == role
    )
    return C.number.in_(mine)


def _visible(scope: CaseScope) -> ColumnElement[bool]:
    allowed: list[ColumnElement[bool]] = []
    if "officer" in scope.roles:
        allowed.append(_assigned(scope.officer_id, "officer"))
    if "judge" in scope.roles:
        allowed += [_assigned(scope.officer_id, "judge"), C.court == scope.court]
    if "court_system" in scope.roles:
        allowed.append(C.court == scope.court)
    return or_(*allowed) if allowed else false()


async def visible_cases(
    engine: AsyncEngine, scope: CaseScope, search: CaseSearch, after: PageKey | None, limit: int
) -> list[tuple[PageKey, str]]:
    """Up to ``limit`` case numbers with their page keys, newest registration first."""
    query = select(C.created_at, C.number).where(_visible(scope))
    if search.number:
        query = query.where(C.number.contains(search.number, autoescape=True))
    if search.applicant:
        query = query.where(C.applicant.contains(search.applicant, autoescape=True))
    if search.statuses is not None:
        query = query.where(C.status.in_(sorted(str(s) for s in search.statuses)))
    if after is not None:
        query = query.where(after_key(C.created_at, C.number, after))
    query = query.order_by(C.created_at.desc(), C.number).limit(limit)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [((created, number), number) for created, number in rows]
