"""The audit log's group commit on a SQLite file: the ``SqliteWriter``.

Why its statements run on the event loop, and ``COMMIT`` too unless the disk is slow (then
on a thread of its own), is told in ``gateway.audit.writer``, beside the ``BatchWriter``
protocol it keeps.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import operator
import sqlite3
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Dialect

from gateway.audit.chain import JSON_FIELDS, Unsealed
from gateway.audit.chain_files import PeerHeads
from gateway.audit.debtor_sets import KnownSets, insert_members
from gateway.audit.tables import (
    JsonText,
    audit_chains,
    audit_index,
    audit_records,
    index_keys,
)
from gateway.audit.witness import WitnessState
from gateway.audit.writer import BUSY_TIMEOUT_S, Done, prepare_sqlite_connection

__all__ = ["SqliteWriter"]

_LOCK_POLL_S = 0.001  # between attempts at the write lock
_HANDOFF_S = 0.01  # at most this long the loop waits for the thread to start a COMMIT
# A COMMIT on the loop slower than this uses the thread for a while: the switch interval,
# which is what a thread's COMMIT can wait for the interpreter lock after it returns.
_LOOP_COMMIT_MAX_S = sys.getswitchinterval()
_THREAD_SPELL_S = 1.0  # for this long
_ROWS_PER_INSERT = 32  # records per INSERT statement (21 variables each)
_INDEX_PER_INSERT = 128  # index rows per INSERT statement (3 variables each)
_MEMBERS_PER_INSERT = 256  # debtor set members per INSERT statement (2 variables each)
_SQLITE_BUSY = 5
_SEALED = ("chain", "seq", "prev_hash", "hash")  # filled in under the lock
_BLANK = object()
_JSON = object()

# One record's audit_records parameters (seq and hashes still None) and its index keys.
_Row = tuple[Unsealed, list[Any], list[tuple[str, str]]]


def _as_is(value: Any) -> Any:
    return value


class _Compiled:
    """A Core statement compiled once for SQLite, with its parameter order and converters."""

    def __init__(self, stmt: Any, dialect: Dialect) -> None:
        compiled = stmt.compile(dialect=dialect)
        self.sql = str(compiled)
        self.names = list(compiled.positiontup or ())
        columns = {c.key: c for c in getattr(stmt, "table", audit_chains).columns}
        self.converters = [
            columns[n].type.bind_processor(dialect) if n in columns else None for n in self.names
        ]

    def params(self, values: Mapping[str, Any]) -> list[Any]:
        """Parameters in statement order from ``values``."""
        return [
            values[n] if convert is None else convert(values[n])
            for n, convert in zip(self.names, self.converters, strict=True)
        ]


class _MultiRow:
    """``INSERT … VALUES (…), (…), …`` for any number of rows, from a one-row statement."""

    def __init__(self, one_row: str, per_statement: int) -> None:
        head, sep, values = one_row.partition(" VALUES ")
        if not sep:
            raise ValueError(f"not a one-row INSERT: {one_row}")
        self._head, self._values = head + sep, values
        self.per_statement = per_statement
        self._sql: dict[int, str] = {}

    def sql(self, rows: int) -> str:
        found = self._sql.get(rows)
        if found is None:
            found = self._sql[rows] = self._head + ", ".join([self._values] * rows)
        return found

    def execute(self, db: sqlite3.Connection, rows: Sequence[Sequence[Any]]) -> None:
        step = self.per_statement
        for start in range(0, len(rows), step):
            chunk = rows[start : start + step]
            db.execute(self.sql(len(chunk)), [v for row in chunk for v in row])


def _commit_or_rollback(db: sqlite3.Connection, seqs: list[int]) -> list[int] | BaseException:
    """``COMMIT``: ``seqs`` once it is on disk, else the error, what is left rolled back."""
    try:
        db.execute("COMMIT")
    except BaseException as exc:
        with contextlib.suppress(sqlite3.Error):
            if db.in_transaction:
                db.execute("ROLLBACK")
        return exc
    return seqs


def _is_busy(exc: Exception) -> bool:
    """SQLITE_BUSY or one of its extended codes: another connection holds the lock."""
    return isinstance(exc, sqlite3.OperationalError) and exc.sqlite_errorcode & 0xFF == _SQLITE_BUSY


class SqliteWriter:
    """Writes a SQLite file through the stdlib driver; see the module docstring.

    The statements are Core's, compiled once for SQLite with Core's own type converters;
    only their execution skips SQLAlchemy's per-call machinery, which costs several times
    what SQLite needs for a small commit (measured: ~0.7 ms against ~0.15 ms of CPU).
    """

    def __init__(
        self,
        path: str,
        chain: str,
        witness: WitnessState,
        *,
        busy_timeout_s: float = BUSY_TIMEOUT_S,
        peers: PeerHeads | None = None,
        commit_on_loop: bool = True,
    ) -> None:
        self._path = path
        self.chain = chain
        self.witness = witness
        # Reads the heads of chains kept in other files; without it, those of this file.
        self._peers = peers
        self.busy_timeout_s = busy_timeout_s
        self.lock_waits = 0  # attempts at the write lock that found it taken
        self.sync_seconds = 0.0  # time spent in COMMIT
        self.wake_seconds = 0.0  # from a thread's COMMIT returning to ``done`` on the loop
        self.slow_commits = 0  # COMMITs on the loop slower than _LOOP_COMMIT_MAX_S
        self.loop_commits = 0  # COMMITs run on the event loop
        self.thread_commits = 0  # COMMITs handed to the commit thread
        self._on_loop = commit_on_loop
        self._thread_until = 0.0  # monotonic time until which COMMIT goes to the thread
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="audit-commit"
        )
        self._db: sqlite3.Connection | None = None
        dialect = sqlite_dialect.dialect()
        h = audit_chains.c
        self._head = _Compiled(select(h.seq, h.hash).where(h.chain == bindparam("at")), dialect)
        self._others = _Compiled(
            select(h.chain, h.seq, h.hash).where(h.chain != bindparam("at")), dialect
        )
        self._record = _Compiled(insert(audit_records), dialect)
        self._records = _MultiRow(self._record.sql, _ROWS_PER_INSERT)
        index = _Compiled(insert(audit_index), dialect)
        if index.names != ["kind", "value", "chain", "seq"] or any(index.converters):
            raise RuntimeError(f"unexpected audit_index columns: {index.names}")
        self._index = _MultiRow(index.sql, _INDEX_PER_INSERT)
        self._sets = KnownSets()
        self._members = _MultiRow(
            str(insert_members("sqlite").compile(dialect=dialect)), _MEMBERS_PER_INSERT
        )
        self._move = _Compiled(
            update(audit_chains)
            .where(h.chain == bindparam("at"))
            .values(seq=bindparam("new_seq"), hash=bindparam("new_hash")),
            dialect,
        )
        # How each column of audit_records gets its value: filled in under the lock (seq and
        # the hashes), the field's canonical JSON (JsonText columns: the same text Core's
        # converter would make), or the field through Core's converter for SQLite.
        self._columns: list[tuple[str, Any]] = []
        for name, convert in zip(self._record.names, self._record.converters, strict=True):
            if name in _SEALED:
                if convert is not None:
                    raise RuntimeError("chain, seq and hashes are expected to bind as they are")
                how: Any = _BLANK
            elif isinstance(audit_records.c[name].type, JsonText):
                if name not in JSON_FIELDS:
                    raise RuntimeError(f"audit_records.{name} is JSON text the record lacks")
                how = _JSON
            else:
                how = convert or _as_is
            self._columns.append((name, how))
        self._slots = tuple(self._record.names.index(n) for n in _SEALED)
        # ``_encode``'s plan: one row as a dict (the sealed columns blank until the lock),
        # the JSON columns as their text, the few converted columns, picked in order at once.
        self._blank_row = dict.fromkeys(_SEALED)
        self._json_columns = tuple(n for n, how in self._columns if how is _JSON)
        self._converted = tuple(
            (n, how)
            for n, how in self._columns
            if how is not _BLANK and how is not _JSON and how is not _as_is
        )
        self._pick = operator.itemgetter(*self._record.names)

    # -- on the commit thread -------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(
            self._path, isolation_level=None, check_same_thread=False, cached_statements=256
        )
        try:
            prepare_sqlite_connection(db, None)
            # From here on the write lock is waited for by ``_begin``, on the event loop.
            db.execute("PRAGMA busy_timeout=0")
            # A multi-row INSERT inside a transaction keeps a statement journal; past 64 KiB
            # SQLite spills it to a temporary file (open, write, unlink on every commit).
            db.execute("PRAGMA temp_store=MEMORY")
        except BaseException:
            db.close()
            raise
        return db

    def _commit(
        self,
        db: sqlite3.Connection,
        started: threading.Event,
        seqs: list[int],
        done: Done,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        started.set()
        began = time.perf_counter()
        outcome = _commit_or_rollback(db, seqs)
        ended = time.perf_counter()
        self.sync_seconds += ended - began  # only this thread adds to it
        loop.call_soon_threadsafe(self._woken, ended, done, outcome)

    def _woken(self, ended: float, done: Done, outcome: list[int] | BaseException) -> None:
        self.wake_seconds += time.perf_counter() - ended
        done(outcome)

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._peers is not None:
            self._peers.close()

    # -- on the event loop ----------------------------------------------------------------

    async def open(self) -> None:
        """Open the connection (on the commit thread: switching to WAL may wait for a lock)."""
        if self._db is None:
            loop = asyncio.get_running_loop()
            self._db = await loop.run_in_executor(self._executor, self._open)

    def start(self, batch: Sequence[Unsealed], done: Done) -> None:
        """Take the write lock, insert ``batch`` and commit (on the loop, or the thread)."""
        if self._db is None:
            raise RuntimeError("the audit writer is not open")
        rows = [self._encode(u) for u in batch]
        witness = self.witness

        def finish(outcome: list[int] | BaseException) -> None:
            ok = not isinstance(outcome, BaseException)
            witness.settled(ok)
            if ok:
                self._sets.committed()
            done(outcome)

        self._begin(self._db, rows, finish, time.monotonic() + self.busy_timeout_s)

    def _encode(self, unsealed: Unsealed) -> _Row:
        fields, encoded = unsealed.fields, unsealed.encoded
        row = {**self._blank_row, **fields}
        for name in self._json_columns:
            row[name] = encoded[name].decode()
        for name, convert in self._converted:
            row[name] = convert(row[name])
        return unsealed, list(self._pick(row)), index_keys(fields["cases"], fields["debtor_keys"])

    def _begin(self, db: sqlite3.Connection, rows: list[_Row], done: Done, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        try:
            db.execute("BEGIN IMMEDIATE")
        except Exception as exc:
            if _is_busy(exc) and time.monotonic() < deadline:
                # Another process is writing: try again shortly, without blocking the loop.
                self.lock_waits += 1
                loop.call_later(_LOCK_POLL_S, self._begin, db, rows, done, deadline)
            else:
                loop.call_soon(done, exc)
            return
        try:
            seqs = self._append(db, rows)
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            loop.call_soon(done, exc)
            return
        if self._on_loop and time.monotonic() >= self._thread_until:
            self.loop_commits += 1
            self._commit_here(db, seqs, done, loop)
            return
        self.thread_commits += 1
        started = threading.Event()
        try:
            self._executor.submit(self._commit, db, started, seqs, done, loop)
        except BaseException as exc:  # no thread to commit: let go of the lock
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            loop.call_soon(done, exc)
            return
        # The transaction holds the write lock until its COMMIT: block the loop (a few
        # microseconds, with the interpreter lock released) until the commit thread has
        # begun it, rather than let that thread wait for the loop's next switch interval.
        started.wait(_HANDOFF_S)

    def _commit_here(
        self,
        db: sqlite3.Connection,
        seqs: list[int],
        done: Done,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        """``COMMIT`` on the loop: its sync blocks the loop (0.1–3 ms here) but nothing waits
        for a thread; one slower than ``_LOOP_COMMIT_MAX_S`` (a slow or busy disk) sends the
        commits of the next ``_THREAD_SPELL_S`` to the commit thread."""
        began = time.perf_counter()
        outcome = _commit_or_rollback(db, seqs)
        took = time.perf_counter() - began
        self.sync_seconds += took
        if took > _LOOP_COMMIT_MAX_S:
            self.slow_commits += 1
            self._thread_until = time.monotonic() + _THREAD_SPELL_S
        loop.call_soon(done, outcome)

    def _append(self, db: sqlite3.Connection, rows: Sequence[_Row]) -> list[int]:
        chain = self.chain
        head = db.execute(self._head.sql, self._head.params({"at": chain})).fetchone()
        if head is None:
            raise RuntimeError(f"the audit chain {chain}'s head row is missing")
        seq, prev = int(head[0]), str(head[1])
        asked = len(rows)  # a witness record may follow the batch; its seq is nobody's
        if self.witness.due():
            others: Iterable[tuple[Any, ...]] = (
                self._peers()
                if self._peers is not None
                else db.execute(self._others.sql, self._others.params({"at": chain}))
            )
            found = self.witness.record((str(c), int(s), str(d)) for c, s, d in others)
            if found is not None:
                rows = [*rows, self._encode(found)]
        at_chain, at_seq, at_prev, at_hash = self._slots
        index: list[tuple[str, str, str, int]] = []
        seqs: list[int] = []
        for unsealed, values, keys in rows:
            seq += 1
            digest = unsealed.digest(seq, prev)
            values[at_chain], values[at_seq] = chain, seq
            values[at_prev], values[at_hash] = prev, digest
            index += [(kind, value, chain, seq) for kind, value in keys]
            seqs.append(seq)
            prev = digest
        self._records.execute(db, [values for _, values, _ in rows])
        if index:
            self._index.execute(db, index)
        members = self._sets.fresh(u.fields["debtor_keys"] for u, _, _ in rows)
        if members:
            self._members.execute(db, members)
        moved = {"new_seq": seq, "new_hash": prev, "at": chain}
        db.execute(self._move.sql, self._move.params(moved))
        return seqs[:asked]

    async def aclose(self) -> None:
        """Close the connection on the commit thread, then let the thread go."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=False)
