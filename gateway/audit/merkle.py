"""A Merkle tree over the audit log (RFC 6962 / RFC 9162 §2.1), beside its hash chain.

The chain proves the log unbroken to whoever walks all of it. The tree lets a court prove
more with less: publish a *tree head* (size and root) somewhere the gateway's operators
cannot reach — a letter to the supervising court, another system — and later show that
one record was in the log at that size (an *inclusion proof*: about log2(size) hashes, no
other record revealed), or that the log at a later size only added records to the one
published (a *consistency proof*), the append-only property.

Leaves are the records' chain hashes, in ``seq`` order: leaf ``i`` (0-based) is record
``seq = i + 1``. Hashing is RFC 6962's, with SHA-256: a leaf is ``H(0x00 || data)``, a node
``H(0x01 || left || right)``, the empty tree ``H()``. Written here rather than taken from a
package: the maintained Python implementation is GPL-licensed and pins its own
dependencies; the algorithms are short and fully specified, and the tests check every
proof against the tree's definition.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

__all__ = [
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "tree_root",
    "verify_consistency",
    "verify_inclusion",
]


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf's data."""
    return _h(b"\x00" + data)


def _node(left: bytes, right: bytes) -> bytes:
    return _h(b"\x01" + left + right)


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _root(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    # MTH of leaves[lo:hi] (leaf hashes), by the RFC's definition; the depth is log2(n).
    if hi - lo == 1:
        return leaves[lo]
    k = _split(hi - lo)
    return _node(_root(leaves, lo, lo + k), _root(leaves, lo + k, hi))


def tree_root(leaves: Sequence[bytes]) -> bytes:
    """MTH: the root of the tree over ``leaves`` (leaf hashes, see ``leaf_hash``)."""
    return _root(leaves, 0, len(leaves)) if leaves else _h(b"")


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(index, leaves): the audit path of leaf ``index`` (0-based) in the tree."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is not in a tree of {len(leaves)}")
    path: list[bytes] = []
    lo, hi = 0, len(leaves)
    while hi - lo > 1:  # walk down from the root; siblings are collected bottom-up below
        k = _split(hi - lo)
        if index < lo + k:
            path.append(_root(leaves, lo + k, hi))
            hi = lo + k
        else:
            path.append(_root(leaves, lo, lo + k))
            lo = lo + k
    return path[::-1]


def consistency_proof(old_size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(old_size, leaves): that the first ``old_size`` leaves are a prefix of the tree."""
    n = len(leaves)
    if not 0 < old_size <= n:
        raise ValueError(f"no consistency proof from size {old_size} to {n}")
    return _subproof(leaves, old_size, 0, n, True)


def _subproof(leaves: Sequence[bytes], m: int, lo: int, hi: int, whole: bool) -> list[bytes]:
    # SUBPROOF(m, leaves[lo:hi], whole) of RFC 6962 §2.1.2.
    n = hi - lo
    if m == n:
        return [] if whole else [_root(leaves, lo, hi)]
    k = _split(n)
    if m <= k:
        return [*_subproof(leaves, m, lo, lo + k, whole), _root(leaves, lo + k, hi)]
    return [*_subproof(leaves, m - k, lo + k, hi, False), _root(leaves, lo, lo + k)]


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``path`` proves the leaf hash ``leaf`` at ``index`` in the tree ``(size, root)``
    (RFC 9162 §2.1.3.2)."""
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _node(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, old_root: bytes, size: int, root: bytes, path: Sequence[bytes]
) -> bool:
    """Whether ``path`` proves the tree ``(size, root)`` extends ``(old_size, old_root)``
    (RFC 9162 §2.1.4.2)."""
    if not 0 < old_size <= size:
        return False
    if old_size == size:
        return not path and old_root == root
    if not path:
        return False
    proof = list(path)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node
        proof.insert(0, old_root)
    fn, sn = old_size - 1, size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _node(c, fr)
            sr = _node(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == root
