"""The head publisher against an in-memory chain and a witness that is up, down or refusing:
what is signed when, and that nothing signed is lost (counts, never timings)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.audit.head_publisher import HeadPublisher
from gateway.audit.merkle import leaf_hash, tree_root
from gateway.audit.signed_head import SignedTreeHead
from gateway.audit.witnesses import WitnessRefused, WitnessUnavailable

KEY = Ed25519PrivateKey.generate()


class Chain:
    """One chain in memory."""

    def __init__(self) -> None:
        self.hashes: list[bytes] = []

    def add(self, n: int) -> None:
        self.hashes.extend(leaf_hash(bytes([len(self.hashes) % 256, i])) for i in range(n))

    async def chains(self) -> list[str]:
        return ["w-0"]

    async def size(self, chain: str) -> int:
        return len(self.hashes)

    async def leaves(self, chain: str, after: int, upto: int) -> AsyncIterator[list[bytes]]:
        yield self.hashes[after:upto]


class FakeWitness:
    def __init__(self) -> None:
        self.mode = "up"
        self.kept: list[SignedTreeHead] = []
        self.offered = 0

    async def publish(self, head: SignedTreeHead) -> None:
        self.offered += 1
        if self.mode == "down":
            raise WitnessUnavailable("down")
        if self.mode == "refuse":
            raise WitnessRefused("409")
        self.kept.append(head)

    async def heads(self) -> list[SignedTreeHead]:
        return list(self.kept)

    async def newest(self) -> list[SignedTreeHead]:
        return self.kept[-1:]

    async def aclose(self) -> None:
        return None


def publisher(chain: Chain, witness: FakeWitness, outbox: Path, **kw: float) -> HeadPublisher:
    options = {"every_records": 3, "every_s": 3600.0, "poll_s": 0.001, "retry_max_s": 0.001}
    return HeadPublisher(chain, KEY, witness, outbox, **{**options, **kw})  # type: ignore[arg-type]


async def rounds(p: HeadPublisher, n: int = 1) -> None:
    for _ in range(n):
        await asyncio.sleep(0.002)  # past the (tiny) back-off, so each round tries again
        await p.tick()


async def test_a_head_every_n_records_and_a_last_one_at_shutdown(tmp_path: Path) -> None:
    chain, witness = Chain(), FakeWitness()
    p = publisher(chain, witness, tmp_path / "outbox")
    await p.start()
    chain.add(1)
    await rounds(p)  # the first head of a chain is signed at once
    chain.add(2)
    await rounds(p)  # 2 more < every_records: none
    chain.add(1)
    await rounds(p)
    chain.add(1)
    await p.aclose()  # one grown record is enough at shutdown
    assert [h.size for h in witness.kept] == [1, 4, 5]
    assert [h.root for h in witness.kept] == [tree_root(chain.hashes[:n]).hex() for n in (1, 4, 5)]
    assert (p.signed, p.delivered, p.pending) == (3, 3, 0)
    assert not list((tmp_path / "outbox").rglob("*.json"))


async def test_heads_wait_out_a_witness_outage_and_arrive_in_order(tmp_path: Path) -> None:
    chain, witness = Chain(), FakeWitness()
    p = publisher(chain, witness, tmp_path / "outbox")
    witness.mode = "down"
    for _ in range(5):
        chain.add(3)
        await rounds(p)
    assert (p.signed, p.delivered, p.pending) == (5, 0, 5)
    assert p.failures >= 5 and len(list((tmp_path / "outbox").rglob("*.json"))) == 5
    witness.mode = "up"
    await rounds(p)
    assert [h.size for h in witness.kept] == [3, 6, 9, 12, 15]
    assert (p.delivered, p.pending) == (5, 0)


async def test_undelivered_heads_survive_a_restart(tmp_path: Path) -> None:
    chain, witness = Chain(), FakeWitness()
    witness.mode = "down"
    first = publisher(chain, witness, tmp_path / "outbox")
    chain.add(3)
    await rounds(first)
    chain.add(3)
    await rounds(first)
    assert first.pending == 2  # and the process dies here, without aclose
    witness.mode = "up"
    second = publisher(chain, witness, tmp_path / "outbox")
    await second.start()
    assert second.pending == 2
    await second.aclose()  # nothing grew since: no new head, the two old ones delivered
    assert [h.size for h in witness.kept] == [3, 6] and second.signed == 0


async def test_a_refused_head_is_set_aside_not_retried(tmp_path: Path) -> None:
    chain, witness = Chain(), FakeWitness()
    witness.mode = "refuse"
    p = publisher(chain, witness, tmp_path / "outbox")
    chain.add(3)
    await rounds(p, 3)
    assert (p.refused, p.pending, witness.offered) == (1, 0, 1)
    assert len(list((tmp_path / "outbox.refused").rglob("*.json"))) == 1
