"""What signing and checking tree heads need from the log: its chains, their sizes, leaves.

``ChainSource`` is the one seam between signed heads and however the log stores its
chains. ``SqlChainSource`` reads the SQL log: every chain with a head row in
``audit_chains``, or only the one it is given (a writer signs its own chain alone: two
signers of one chain could publish heads whose times and sizes disagree) plus ``frozen``
chains that no writer appends to any more, such as the log from before chains (its head
never moves, so any number of signers agree on it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.merkle import leaf_hash
from gateway.audit.tables import audit_chains, audit_records

__all__ = ["ChainGap", "ChainSource", "SqlChainSource"]

_CHUNK = 20_000  # hashes read per query


class ChainGap(ValueError):
    """A chain misses a record below its stated size."""


class ChainSource(Protocol):
    """Read access to the log's chains, by chain id."""

    async def chains(self) -> list[str]:
        """The ids of every chain in the log."""
        ...

    async def size(self, chain: str) -> int:
        """How many records the chain holds, by its head."""
        ...

    def leaves(self, chain: str, after: int, upto: int) -> AsyncIterator[list[bytes]]:
        """Leaf hashes of records ``after + 1 .. upto``, in order, in chunks; raises
        ``ChainGap`` when one is missing."""
        ...


class SqlChainSource:
    """The SQL log's chains: all of them, or only ``only`` and those of ``frozen`` present."""

    def __init__(
        self, engine: AsyncEngine, only: str | None = None, frozen: tuple[str, ...] = ()
    ) -> None:
        self.engine = engine
        self.only = only
        self.frozen = frozen

    async def chains(self) -> list[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(audit_chains.c.chain).order_by(audit_chains.c.chain))
            every = [str(chain) for (chain,) in rows]
        if self.only is None:
            return every
        return [self.only, *(c for c in every if c in self.frozen and c != self.only)]

    async def size(self, chain: str) -> int:
        h = audit_chains.c
        async with self.engine.connect() as conn:
            seq = (await conn.execute(select(h.seq).where(h.chain == chain))).scalar()
        return int(seq or 0)

    async def leaves(self, chain: str, after: int, upto: int) -> AsyncIterator[list[bytes]]:
        r = audit_records.c
        done = after
        while done < upto:
            async with self.engine.connect() as conn:
                rows = (
                    await conn.execute(
                        select(r.seq, r.hash)
                        .where(r.chain == chain, r.seq > done, r.seq <= upto)
                        .order_by(r.seq)
                        .limit(_CHUNK)
                    )
                ).all()
            chunk: list[bytes] = []
            for seq, digest in rows:
                if int(seq) != done + 1:
                    break
                chunk.append(leaf_hash(bytes.fromhex(str(digest))))
                done += 1
            if chunk:
                yield chunk
            if not rows or len(chunk) < len(rows):
                raise ChainGap(f"chain {chain}: record {done + 1} is missing")
