"""Pages of assistance requests: a case's, and those awaiting a judge's approval.

The approval inbox's rule is ``gateway.assistance.rules.may_approve`` in SQL: the judge
assigned to a case approves its controls, and the court's enforcement bureau head approves
any control of the court's cases. A request in the inbox is one its reader may approve.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.domain.assistance_rows import AssistanceRow, row_from
from gateway.domain.assistance_status import AssistanceStatus
from gateway.store.assistance_tables import assistance_requests
from gateway.store.case_search import CaseScope
from gateway.store.keyset import PageKey, after_key
from gateway.store.tables import case_officers

__all__ = ["awaiting_approval", "requests_of_case"]

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


async def _page(
    query: Select[Any], after: PageKey | None, limit: int, engine: AsyncEngine
) -> list[tuple[PageKey, AssistanceRow]]:
    if after is not None:
        query = query.where(after_key(R.created_at, R.id, after))
    query = query.order_by(R.created_at.desc(), R.id).limit(limit)
    async with engine.connect() as conn:
        rows = [row_from(r._mapping) for r in await conn.execute(query)]
    return [((r.created_at, r.id), r) for r in rows]


async def requests_of_case(
    engine: AsyncEngine,
    case_number: str,
    statuses: Collection[AssistanceStatus] | None,
    after: PageKey | None,
    limit: int,
    *,
    debtor_id: str | None = None,
) -> list[tuple[PageKey, AssistanceRow]]:
    """Up to ``limit`` of a case's requests (with one of ``statuses``; about ``debtor_id``
    only, if given), newest first."""
    query = select(assistance_requests).where(R.case_number == case_number)
    if debtor_id is not None:
        query = query.where(R.debtor_id == debtor_id)
    if statuses is not None:
        query = query.where(R.status.in_(sorted(str(s) for s in statuses)))
    return await _page(query, after, limit, engine)


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
    return await _page(query, after, limit, engine)
