"""Signing each chain's tree head on a cadence and handing it to the witness, off the
request path.

Every ``poll_s`` the publisher reads each chain's size; a chain whose size grew by
``every_records``, or grew at all ``every_s`` after its last head, gets a new head: its
root is kept current by a ``CompactRange`` (only new leaves are read), the head is signed
and written to the outbox folder first, then offered to the witness. On shutdown a last
head is signed for every chain that grew since its previous one.

Requests never wait on any of this. A witness that is down or slow only delays delivery:
undelivered heads stay in the outbox (on disk, so a restart keeps them) and are offered
again, oldest first, after a back-off doubling up to ``retry_max_s``; the outbox grows by
at most one head per chain per ``every_s`` however long the outage lasts, and
``pending`` says how many wait. A head the witness refuses for good (it contradicts one it
holds: the log was cut or rewritten) is moved to ``<outbox>.refused`` and logged as an
error; it is never retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.audit.chain_source import ChainSource
from gateway.audit.compact_range import CompactRange
from gateway.audit.signed_head import SignedTreeHead, TreeHead, sign_head
from gateway.audit.witnesses import (
    DirectoryWitness,
    Witness,
    WitnessRefused,
    WitnessUnavailable,
)

__all__ = ["HeadPublisher"]

log = logging.getLogger("liandong.audit.heads")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class HeadPublisher:
    """Signs chains' heads and delivers them; see the module docstring."""

    def __init__(
        self,
        source: ChainSource,
        key: Ed25519PrivateKey,
        witness: Witness,
        outbox: Path,
        *,
        every_records: int = 1000,
        every_s: float = 60.0,
        poll_s: float = 1.0,
        retry_max_s: float = 30.0,
        now: Callable[[], datetime] = _utc_now,
        on_close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.source = source
        self.witness = witness
        self.outbox = DirectoryWitness(outbox)
        self.every_records = every_records
        self.every_s = every_s
        self.poll_s = poll_s
        self.retry_max_s = retry_max_s
        self._key = key
        self._now = now
        self._on_close = on_close  # releases what the source reads through
        self._trees: dict[str, CompactRange] = {}
        self._last: dict[str, tuple[int, float]] = {}  # chain -> (size signed, loop time)
        self._pending: list[SignedTreeHead] = []
        self._backoff = 0.0
        self._retry_at = 0.0
        self._task: asyncio.Task[None] | None = None
        self._sign_failing = False
        self._round = asyncio.Lock()
        self._shrunk: set[str] = set()  # chains seen below their last head (a cut)
        # Counters for tests and operators.
        self.signed = 0
        self.delivered = 0
        self.refused = 0
        self.failures = 0  # delivery attempts that found the witness unavailable

    @property
    def pending(self) -> int:
        """Heads signed but not yet delivered."""
        return len(self._pending)

    async def start(self) -> None:
        """Take up heads a previous run left undelivered, then start the loop."""
        left = await self.outbox.heads()
        self._pending = sorted(left, key=lambda h: (h.time, h.chain, h.size))
        for head in self._pending:  # never sign below what was already signed
            self._last[head.chain] = max(self._last.get(head.chain, (0, 0.0)), (head.size, 0.0))
        self._task = asyncio.create_task(self._run(), name="tree-head-publisher")

    async def aclose(self, *, timeout_s: float = 5.0) -> None:
        """Stop the loop, sign a last head of every chain that grew, try to deliver."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            self._retry_at = 0.0  # one last attempt whatever the back-off says
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout_s):
                    await self.tick(final=True)
        await self.witness.aclose()
        if self._on_close is not None:
            await self._on_close()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)  # first: start-up has better things to do
            await self.tick()

    async def tick(self, *, final: bool = False) -> None:
        """One round: sign the heads that are due, then deliver what waits."""
        async with self._round:  # one round at a time, whoever calls
            await self._tick(final)

    async def _tick(self, final: bool) -> None:
        try:
            await self._sign_due(final)
        except Exception:  # the log is unreadable for now; the next round tries again
            if not self._sign_failing:  # said once per streak, not once per poll
                log.exception("tree heads could not be signed")
            self._sign_failing = True
        else:
            self._sign_failing = False
        await self._deliver()

    async def _sign_due(self, final: bool) -> None:
        loop = asyncio.get_running_loop()
        for chain in await self.source.chains():
            size = await self.source.size(chain)
            last_size, last_at = self._last.get(chain, (0, float("-inf")))
            if size <= last_size:
                if size < last_size and chain not in self._shrunk:  # said once, not per poll
                    self._shrunk.add(chain)
                    log.error(
                        "chain %s holds %d records, below its head of %d", chain, size, last_size
                    )
                continue
            grown = size - last_size >= self.every_records
            if not (final or grown or loop.time() - last_at >= self.every_s):
                continue
            tree = self._trees.setdefault(chain, CompactRange())
            async for chunk in self.source.leaves(chain, tree.size, size):
                for leaf in chunk:
                    tree.append(leaf)
            head = sign_head(TreeHead(chain, size, tree.root().hex(), self._now()), self._key)
            await self.outbox.publish(head)  # on disk before anyone is told of it
            self._pending.append(head)
            self._last[chain] = (size, loop.time())
            self.signed += 1

    async def _deliver(self) -> None:
        loop = asyncio.get_running_loop()
        if not self._pending or loop.time() < self._retry_at:
            return
        while self._pending:
            head = self._pending[0]
            try:
                await self.witness.publish(head)
            except WitnessUnavailable as err:
                self.failures += 1
                if not self._backoff:
                    log.warning("witness unavailable, heads kept in the outbox: %s", err)
                self._backoff = min(self.retry_max_s, max(self.poll_s, self._backoff * 2))
                self._retry_at = loop.time() + self._backoff
                return
            except WitnessRefused as err:
                self.refused += 1
                log.error(
                    "witness refused the head of chain %s at %d: %s", head.chain, head.size, err
                )
                await asyncio.to_thread(self._set_aside, head)
            else:
                self.delivered += 1
                if self._backoff:
                    log.warning("witness reachable again; %d heads wait", len(self._pending) - 1)
                self._backoff = 0.0
                await asyncio.to_thread(self.outbox.path_of(head).unlink, missing_ok=True)
            self._pending.pop(0)

    def _set_aside(self, head: SignedTreeHead) -> None:
        source = self.outbox.path_of(head)
        target = self.outbox.root.with_name(self.outbox.root.name + ".refused") / head.chain
        target.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            shutil.move(source, target / source.name)
