"""Checking the log against signed tree heads read from a witness.

For every head: its signature must hold under a trusted key, and the chain it names must,
at the head's size, have the head's root. A tail cut (with or without the head row wound
back), a rewrite of any record below a head, or a head made without the key each fail,
named by chain and size. One walk per chain checks every head of it (``CompactRange``
gives the root at each size on the way).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.audit.chain_source import ChainGap, ChainSource
from gateway.audit.compact_range import CompactRange
from gateway.audit.signed_head import SignedTreeHead

__all__ = ["HeadProblem", "HeadReport", "check_heads"]


@dataclass(frozen=True, slots=True)
class HeadProblem:
    """One head that did not hold (or one missing): its chain, its size, and a line saying
    why that names both."""

    chain: str
    size: int
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class HeadReport:
    """How many heads held, and one line per head that did not (chain and size named)."""

    checked: int
    problems: tuple[HeadProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _at(head: SignedTreeHead) -> str:
    return (
        f"chain {head.chain}, signed head of {head.size} records ({head.time:%Y-%m-%d %H:%M:%S}Z)"
    )


def _problem(head: SignedTreeHead, reason: str) -> HeadProblem:
    return HeadProblem(head.chain, head.size, f"{_at(head)}: {reason}")


async def check_heads(
    source: ChainSource,
    heads: Sequence[SignedTreeHead],
    trusted: Mapping[str, Ed25519PublicKey],
) -> HeadReport:
    """Check the log in ``source`` against ``heads``; see the module docstring."""
    problems: list[HeadProblem] = []
    by_chain: dict[str, list[SignedTreeHead]] = defaultdict(list)
    for head in heads:
        reason = head.check(trusted)
        if reason is None:
            by_chain[head.chain].append(head)
        else:
            problems.append(_problem(head, reason))
    known = set(await source.chains())
    checked = 0
    for chain, signed in sorted(by_chain.items()):
        if chain not in known:
            problems.extend(_problem(h, "the log has no such chain") for h in signed)
            continue
        found, bad = await _check_chain(source, chain, signed)
        checked += found
        problems.extend(bad)
    return HeadReport(checked, tuple(problems))


async def _check_chain(
    source: ChainSource, chain: str, signed: list[SignedTreeHead]
) -> tuple[int, list[HeadProblem]]:
    size = await source.size(chain)
    bad = [
        _problem(h, f"the log's head says {size} records: the tail was cut")
        for h in signed
        if h.size > size
    ]
    wanted: dict[int, list[SignedTreeHead]] = defaultdict(list)
    for head in signed:
        if head.size <= size:
            wanted[head.size].append(head)
    tree = CompactRange()
    good = 0
    last_good = 0
    try:
        for head in wanted.pop(0, []):
            good += _compare(tree, head, last_good, bad)
        upto = max(wanted, default=0)
        async for chunk in source.leaves(chain, 0, upto):
            for leaf in chunk:
                tree.append(leaf)
                for head in wanted.pop(tree.size, []):
                    held = _compare(tree, head, last_good, bad)
                    good += held
                    last_good = tree.size if held else last_good
    except ChainGap as err:
        bad.extend(_problem(h, str(err)) for hs in wanted.values() for h in hs)
    return good, bad


def _compare(
    tree: CompactRange, head: SignedTreeHead, last_good: int, bad: list[HeadProblem]
) -> int:
    if tree.root().hex() == head.root:
        return 1
    where = f"records {last_good + 1}..{head.size}" if last_good else f"records 1..{head.size}"
    bad.append(_problem(head, f"the log's tree differs: one of {where} was changed"))
    return 0
