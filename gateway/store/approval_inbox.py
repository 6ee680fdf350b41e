"""Assistance requests awaiting a judge's approval, across the cases they may approve.

The rule is ``gateway.assistance.rules.may_approve`` in SQL: the judge assigned to a case
approves its controls, and the court's enforcement bureau head approves any control of the
court's cases. A request in this inbox is one its reader may actually approve.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.domain.assistance_rows import AssistanceRow, row_from
from gateway.domain.assistance_status import AssistanceStatus
from gateway.store.assistance_tables import assistance_requests
from gateway.store.case_search import CaseScope
from gateway.store.keyset import PageKey, after_key
from gateway.store.tables import case_officers

__all__ = ["awaiting_approval"]

R = assistance_requests.c


def _approvable(scope: CaseScope) -> ColumnElement[bool]:
    if "judge" not in scope.roles:
        return false()
    judged = select(case_officers.c.case_number).where(
        case_officers.c.officer_id == scope.officer_id, case_officers.c.role == "judge"
    )
    allowed: list[ColumnElement[bool]] = [R.case_number.in_(judged)]
    if "bureau_head" in scope.roles:
        allowed.append(R.court == scope.court)
    return or_(*allowed)


async def awaiting_approval(
    engine: AsyncEngine, scope: CaseScope, after: PageKey | None, limit: int
) -> list[tuple[PageKey, AssistanceRow]]:
    """Up to ``limit`` pending requests ``scope`` may approve, newest first, with page keys."""
    query = select(assistance_requests).where(
        R.status == str(AssistanceStatus.PENDING_APPROVAL),
        _approvable(scope),
        # Never by the one who asked (rule JUDGE_APPROVES): not in their own inbox either.
        R.requested_by != scope.officer_id,
    )
    if after is not None:
        query = query.where(after_key(R.created_at, R.id, after))
    query = query.order_by(R.created_at.desc(), R.id).limit(limit)
    async with engine.connect() as conn:
        rows = [row_from(r._mapping) for r in await conn.execute(query)]
    return [((r.created_at, r.id), r) for r in rows]
