"""Chains the witness holds no signed head of, though it should.

``check_heads`` checks the heads a witness offers; it cannot see a head that is not there.
Deleting a chain's heads from a folder witness (or pointing verify at an empty one) would
leave that chain checked by its hashes alone, which a tail cut with the head wound back
passes. A gateway signs a chain's first head at its first poll after the chain gains a
record, so a chain whose first record is older than ``grace_s`` and that has no head at
the witness is reported; a younger one may simply not have been signed yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.head_check import HeadProblem
from gateway.audit.signed_head import SignedTreeHead
from gateway.audit.tables import audit_chains, audit_records, record_from_row

__all__ = ["unsigned_chains"]


async def unsigned_chains(
    engine: AsyncEngine,
    heads: Sequence[SignedTreeHead],
    *,
    where: str,
    now: datetime,
    grace_s: float,
) -> list[HeadProblem]:
    """One line per chain with records and no head in ``heads`` (see the module docstring),
    naming the chain and its size."""
    signed = {head.chain for head in heads}
    h, r = audit_chains.c, audit_records.c
    problems: list[HeadProblem] = []
    async with engine.connect() as conn:
        rows = (await conn.execute(select(h.chain, h.seq).where(h.seq > 0))).all()
        for chain, size in sorted((str(c), int(s)) for c, s in rows):
            if chain in signed:
                continue
            first = (
                (await conn.execute(select(audit_records).where(r.chain == chain, r.seq == 1)))
                .mappings()
                .first()
            )
            began = None if first is None else record_from_row(first).time
            if began is not None and now - began < timedelta(seconds=grace_s):
                continue
            since = "record 1 missing" if began is None else f"from {began:%Y-%m-%d %H:%M:%S}Z"
            problems.append(
                HeadProblem(
                    chain,
                    size,
                    f"chain {chain}: {size} records ({since}) and no signed tree head at {where}: "
                    "its heads were removed or never published",
                )
            )
    return problems
