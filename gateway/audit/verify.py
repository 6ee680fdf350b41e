"""Walking the whole audit log: every chain, the index beside it, the heads, the witnesses.

The walk reads all head rows first (one statement, so one snapshot) and checks each chain
up to its head, so it can run while gateways keep appending. For each chain it stops at the
first broken record and names it: a gap in ``seq``, a ``prev_hash`` that does not match,
contents that do not match their hash, index rows (or the members of its debtor set) that
do not match their record, a head that does not match the last record, or a record whose
hash differs from an anchor (a ``(chain, seq, hash)`` noted earlier).

Then the witnesses: every chain's witness records say which head of the other chains its
writer had seen (``gateway/audit/witness.py``). The newest claim about each chain must
still hold: the record it names exists and has the hash it names. A tail cut and a head
rewound to match it pass the chain's own checks; they fail this one as soon as another
chain witnessed a record past the cut. (Checking only the newest claim is enough: the hash
chain carries any rewrite up to it into the hash it names.)

Last, ``chain_checks``: further checks run once per good chain with its ``ChainState`` (its
size and head; ``gateway.audit.tree.tree_head(engine, chain, size)`` gives its RFC 6962
root at any size), e.g. against tree heads published elsewhere.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, exists, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.chain import Break, ChainWalker, StoredRecord
from gateway.audit.debtor_sets import unlisted
from gateway.audit.tables import (
    audit_chains,
    audit_index,
    audit_records,
    index_rows,
    record_from_row,
)
from gateway.audit.witness import witness_claims

__all__ = ["ChainCheck", "ChainState", "VerifyReport", "read_heads", "verify_log"]


@dataclass(frozen=True, slots=True)
class ChainState:
    """One chain as the walk found it: its head row and how many records were good."""

    chain: str
    size: int  # the head row's seq: records 1..size make up the chain
    head_hash: str
    checked: int


ChainCheck = Callable[[AsyncEngine, ChainState], Awaitable[Break | None]]


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What a walk found: every chain's state, and each broken chain's first break."""

    chains: tuple[ChainState, ...]
    breaks: tuple[Break, ...]

    @property
    def ok(self) -> bool:
        return not self.breaks

    @property
    def broken(self) -> Break | None:
        """The first break, if any."""
        return self.breaks[0] if self.breaks else None

    @property
    def checked(self) -> int:
        """Good records over all chains."""
        return sum(c.checked for c in self.chains)


@dataclass(slots=True)
class _Claim:
    seq: int
    hash: str
    by_chain: str
    by_seq: int


async def read_heads(engine: AsyncEngine) -> dict[str, tuple[int, str]]:
    """Every chain's head row, ``{chain: (seq, hash)}``, read in one statement."""
    h = audit_chains.c
    async with engine.connect() as conn:
        rows = await conn.execute(select(h.chain, h.seq, h.hash).order_by(h.chain))
        return {str(c): (int(s), str(d)) for c, s, d in rows}


async def verify_log(
    engine: AsyncEngine,
    *,
    anchors: Sequence[tuple[str, int, str]] = (),
    chain_checks: Sequence[ChainCheck] = (),
    chunk: int = 1000,
) -> VerifyReport:
    """Check the log in ``engine``; see the module docstring for what is checked."""
    heads = await read_heads(engine)
    breaks: list[Break] = []
    for chain in await _headless_chains(engine, heads):
        breaks.append(Break(1, "the chain's head row is missing", chain))
    wanted: dict[str, dict[int, str]] = {}
    for chain, seq, digest in anchors:
        wanted.setdefault(chain, {})[seq] = digest
    claims: dict[str, _Claim] = {}
    states: list[ChainState] = []
    for chain, (size, head_hash) in heads.items():
        walker = ChainWalker(chain)
        mine = wanted.pop(chain, {})
        broken = await _walk(engine, walker, size, mine, claims, chunk)
        broken = broken or _check_head(walker, size, head_hash)
        broken = broken or await _stray_index_rows(engine, chain, size)
        if broken is None and mine:
            broken = Break(min(mine), "the anchor names a record past the head", chain)
        states.append(ChainState(chain, size, head_hash, walker.checked))
        if broken is not None:
            breaks.append(broken)
    for chain, seqs in wanted.items():
        breaks.append(Break(min(seqs), "the anchor names a chain the log does not hold", chain))
    breaks += await _check_claims(engine, heads, claims)
    bad = {b.chain for b in breaks}
    for state in states:
        if state.chain in bad:
            continue
        for check in chain_checks:
            found = await check(engine, state)
            if found is not None:
                breaks.append(found)
                break
    return VerifyReport(tuple(states), tuple(breaks))


async def _headless_chains(engine: AsyncEngine, heads: dict[str, tuple[int, str]]) -> list[str]:
    r = audit_records.c
    async with engine.connect() as conn:
        found = {str(c) for c in (await conn.execute(select(r.chain).distinct())).scalars()}
    missing = found - heads.keys()
    if missing:
        # A chain begun after the heads were read has its head row by now.
        missing -= (await read_heads(engine)).keys()
    return sorted(missing)


