"""The audit log in SQL, with group commit: many requests, one durable transaction.

``append`` encodes its entry (masking, keyed debtor hashes, the canonical JSON), queues it
with a future and waits. One commit is in flight at a time; it takes everything queued (up
to ``max_batch``), locks this writer's own chain's head, seals the records in order
(sequence numbers and hashes are assigned here, so chain order is commit order), inserts
them in one transaction and only then resolves the futures. If the transaction fails,
every waiting ``append`` raises ``AuditUnavailable``: the caller must not answer with data
(fail closed). ``healthy`` turns False until a later write succeeds.

The transaction itself is in ``gateway/audit/writer.py``. SQLite (the default) runs in WAL
mode with ``synchronous=FULL``, so a commit is on disk when it returns; several processes
share one log, each appending to its own chain (``chain``), which from time to time
witnesses the others' heads (``gateway/audit/witness.py``). With ``file_per_writer`` each
chain is kept in a SQLite file of its own beside the log's, read with the others as one log
(``gateway/audit/chain_files.py``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.chain import GENESIS, StoredRecord, Unsealed, seal
from gateway.audit.chain_files import PeerHeads, sqlite_path
from gateway.audit.chain_id import CHAIN_NAME, writer_chain
from gateway.audit.log import AuditEntry, AuditLog
from gateway.audit.opening import open_audit_engine, prepare_tables, writer_database
from gateway.audit.record import prepare, unsealed
from gateway.audit.sqlite_writer import SqliteWriter
from gateway.audit.start_check import HeadSource, head_source
from gateway.audit.witness import WitnessState
from gateway.audit.writer import AsyncWriter, BatchWriter
from gateway.errors import AuditUnavailable
from gateway.settings import Settings

__all__ = [
    "DisabledAuditLog",
    "MemoryAuditLog",
    "SqlAuditLog",
    "open_audit_engine",
    "open_audit_log",
]

logger = logging.getLogger("liandong.audit")


@dataclass(slots=True)
class _Pending:
    record: Unsealed
    future: asyncio.Future[int]


class SqlAuditLog:
    """``AuditLog`` over SQLAlchemy Core; open with ``await SqlAuditLog.open(url, key, chain=…)``.

    No task sits between a request and the disk: a commit starts on the event loop's next
    turn after the first ``append`` that finds none in flight (so it takes everything
    appended in that turn), the writer calls back when it is on disk, and that callback
    resolves the batch's futures and starts the next commit with whatever queued meanwhile.
    A record is answered two turns of the loop plus one commit after it was appended.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        key: bytes,
        writer: BatchWriter,
        *,
        chain: str,
        witness: WitnessState,
        max_batch: int = 256,
        writes_to: str = "",
    ) -> None:
        self.engine = engine  # for readers; the writer has its own connections
        # The database the chain is appended to: the log's own, or the chain's file.
        self.writes_to = writes_to or engine.url.render_as_string(hide_password=False)
        self.key = key
        self.chain = chain  # the chain this log appends to
        self.witness = witness
        self._batches = writer
        self.max_batch = max_batch
        self.commits = 0  # transactions written (group commits)
        self.appended = 0  # records written
        self.commit_seconds = 0.0  # wall time of the commits, start to done, in all
        self._started_at = 0.0
        self._waiting: list[_Pending] = []
        self._in_flight: list[_Pending] | None = None
        self._scheduled = False  # a commit is to start on the loop's next turn
        self._idle = asyncio.Event()
        self._idle.set()
        self._healthy = True
        self._closing = False

    @classmethod
    async def open(
        cls,
        url: str,
        key: bytes,
        *,
        chain: str,
        max_batch: int = 256,
        witness_interval_s: float = 0.25,
        file_per_writer: bool = False,
        commit_on_loop: bool = True,
        heads: HeadSource | None = None,
    ) -> SqlAuditLog:
        """Connect, create missing tables and ``chain``'s head row, open the writer. On
        SQLite with ``file_per_writer``, the chain goes in a file of its own (see
        ``gateway/audit/chain_files.py``). A chain that holds less than the other chains or
        the signed heads at ``heads`` say it held is refused (``AuditChainContradicted``)."""
        if not CHAIN_NAME.fullmatch(chain):
            raise ValueError(f"not an audit chain name: {chain!r}")
        engine = open_audit_engine(url)
        witness = WitnessState(chain, witness_interval_s)
        try:
            if sqlite_path(url) is not None:
                target = await writer_database(
                    url, chain, file_per_writer=file_per_writer, heads=heads
                )
            else:
                await prepare_tables(engine, chain, heads=heads)
                target = url
            writer = writer_for(engine, target, chain, witness, commit_on_loop=commit_on_loop)
            await writer.open()
        except BaseException:
            await engine.dispose()
            raise
        return cls(
            engine,
            key,
            writer,
            chain=chain,
            witness=witness,
            max_batch=max_batch,
            writes_to=target,
        )

    @property
    def records_per_commit(self) -> float:
        """Records written per group commit so far (witness records not counted)."""
        return self.appended / self.commits if self.commits else 0.0

    @property
    def lock_waits(self) -> int:
        """Attempts at the database's write lock that found another process holding it."""
        return int(getattr(self._batches, "lock_waits", 0))

    @property
    def commit_places(self) -> tuple[int, int]:
        """How many ``COMMIT``s ran on the event loop and on a thread (SQLite; 0, 0 else)."""
        return (
            int(getattr(self._batches, "loop_commits", 0)),
            int(getattr(self._batches, "thread_commits", 0)),
        )

    @property
    def commit_phases(self) -> tuple[float, float]:
        """Seconds, in all, that ``COMMIT`` itself took (the sync) and that passed from its
        return to the event loop learning of it (0 for a writer that does not say)."""
        return (
            float(getattr(self._batches, "sync_seconds", 0.0)),
            float(getattr(self._batches, "wake_seconds", 0.0)),
        )

    @property
    def healthy(self) -> bool:
        """False after a failed write (until one succeeds) or once the log is closing."""
        return self._healthy and not self._closing

    async def append(self, entry: AuditEntry) -> int:
        """Add ``entry`` to the next group commit; return its seq once committed."""
        if self._closing:
            raise AuditUnavailable("the audit log is not running")
        try:
            record = unsealed(entry, self.key)
        except (TypeError, ValueError) as exc:
            raise AuditUnavailable("the audit record could not be encoded") from exc
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Pending(record, future))
        self._kick()
        return await future

    async def aclose(self) -> None:
        """Commit what is queued, then release the writer and the connections."""
        if self._closing:
            return
        self._closing = True
        await self._idle.wait()
        await self._batches.aclose()
        await self.engine.dispose()

    def _kick(self) -> None:
        """Start a commit on the loop's next turn: it takes everything appended until then."""
        if self._scheduled or self._in_flight is not None or not self._waiting:
            return
        self._scheduled = True
        self._idle.clear()
        asyncio.get_running_loop().call_soon(self._next)

    def _next(self) -> None:
        self._scheduled = False
        if self._in_flight is not None:
            return  # its callback starts the next one
        if not self._waiting:
            self._idle.set()
            return
        batch = self._waiting[: self.max_batch]
        del self._waiting[: len(batch)]
        self._in_flight = batch
        self._started_at = time.perf_counter()
        try:
            self._batches.start([p.record for p in batch], self._done)
        except Exception as exc:  # the writer failed before it could say so itself
            self._done(exc)

    def _done(self, outcome: list[int] | BaseException) -> None:
        batch, self._in_flight = self._in_flight or [], None
        self.commit_seconds += time.perf_counter() - self._started_at
        try:
            self._settle(batch, outcome)
        finally:
            self._kick()
            if not self._scheduled and self._in_flight is None:
                self._idle.set()

    def _settle(self, batch: list[_Pending], outcome: list[int] | BaseException) -> None:
        if isinstance(outcome, BaseException):
            # Any failure to write means: nothing may be served.
            self._healthy = False
            logger.error(
                "audit log write failed (%s); refusing to serve until it recovers",
                type(outcome).__name__,
            )
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(
                        AuditUnavailable("the audit log cannot be written; nothing was served")
                    )
            return
        if not self._healthy:
            logger.warning("audit log writes recovered")
        self._healthy = True
        self.commits += 1
        self.appended += len(batch)
        for pending, seq in zip(batch, outcome, strict=True):
            if not pending.future.done():  # its request may have gone away meanwhile
                pending.future.set_result(seq)


