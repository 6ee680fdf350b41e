"""Tree heads and proofs of one audit chain as stored (see ``gateway/audit/merkle.py``).

Each writer's chain has its own tree. A *tree head* is ``{"chain": C, "size": N, "root":
hex}``: the Merkle root over the chain hashes of chain C's records 1..N. An inclusion
proof shows record ``seq`` under a head; a consistency proof shows that a later head only
adds records to an earlier one. Proofs are JSON documents that ``check_proof``
(``liandong audit check-proof``) verifies without the log.

The leaves are the stored hashes; that each hash matches its record's contents and the
chain is what ``audit verify`` checks, so a head is worth publishing after a good verify.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from gateway.audit.tables import audit_chains, audit_records

__all__ = ["TreeError", "check_proof", "consistency", "inclusion", "leaves", "tree_head"]

_CHUNK = 50_000  # hashes read per query


class TreeError(ValueError):
    """The log cannot give what was asked (a size past the head, a missing record)."""


async def _head_size(engine: AsyncEngine, chain: str) -> int:
    h = audit_chains.c
    async with engine.connect() as conn:
        seq = (await conn.execute(select(h.seq).where(h.chain == chain))).scalar()
    if seq is None:
        raise TreeError(f"the log holds no chain {chain}")
    return int(seq)


async def leaves(engine: AsyncEngine, chain: str, size: int | None = None) -> list[bytes]:
    """Leaf hashes of ``chain``'s records 1..``size`` (default: up to its head)."""
    head = await _head_size(engine, chain)
    size = head if size is None else size
    if not 0 <= size <= head:
        raise TreeError(f"chain {chain} holds {head} records; there is no tree of {size}")
    out: list[bytes] = []
    r = audit_records.c
    async with engine.connect() as conn:
        while len(out) < size:
            rows = await conn.execute(
                select(r.seq, r.hash)
                .where(r.chain == chain, r.seq > len(out), r.seq <= size)
                .order_by(r.seq)
                .limit(_CHUNK)
            )
            got = 0
            for seq, digest in rows:
                if int(seq) != len(out) + 1:
                    raise TreeError(f"record {len(out) + 1} is missing: run `audit verify`")
                out.append(leaf_hash(bytes.fromhex(str(digest))))
                got += 1
            if not got:
                raise TreeError(f"record {len(out) + 1} is missing: run `audit verify`")
    return out


async def tree_head(engine: AsyncEngine, chain: str, size: int | None = None) -> dict[str, Any]:
    """``{"chain", "size", "root"}`` of ``chain``'s first ``size`` records (default: all)."""
    found = await leaves(engine, chain, size)
    return {"chain": chain, "size": len(found), "root": tree_root(found).hex()}


async def inclusion(
    engine: AsyncEngine, chain: str, seq: int, size: int | None = None
) -> dict[str, Any]:
    """The proof that ``chain``'s record ``seq`` is in its tree of ``size`` records."""
    found = await leaves(engine, chain, size)
    if not 1 <= seq <= len(found):
        raise TreeError(f"record {seq} is not in a tree of {len(found)} records")
    r = audit_records.c
    async with engine.connect() as conn:
        digest = (await conn.execute(select(r.hash).where(r.chain == chain, r.seq == seq))).scalar()
    return {
        "kind": "inclusion",
        "chain": chain,
        "seq": seq,
        "size": len(found),
        "leaf": str(digest),
        "path": [p.hex() for p in inclusion_proof(seq - 1, found)],
        "root": tree_root(found).hex(),
    }


async def consistency(
    engine: AsyncEngine, chain: str, old_size: int, size: int | None = None
) -> dict[str, Any]:
    """The proof that ``chain``'s tree of ``size`` records extends its tree of ``old_size``."""
    found = await leaves(engine, chain, size)
    if not 1 <= old_size <= len(found):
        raise TreeError(f"no tree of {old_size} records inside one of {len(found)}")
    return {
        "kind": "consistency",
        "chain": chain,
        "old_size": old_size,
        "old_root": tree_root(found[:old_size]).hex(),
        "size": len(found),
        "root": tree_root(found).hex(),
        "path": [p.hex() for p in consistency_proof(old_size, found)],
    }


def check_proof(doc: dict[str, Any]) -> bool:
    """Whether a proof document made by ``inclusion`` or ``consistency`` holds.

    It says nothing about whether its roots are the ones published: compare them too.
    """
    try:
        path = [bytes.fromhex(p) for p in doc["path"]]
        root = bytes.fromhex(doc["root"])
        size = int(doc["size"])
        if doc["kind"] == "inclusion":
            seq = int(doc["seq"])
            leaf = leaf_hash(bytes.fromhex(doc["leaf"]))
            return verify_inclusion(leaf, seq - 1, size, path, root)
        if doc["kind"] == "consistency":
            old_root = bytes.fromhex(doc["old_root"])
            return verify_consistency(int(doc["old_size"]), old_root, size, root, path)
    except (KeyError, TypeError, ValueError):
        return False
    return False
