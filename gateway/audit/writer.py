"""Writing one group commit: lock the chain's head, seal the batch in order, insert, move it.

A writer commits one batch at a time: ``start(batch, done)`` begins, and ``done`` is called
on the event loop with the batch's sequence numbers once the commit is on disk, or with
the error that stopped it. Two writers:

- ``SqliteWriter`` (a SQLite file): the stdlib driver, without SQLAlchemy's per-call
  machinery. The transaction runs on the event loop, and so does its ``COMMIT`` (the wait
  for the disk) while that stays under the switch interval (5 ms); a slower one sends the
  commits of the next second to a thread of its own.
- ``AsyncWriter`` (PostgreSQL via asyncpg, any async driver): ``append_batch`` through
  ``AsyncConnection.run_sync`` in a task; ``SELECT … FOR UPDATE`` on the chain's own head
  row (one per writer) serialises only writers that share a chain.

Each writer appends to its own chain and, when its ``WitnessState`` says so, reads the
other chains' head rows (a plain read: no lock) and adds a witness record to the commit
(see ``gateway/audit/witness.py``).

Why SQLite's statements are not on the thread: a thread takes the interpreter lock back
after every statement, and while the event loop is busy each of those waits lasts up to the
switch interval (5 ms). With SQLite's write lock held meanwhile, a transaction that takes
well under a millisecond on its own took 4–10 ms on average under the bench's load (p99
over 30 ms), and the other workers queued behind it. On the loop the statements cost their
CPU and nothing more. The write lock is taken without blocking (``busy_timeout`` 0, another
attempt every millisecond) rather than by SQLite's busy handler, which sleeps 1, 2, 5, 10…
up to 100 ms at a time and so sleeps through most of the moments the lock is free. The loop
hands ``COMMIT`` to the thread and waits (a few microseconds) until the thread has begun
it, so the lock is never held by a thread that is waiting to run.

Why ``COMMIT`` on the loop: the sync takes ~0.1 ms here (8 KiB written and synced), but a
thread needs the interpreter lock back after ``COMMIT`` returns and the loop must then
notice its callback. Measured under the bench's warm load, two workers, a commit took 5.2 ms
from start to done with ``COMMIT`` on the thread: 1.7 ms in ``COMMIT`` (the lock taken back
included) and 2.4 ms from its return to the loop; the disk was a small part of it. On the
loop the sync blocks the loop for as long as it takes and nothing else waits. A ``COMMIT``
slower than the switch interval (what a thread's can wait for the interpreter lock alone)
gets the thread back for a second, so a slow disk never holds the loop for long; ``[audit]
commit_on_loop = false`` keeps every ``COMMIT`` on the thread.

SQLite connections get WAL and ``synchronous=FULL``: a commit is on disk when ``COMMIT``
returns, and only then is ``done`` called. Records arrive encoded (``Unsealed``); under the
lock, sealing is one SHA-256 per record and the inserts are multi-row statements.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sqlalchemy import event, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.chain import Unsealed
from gateway.audit.debtor_sets import KnownSets, insert_members, member_rows
from gateway.audit.tables import (
    audit_chains,
    audit_index,
    audit_records,
    index_keys,
    record_to_row,
)
from gateway.audit.witness import WitnessState
from gateway.store.cases import enable_wal

__all__ = [
    "AsyncWriter",
    "BatchWriter",
    "Done",
    "append_batch",
    "listen_sqlite",
    "prepare_sqlite_connection",
]

WRITER_OPTION = "liandong_audit_writer"  # execution option marking the writer's connections

BUSY_TIMEOUT_S = 10.0  # how long a writer waits for the database's write lock


def prepare_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    """WAL, ``synchronous=FULL``, a busy timeout, and no transactions opened by the driver."""
    # The driver must not open transactions itself: ``_sqlite_begin`` does.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # busy_timeout first: switching to WAL needs a lock, and without a timeout a
        # connection opened while another worker holds it fails at once.
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        enable_wal(cursor)
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get(WRITER_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def listen_sqlite(engine: Engine) -> None:
    """Give a SQLite engine's connections the audit log's pragmas and transaction control."""
    event.listen(engine, "connect", prepare_sqlite_connection)
    event.listen(engine, "begin", _sqlite_begin)


def append_batch(
    conn: Connection,
    batch: Sequence[Unsealed],
    chain: str,
    witness: WitnessState | None = None,
    sets: KnownSets | None = None,
) -> list[int]:
    """Append ``batch`` (and a witness record if one is due) to ``chain``, in one
    transaction; return the batch's sequence numbers."""
    h = audit_chains.c
    with conn.begin():
        head = conn.execute(select(h.seq, h.hash).where(h.chain == chain).with_for_update()).one()
        seq, prev = int(head.seq), str(head.hash)
        extra: list[Unsealed] = []
        if witness is not None and witness.due():
            others = conn.execute(select(h.chain, h.seq, h.hash).where(h.chain != chain))
            found = witness.record((str(c), int(s), str(d)) for c, s, d in others)
            extra = [] if found is None else [found]
        records = []
        for unsealed in [*batch, *extra]:
            seq += 1
            record = unsealed.seal(seq, prev, chain)
            prev = record.hash
            records.append(record)
        conn.execute(insert(audit_records), [record_to_row(r) for r in records])
        rows = [
            {"kind": kind, "value": value, "chain": chain, "seq": r.seq}
            for r in records
            for kind, value in index_keys(r.cases, r.debtor_keys)
        ]
        if rows:
            conn.execute(insert(audit_index), rows)
        known = sets or KnownSets()
        members = known.fresh(r.debtor_keys for r in records)
        if members:
            conn.execute(insert_members(conn.dialect.name), member_rows(members))
        conn.execute(update(audit_chains).where(h.chain == chain).values(seq=seq, hash=prev))
    known.committed()
    return [r.seq for r in records[: len(batch)]]


