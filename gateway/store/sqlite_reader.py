"""The store's hot reads on SQLite: the stdlib driver on one thread of its own.

Every look-up authorizes its case and reads the court's own restrictions. Through
aiosqlite each statement, cursor, fetch, pool check-out and reset-on-return is a hand-off
between the event loop and the driver's thread, and SQLAlchemy's per-call machinery runs
around each one; measured, a case read cost ~3 ms of CPU and a restrictions read ~1 ms,
most of a warm look-up. Here a whole read is one hand-off (``gateway/store/blocking_thread.py``),
and the statements are Core's, compiled once for SQLite (per number of keys) with Core's
own result converters, so the rows are exactly those the async engine returns. Writes stay
on the async engine: WAL lets this connection read beside them, and each read sees every
commit made before it started.

A second connection, used on the event loop and never for rows, answers ``data_version``:
the version the store's memo (``gateway/store/memo.py``) keys on. It is one statement that
touches no table, so it stays on the loop rather than paying for a hand-off.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Table, select
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.sql import Select

from gateway.store.blocking_thread import WorkerThread
from gateway.store.tables import case_debtors, case_officers, cases, restrictions

__all__ = ["CaseRows", "SqliteReader"]

T = TypeVar("T")
_DIALECT = sqlite_dialect.dialect()

# (head rows, party rows, staff rows) of some cases, as the async engine would give them.
CaseRows = tuple[list[Any], list[Any], list[Any]]


class _Query:
    """One Core SELECT of whole rows of ``table``, compiled for SQLite."""

    def __init__(self, table: Table, stmt: Select[Any]) -> None:
        compiled = stmt.compile(dialect=_DIALECT, compile_kwargs={"render_postcompile": True})
        self.sql = str(compiled)
        self.row: Any = namedtuple(table.name, [c.key for c in table.c])  # type: ignore[misc]
        self.converters = [
            c.type.dialect_impl(_DIALECT).result_processor(_DIALECT, None) for c in table.c
        ]

    def rows(self, db: sqlite3.Connection, keys: Sequence[str]) -> list[Any]:
        make, converters = self.row._make, self.converters
        return [
            make(v if f is None else f(v) for f, v in zip(converters, raw, strict=True))
            for raw in db.execute(self.sql, tuple(keys))
        ]


# Each read: the table, the column its keys are matched on, and the order of its rows.
_READS: dict[str, tuple[Table, Any, tuple[Any, ...]]] = {
    "cases": (cases, cases.c.number, ()),
    "case_debtors": (case_debtors, case_debtors.c.case_number, (case_debtors.c.debtor_id,)),
    "case_officers": (case_officers, case_officers.c.case_number, (case_officers.c.officer_id,)),
    "restrictions": (
        restrictions,
        restrictions.c.debtor_id,
        (restrictions.c.since, restrictions.c.created_at, restrictions.c.id),
    ),
}


@lru_cache(maxsize=256)
def _query(kind: str, size: int) -> _Query:
    # The IN list is rendered with ``size`` placeholders; the values are bound per call.
    table, key, order = _READS[kind]
    keys = [f"k{i}" for i in range(size)]
    return _Query(table, select(table).where(key.in_(keys)).order_by(*order))


class SqliteReader:
    """Reads of one SQLite file, each in one read transaction on the reader's thread."""

    def __init__(self, path: str, busy_timeout_ms: int = 5000) -> None:
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._thread = WorkerThread("store-reader")
        self._db: sqlite3.Connection | None = None  # made, used and closed on that thread
        self._watch: sqlite3.Connection | None = None  # made on that thread, used on the loop
        self.reads = 0  # reads handed to the thread (each one transaction)

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=True)
            db.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")
            self._db = db
        return self._db

    def _open(self) -> sqlite3.Connection:
        self._connection()
        watch = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        watch.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")
        return watch

    async def open(self) -> None:
        """Open both connections (on the reader's thread: opening a file may block)."""
        if self._watch is None:
            self._watch = await self._thread.run(self._open)

    def data_version(self) -> int | None:
        """A number that changes whenever another connection commits; None before ``open``.

        The watch connection never writes, so every commit to the file moves it.
        """
        watch = self._watch
        if watch is None:
            return None
        row = watch.execute("PRAGMA data_version").fetchone()
        return int(row[0])

    def _in_transaction(self, read: Callable[[sqlite3.Connection], T]) -> T:
        db = self._connection()
        # One snapshot for all the statements of a read (a case and its parties agree).
        db.execute("BEGIN")
        try:
            return read(db)
        finally:
            db.execute("COMMIT")

    async def _run(self, read: Callable[[sqlite3.Connection], T]) -> T:
        self.reads += 1
        return await self._thread.run(lambda: self._in_transaction(read))

    async def cases(self, numbers: Sequence[str]) -> CaseRows:
        """The rows of cases ``numbers`` (normalised), their parties and their staff."""
        n = len(numbers)

        def read(db: sqlite3.Connection) -> CaseRows:
            return (
                _query("cases", n).rows(db, numbers),
                _query("case_debtors", n).rows(db, numbers),
                _query("case_officers", n).rows(db, numbers),
            )

        return await self._run(read)

    async def restrictions(self, debtor_ids: Sequence[str]) -> list[Any]:
        """The restriction rows of ``debtor_ids``, in the store's order."""
        n = len(debtor_ids)
        return await self._run(lambda db: _query("restrictions", n).rows(db, debtor_ids))

    def _close(self, watch: sqlite3.Connection | None) -> None:
        if watch is not None:
            watch.close()
        if self._db is not None:
            self._db.close()
            self._db = None

    async def aclose(self) -> None:
        """Close the connections on the reader's thread, then let the thread go."""
        # Taken out of the loop's hands first: a request still running sees no version
        # (and reads without the memo) rather than a closed connection.
        watch, self._watch = self._watch, None
        await self._thread.aclose(lambda: self._close(watch))
