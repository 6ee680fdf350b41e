"""A writer's check at start: a chain that already existed is never begun again.

A chain's records can be taken away whole: its SQLite file deleted, replaced by an empty one
or by a copy cut short, or (on PostgreSQL) its rows deleted and its head row wound back. A
writer that then began the chain again at record 1 would hide the cut behind fresh records
until someone ran ``liandong audit verify``. So before a writer appends, it asks what
outside its chain says the chain held, and refuses to start when its chain holds less:

- the newest witness record of it by another chain in the same log (``audit.witness``,
  ``gateway/audit/witness.py``): its record ``seq`` must exist with the hash witnessed;
- the newest signed tree head of it at the configured witness (a folder or an HTTP
  witness, ``gateway/audit/witnesses.py``), if its signature holds under the trusted keys:
  the chain must have at least the head's size;
- its own head row, which must match its last record.

It costs a few indexed reads, never a walk of the log: each other chain's newest witness
record of it is looked for among that chain's last records, backwards along its primary
key, where a chain whose writer merely stopped is named. Only a chain no other chain named
lately (a new chain id, an idle writer's empty chain, a chain gone long ago) costs one
grouped pass over the witness claims. Measured on SQLite, 300,000 records in two chain
files, load average ~4 on two shared cores: 4–18 ms for a chain that was witnessed, 69–77 ms
for a new chain id. A witness that cannot be reached is logged and passed over: the court
is not stopped by the witness being down, and ``audit verify`` still checks every head the
witness keeps.

The refusal (``AuditChainContradicted``) names the chain and the evidence and says how to
go on: restore the chain's records, or give the writer a new chain id to begin a new chain
beside the evidence of the old one.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy import Text, func, select, true, type_coerce
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.head_keys import trusted_keys
from gateway.audit.signed_head import HeadFormatError, SignedTreeHead
from gateway.audit.tables import audit_chains, audit_records
from gateway.audit.witness import WITNESS_OPERATION
from gateway.audit.witnesses import WitnessUnavailable, open_witness
from gateway.errors import AuditChainContradicted
from gateway.settings_sections import TreeHeadSettings

__all__ = [
    "Evidence",
    "HeadSource",
    "head_source",
    "newest_claim",
    "newest_signed_head",
    "refuse_quiet_restart",
]

logger = logging.getLogger("liandong.audit")


@dataclass(frozen=True, slots=True)
class HeadSource:
    """Where a chain's signed heads are kept and which keys may sign them."""

    witness: str  # a folder or an http(s):// URL
    key_file: Path | None
    trusted_dir: Path | None
    timeout_s: float = 5.0


@dataclass(frozen=True, slots=True)
class Evidence:
    """Something outside a chain that says it held at least ``seq`` records."""

    seq: int
    said: str  # who says so, for the refusal
    digest: str | None = None  # the hash of record ``seq``, where the evidence names it


def head_source(heads: TreeHeadSettings) -> HeadSource | None:
    """Where a starting writer finds its chain's signed heads (None when heads are off)."""
    if not heads.enabled or not heads.witness:
        return None
    return HeadSource(heads.witness, heads.key_file, heads.trusted_keys_dir, heads.timeout_s)


async def refuse_quiet_restart(
    engine: AsyncEngine, chain: str, source: HeadSource | None = None
) -> None:
    """Raise ``AuditChainContradicted`` when ``chain`` in the log ``engine`` reads (every
    chain of it) holds less than a witness record or a signed head at ``source`` says it
    held, or its head row does not match its last record."""
    state = await _own_state(engine, chain)
    claim = await newest_claim(engine, chain)
    signed = None if source is None else await newest_signed_head(source, chain)
    for evidence in (claim, signed):
        if evidence is not None:
            await _compare(engine, chain, state, evidence)
    if state is not None:
        _check_head_row(chain, *state)


# (head row seq, head row hash, last record's seq or None, its hash)
_State = tuple[int, str, int | None, str | None]


async def _own_state(engine: AsyncEngine, chain: str) -> _State | None:
    h, r = audit_chains.c, audit_records.c
    # One statement, so one snapshot: a writer committing meanwhile moves both together.
    # (A join, not scalar subqueries: SQLite merges the chain files' ordered index reads
    # for a joined subquery, 0.2 ms, but sorts every record of the chain for a scalar one.)
    last = select(r.seq, r.hash).where(r.chain == chain).order_by(r.seq.desc()).limit(1)
    tail = last.subquery()
    query = (
        select(h.seq, h.hash, tail.c.seq, tail.c.hash)
        .select_from(audit_chains.outerjoin(tail, true()))
        .where(h.chain == chain)
    )
    async with engine.connect() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        return None  # records without a head row are prepare_tables' to refuse
    seq, digest, last_seq, last_hash = row
    return int(seq), str(digest), None if last_seq is None else int(last_seq), last_hash


_RECENT = 10_000  # records at the end of each other chain looked at first
_SKEW = timedelta(minutes=5)  # how far instances' clocks may disagree