class MemoryAuditLog:
    """An in-memory chain with the same encoding, for unit tests; never durable."""

    def __init__(self, key: bytes = b"memory-audit-key-0123456789abcdef") -> None:
        self.key = key
        self.records: list[StoredRecord] = []
        self.healthy = True

    async def append(self, entry: AuditEntry) -> int:
        """Seal ``entry`` onto the in-memory chain."""
        if not self.healthy:
            raise AuditUnavailable("the audit log cannot be written; nothing was served")
        prev = self.records[-1].hash if self.records else GENESIS
        record = seal(prepare(entry, self.key), len(self.records) + 1, prev)
        self.records.append(record)
        return record.seq

    async def aclose(self) -> None:
        """Nothing to release."""


class DisabledAuditLog:
    """Records nothing. Only for measuring what the audit log costs; never in production."""

    healthy = True

    def __init__(self) -> None:
        logger.warning(
            "THE AUDIT LOG IS DISABLED (audit.enabled = false): no look-up is being recorded. "
            "This setting exists for benchmarks only and must never be used in production."
        )

    async def append(self, entry: AuditEntry) -> int:
        """Accept and drop ``entry``."""
        return 0

    async def aclose(self) -> None:
        """Nothing to release."""


async def open_audit_log(settings: Settings) -> AuditLog:
    """The audit log the settings ask for: SQL with group commit, or disabled (benchmarks)."""
    if not settings.audit.enabled:
        return DisabledAuditLog()
    key = await asyncio.to_thread(settings.audit_key)  # may create the key file
    chain = await asyncio.to_thread(writer_chain, settings)  # may create the chain id file
    return await SqlAuditLog.open(
        settings.audit.database_url,
        key,
        chain=chain,
        max_batch=settings.audit.max_batch,
        witness_interval_s=settings.audit.witness_interval_s,
        file_per_writer=settings.audit.file_per_writer,
        commit_on_loop=settings.audit.commit_on_loop,
        heads=head_source(settings.heads),
    )


def writer_for(
    engine: AsyncEngine, url: str, chain: str, witness: WitnessState, *, commit_on_loop: bool = True
) -> BatchWriter:
    """The fastest writer of ``chain`` into the database at ``url`` (a chain file or the
    log's main file, which ``engine`` reads)."""
    database = sqlite_path(url)
    main = sqlite_path(engine.url.render_as_string(hide_password=False))
    if database is not None and main is not None:
        # The other chains' heads, to witness, are read across the main file and the
        # chain files beside it, wherever this chain itself is kept.
        return SqliteWriter(
            str(database), chain, witness, peers=PeerHeads(main), commit_on_loop=commit_on_loop
        )
    return AsyncWriter(engine, chain, witness)
