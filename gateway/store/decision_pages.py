"""Pages of a case's written restriction decisions, newest first (keyset, see ``keyset``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store.decisions import DecisionRow
from gateway.store.keyset import PageKey, after_key
from gateway.store.tables import restriction_decisions

__all__ = ["decisions_of_case"]

D = restriction_decisions.c


async def decisions_of_case(
    engine: AsyncEngine, case_number: str, after: PageKey | None, limit: int
) -> list[tuple[PageKey, DecisionRow]]:
    """Up to ``limit`` of a case's decisions after ``after``, newest first, with page keys."""
    query = select(restriction_decisions).where(D.case_number == case_number)
    if after is not None:
        query = query.where(after_key(D.created_at, D.id, after))
    query = query.order_by(D.created_at.desc(), D.id).limit(limit)
    async with engine.connect() as conn:
        rows = [DecisionRow.of(r._mapping) for r in await conn.execute(query)]
    return [((r.created_at, r.id), r) for r in rows]