async def newest_claim(engine: AsyncEngine, chain: str) -> Evidence | None:
    """The furthest the other chains' witness records of ``chain`` reached, if any."""
    h, r = audit_chains.c, audit_records.c
    # Witness details are canonical JSON: {"witness":{"<chain>":[seq,"hash"],...}}. An exact
    # substring, not LIKE: SQLite's LIKE ignores case, and "_" in a chain name is a wildcard.
    find = func.instr if engine.dialect.name == "sqlite" else func.strpos
    needle = f'"{chain}":['
    claims = (r.operation == WITNESS_OPERATION) & (find(type_coerce(r.detail, Text), needle) > 0)
    found: list[Any] = []  # rows: chain, seq, time, detail
    async with engine.connect() as conn:
        others = (await conn.execute(select(h.chain, h.seq).where(h.chain != chain))).all()
        for other, size in others:
            # First each other chain's last records, backwards along its primary key: a
            # chain witnessed until its writer stopped is named there (~1 ms).
            recent = (
                select(r.chain, r.seq, r.time, r.detail)
                .where(r.chain == other, r.seq > int(size) - _RECENT, claims)
                .order_by(r.seq.desc())
                .limit(1)
            )
            found.extend((await conn.execute(recent)).all())
        if len(found) < len(others):
            # The rest in one pass, each chain's newest claim: over everything (a new chain
            # id, or an idle writer's empty chain), else only what is newer than the
            # furthest claim found (a claim reaching further was made after it, clocks
            # allowing). Grouped, not sorted: SQLite then scans (~0.3 µs a record) rather
            # than walking the time index a row at a time.
            rest = select(r.chain, func.max(r.seq)).where(
                r.chain != chain, r.chain.not_in([f.chain for f in found]), claims
            )
            best = max(found, key=lambda f: _reach(f.detail, chain), default=None)
            if best is not None:
                rest = rest.where(r.time >= best.time - _SKEW)
            for other, seq in (await conn.execute(rest.group_by(r.chain))).all():
                at = select(r.chain, r.seq, r.time, r.detail).where(r.chain == other, r.seq == seq)
                found.extend((await conn.execute(at)).all())
    return _furthest(found, chain)


def _reach(detail: Any, chain: str) -> int:
    head = _claim_in(detail, chain)
    return -1 if head is None else head[0]


def _furthest(rows: list[Any], chain: str) -> Evidence | None:
    best: Evidence | None = None
    for row in rows:
        head = _claim_in(row.detail, chain)
        if head is not None and (best is None or head[0] > best.seq):
            said = f"chain {row.chain} record {row.seq} witnessed its record {head[0]}"
            best = Evidence(head[0], said, head[1])
    return best


def _claim_in(detail: Any, chain: str) -> tuple[int, str] | None:
    found = detail.get("witness") if isinstance(detail, dict) else None
    head = found.get(chain) if isinstance(found, dict) else None
    if isinstance(head, list) and len(head) == 2:
        seq, digest = head
        if isinstance(seq, int) and isinstance(digest, str):
            return seq, digest
    return None


async def newest_signed_head(source: HeadSource, chain: str) -> Evidence | None:
    """The newest head of ``chain`` at ``source``, if there is one and its signature holds
    (an older head is not looked for: a forged newest head leaves only the witness records
    as evidence at start, and ``audit verify`` reports it)."""
    witness = open_witness(source.witness, timeout_s=source.timeout_s)
    try:
        heads = await witness.newest()
    except (WitnessUnavailable, HeadFormatError, OSError) as err:
        logger.warning(
            "audit chain %s: the witness %s could not be read at start (%s)",
            chain,
            source.witness,
            err,
        )
        return None
    finally:
        await witness.aclose()
    head = next((h for h in heads if h.chain == chain), None)
    if head is None:
        return None
    keys = await asyncio.to_thread(trusted_keys, source.key_file, source.trusted_dir)
    wrong = head.check(keys)
    if wrong is not None:
        # Anyone who can write to a folder can leave a file there: not evidence, but a
        # matter for `audit verify`, which reports it.
        logger.warning(
            "audit chain %s: the newest head at %s is not evidence: %s",
            chain,
            source.witness,
            wrong,
        )
        return None
    return Evidence(head.size, _signed_by(head, source.witness))


def _signed_by(head: SignedTreeHead, where: str) -> str:
    when = head.time.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"the witness {where} holds its head of {head.size} records signed {when}"


async def _compare(
    engine: AsyncEngine, chain: str, state: _State | None, evidence: Evidence
) -> None:
    if state is None:
        _refuse(chain, evidence, "this log has no head row of it (its file or rows are gone)")
    head_seq = state[0]
    if head_seq < evidence.seq:
        _refuse(chain, evidence, f"the chain here ends at record {head_seq}")
    if evidence.digest is None:
        return
    r = audit_records.c
    async with engine.connect() as conn:
        found = (
            await conn.execute(select(r.hash).where(r.chain == chain, r.seq == evidence.seq))
        ).scalar()
    if found != evidence.digest:
        _refuse(chain, evidence, f"its record {evidence.seq} here is another one")


def _check_head_row(
    chain: str, seq: int, digest: str, last: int | None, last_hash: str | None
) -> None:
    # A head row wound back (or left behind a cut) would make the next record collide with
    # one already there, or leave a gap: the chain was changed under its writer.
    if last is None and seq == 0:
        return
    if last != seq or last_hash != digest:
        ends = "no record" if last is None else f"record {last}"
        raise AuditChainContradicted(
            f"the audit chain {chain} does not match its head row (the head row says record "
            f"{seq}, the records end at {ends}): the chain was changed outside its writer. "
            f"{_HOW}"
        )


_HOW = (
    "The writer will not begin the chain again: run `liandong audit verify` to see what is "
    "missing; to carry on this chain, restore its records (its file in audit.chains/, or its "
    "rows) from a backup; to begin a new chain beside the evidence of this one, give this "
    "writer a new chain id (`[audit] chain_id`, or remove `audit-chain-id` from the data dir)."
)


def _refuse(chain: str, evidence: Evidence, what: str) -> NoReturn:
    raise AuditChainContradicted(
        f"the audit chain {chain} existed before: {evidence.said}, but {what}. {_HOW}"
    )