Done = Callable[[list[int] | BaseException], None]


class BatchWriter(Protocol):
    """Commits one batch at a time, durably, and says when it is done."""

    async def open(self) -> None:
        """Connect (before the first ``start``)."""
        ...

    def start(self, batch: Sequence[Unsealed], done: Done) -> None:
        """Begin committing ``batch``. ``done`` is called later on the event loop, with the
        batch's sequence numbers once it is on disk, or with the error that stopped it."""
        ...

    async def aclose(self) -> None:
        """Release the connections (no batch in flight)."""
        ...


class AsyncWriter:
    """Writes through the async engine (``run_sync`` keeps the statements in one place)."""

    def __init__(self, engine: AsyncEngine, chain: str, witness: WitnessState) -> None:
        self.engine = engine
        self.chain = chain
        self.witness = witness
        self._sets = KnownSets()
        self._task: asyncio.Task[list[int]] | None = None

    async def open(self) -> None:
        """Nothing to open: connections come from the engine's pool."""

    def start(self, batch: Sequence[Unsealed], done: Done) -> None:
        """Commit ``batch`` in a task of its own."""
        self._task = asyncio.get_running_loop().create_task(self._write(batch))

        def finish(task: asyncio.Task[list[int]]) -> None:
            outcome = _outcome(task)
            self.witness.settled(not isinstance(outcome, BaseException))
            done(outcome)

        self._task.add_done_callback(finish)

    async def _write(self, batch: Sequence[Unsealed]) -> list[int]:
        async with self.engine.connect() as conn:
            await conn.execution_options(**{WRITER_OPTION: True})
            return await conn.run_sync(append_batch, batch, self.chain, self.witness, self._sets)

    async def aclose(self) -> None:
        """Nothing of its own to release (the engine belongs to the log)."""


def _outcome(task: asyncio.Task[list[int]]) -> list[int] | BaseException:
    if task.cancelled():
        return asyncio.CancelledError()
    return task.exception() or task.result()
