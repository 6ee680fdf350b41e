"""An RFC 6962 tree root kept up to date as leaves are appended, in O(log n) memory.

The tree over n leaves is a row of perfect subtrees, one per set bit of n, largest first;
keeping only their roots (a *compact range*) lets a signer follow a growing chain without
re-reading it, and a verifier check roots at many sizes in one walk. ``root()`` equals
``gateway.audit.merkle.tree_root`` over the same leaves (a property test checks it).
"""

from __future__ import annotations

import hashlib

__all__ = ["CompactRange"]


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class CompactRange:
    """The roots of the perfect subtrees covering the leaves appended so far."""

    __slots__ = ("_stack", "size")

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []  # (height, root), tallest first
        self.size = 0

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash (``merkle.leaf_hash`` of the leaf's data)."""
        node, height = leaf, 0
        while self._stack and self._stack[-1][0] == height:
            node = _node(self._stack.pop()[1], node)
            height += 1
        self._stack.append((height, node))
        self.size += 1

    def root(self) -> bytes:
        """MTH of the leaves so far (``SHA-256()`` for none)."""
        if not self._stack:
            return hashlib.sha256(b"").digest()
        node = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            node = _node(left, node)
        return node