async def _walk(  # noqa: PLR0917 (one walk's state, passed down once)
    engine: AsyncEngine,
    walker: ChainWalker,
    size: int,
    anchors: dict[int, str],
    claims: dict[str, _Claim],
    chunk: int,
) -> Break | None:
    chain = walker.chain
    r, i = audit_records.c, audit_index.c
    after = 0
    good_sets: set[str] = set()  # debtor sets whose members were found to match
    while after < size:
        async with engine.connect() as conn:
            rows = (
                (
                    await conn.execute(
                        select(audit_records)
                        .where(r.chain == chain, r.seq > after, r.seq <= size)
                        .order_by(r.seq)
                        .limit(chunk)
                    )
                )
                .mappings()
                .all()
            )
            if not rows:
                return None
            records = [record_from_row(row) for row in rows]
            indexed = await conn.execute(
                select(i.kind, i.value, i.seq).where(
                    i.chain == chain, i.seq > after, i.seq <= records[-1].seq
                )
            )
            index = {(str(k), str(v), int(s)) for k, v, s in indexed}
            stray = await unlisted(conn, records, good_sets)
        for record in records:
            broken = (
                walker.inspect(record)
                or _check_index(record, index)
                or _check_anchor(record, anchors)
                or _check_set(record, stray)
            )
            if broken is not None:
                return broken
            walker.accept(record)
            _take_claims(record, claims)
        after = records[-1].seq
        if index:
            # Index rows left over point at records that do not claim them.
            seq = min(s for _, _, s in index)
            return Break(seq, "index rows do not match the record", chain)
    return None


def _take_claims(record: StoredRecord, claims: dict[str, _Claim]) -> None:
    for chain, (seq, digest) in witness_claims(record).items():
        known = claims.get(chain)
        if known is None or seq > known.seq:
            claims[chain] = _Claim(seq, digest, record.chain, record.seq)


def _check_index(record: StoredRecord, index: set[tuple[str, str, int]]) -> Break | None:
    expected = {(row["kind"], row["value"], row["seq"]) for row in index_rows(record)}
    if not expected <= index:
        return Break(record.seq, "index rows do not match the record", record.chain)
    index -= expected
    return None


def _check_set(record: StoredRecord, stray: StoredRecord | None) -> Break | None:
    if stray is not None and stray.seq == record.seq:
        return Break(record.seq, "debtor set rows do not match the record", record.chain)
    return None


def _check_anchor(record: StoredRecord, anchors: dict[int, str]) -> Break | None:
    expected = anchors.pop(record.seq, None)
    if expected is not None and expected != record.hash:
        return Break(record.seq, "hash differs from the anchor", record.chain)
    return None


def _check_head(walker: ChainWalker, size: int, head_hash: str) -> Break | None:
    last = walker.next_seq - 1
    if last < size:
        return Break(last + 1, f"missing (the head says the chain ends at {size})", walker.chain)
    if walker.prev_hash != head_hash:
        return Break(size, "the head's hash does not match the last record", walker.chain)
    return None


async def _check_claims(
    engine: AsyncEngine, heads: dict[str, tuple[int, str]], claims: dict[str, _Claim]
) -> list[Break]:
    breaks: list[Break] = []
    r = audit_records.c
    for chain, claim in sorted(claims.items()):
        by = f"chain {claim.by_chain} record {claim.by_seq} witnessed it"
        size = heads.get(chain, (0, ""))[0]
        if chain not in heads:
            breaks.append(Break(claim.seq, f"the chain is gone ({by})", chain))
            continue
        if claim.seq > size:
            why = f"missing: cut from the tail ({by}; the chain now ends at {size})"
            breaks.append(Break(claim.seq, why, chain))
            continue
        async with engine.connect() as conn:
            found = (
                await conn.execute(select(r.hash).where(r.chain == chain, r.seq == claim.seq))
            ).scalar()
        if found != claim.hash:
            why = (
                f"differs from the hash that chain {claim.by_chain} record {claim.by_seq} witnessed"
            )
            breaks.append(Break(claim.seq, f"rewritten: {why}", chain))
    return breaks


async def _stray_index_rows(engine: AsyncEngine, chain: str, size: int) -> Break | None:
    # Records past the head are simply newer than the walk; index rows pointing at records
    # that do not exist at all would make queries lie.
    i, r = audit_index.c, audit_records.c
    has_record = exists().where(and_(r.chain == i.chain, r.seq == i.seq))
    async with engine.connect() as conn:
        stray = (
            await conn.execute(
                select(i.seq)
                .where(i.chain == chain, i.seq <= size, ~has_record)
                .order_by(i.seq)
                .limit(1)
            )
        ).scalar()
    if stray is None:
        return None
    return Break(int(stray), "index rows point at a missing record", chain)
