"""One SQLite file per writer: where each chain's file lives, and reading them as one log.

On SQLite each writer appends to a file of its own, ``<folder>/<stem>.chains/<chain>.db``
beside the main file (``audit.db`` → ``audit.chains/w1a2b3c4d5e6-0.db``), so writers never
take one another's write lock or re-read one another's pages (measured with
``bench.audit_files``: 94 against 108 µs of CPU per record, 650 against 870 µs a commit).
Each file holds the same four tables as the main file, with its one chain in them.

The main file keeps what it held: a log written before chains had files (the ``legacy``
chain, and chains begun in it since) stays there, and those chains go on appending to it.
A chain begins in a file of its own, unless ``MAX_FILES`` already exist (SQLite attaches at
most ten databases to one connection); it then begins in the main file. A folder holding
more than that (which no writer makes) is refused by readers rather than read in part.

Readers see one log: ``attach_chain_files`` attaches every chain file to a connection of
the main file and shadows the four tables with ``TEMP`` views over all of them (``UNION
ALL``; SQLite pushes a query's conditions into each arm, so each file's indexes serve).
Every query of the log (``audit verify``, export, ``auditRecords``, proofs, signed heads)
runs unchanged over them. The views are read-only: to change a chain, open its file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import make_url

from gateway.audit.tables import audit_chains, audit_debtor_sets, audit_index, audit_records

__all__ = [
    "MAX_FILES",
    "PeerHeads",
    "attach_chain_files",
    "chain_file",
    "chain_files",
    "chain_folder",
    "database_of",
    "keep_attached",
    "sqlite_path",
]

MAX_FILES = 10  # SQLite's SQLITE_MAX_ATTACHED as Debian and CPython build it
_SUFFIX = ".db"
_TABLES: tuple[Table, ...] = (audit_records, audit_index, audit_debtor_sets, audit_chains)
_STATE = "liandong_chain_files"  # a connection's attached files, in its info dict


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL (None for another database or an in-memory one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def chain_folder(main: Path) -> Path:
    """The folder of the per-writer files beside the main file ``main``."""
    return main.with_name(f"{main.stem}.chains")


def chain_file(main: Path, chain: str) -> Path:
    """The file of ``chain`` (a ``CHAIN_NAME``: no separator, no leading dot)."""
    return chain_folder(main) / f"{chain}{_SUFFIX}"


def chain_files(main: Path) -> list[Path]:
    """Every chain file beside ``main``, by name."""
    try:
        names = sorted(p.name for p in chain_folder(main).iterdir())
    except FileNotFoundError:
        return []
    return [chain_folder(main) / n for n in names if n.endswith(_SUFFIX)]


def database_of(url: str, chain: str) -> str:
    """The URL of the database ``chain`` is written in: its own file, or the log's."""
    main = sqlite_path(url)
    if main is None or not chain_file(main, chain).exists():
        return url
    return make_url(url).set(database=str(chain_file(main, chain))).render_as_string(False)


Execute = Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]]


def _tables_of(execute: Execute, schema: str) -> set[str]:
    sql = f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table'"  # noqa: S608 (our names)
    rows = execute(sql, ())
    return {str(name) for (name,) in rows}


def attach_chain_files(execute: Execute, main: Path, attached: tuple[str, ...]) -> tuple[str, ...]:
    """Attach the chain files beside ``main`` and (re)make the views over them, unless
    ``attached`` (what this connection attached before) is still the folder's listing;
    return what is attached now. Runs outside any transaction (ATTACH needs that)."""
    files = tuple(str(p) for p in chain_files(main))
    if files == attached:
        return attached
    if len(files) > MAX_FILES:
        # Writers never make more; reading only some would pass a log that is not whole.
        raise RuntimeError(
            f"{len(files)} audit chain files beside {main}: SQLite reads at most {MAX_FILES}"
        )
    for table in _TABLES:
        execute(f"DROP VIEW IF EXISTS temp.{table.name}", ())
    for _, schema, _ in execute("PRAGMA database_list", ()):
        if schema not in ("main", "temp"):
            execute(f"DETACH DATABASE {schema}", ())
    ready: list[str] = []
    for n, path in enumerate(files):
        execute(f"ATTACH DATABASE ? AS c{n}", (path,))
        ready.append(f"c{n}")
    # A file whose tables are not made yet (its writer is starting) is left out of the
    # views, and the listing not kept, so the next use looks again.
    have = {schema: _tables_of(execute, schema) for schema in ["main", *ready]}
    complete = all(all(t.name in have[s] for t in _TABLES) for s in ready)
    for table in _TABLES:
        columns = ", ".join(f'"{c.name}"' for c in table.columns)
        arms = [
            f"SELECT {columns} FROM {schema}.{table.name}"  # noqa: S608 (our names)
            for schema in ("main", *ready)
            if table.name in have[schema]
        ]
        if arms and ready:
            execute(f"CREATE TEMP VIEW {table.name} AS {' UNION ALL '.join(arms)}", ())
    return files if complete else ("",)  # never a listing: look again next time


def _runner(cursor: Any) -> Execute:
    def execute(sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        cursor.execute(sql, params)
        return list(cursor.fetchall()) if cursor.description else []

    return execute


def keep_attached(dbapi_connection: Any, info: dict[str, Any], main: Path) -> None:
    """Bring a pooled connection's attachments up to date (a pool ``checkout`` hook)."""
    cursor = dbapi_connection.cursor()
    try:
        info[_STATE] = attach_chain_files(_runner(cursor), main, info.get(_STATE, ()))
    finally:
        cursor.close()


class PeerHeads:
    """The head rows of every chain in the main file and the chain files beside it, read
    through a connection of its own: a plain read, which takes no writer's lock."""

    def __init__(self, main: Path) -> None:
        self._main = main
        self._db: sqlite3.Connection | None = None
        self._attached: tuple[str, ...] = ()

    def __call__(self) -> Iterable[tuple[str, int, str]]:
        if self._db is None:
            self._db = sqlite3.connect(self._main, isolation_level=None, check_same_thread=False)
        cursor = self._db.cursor()
        try:
            run = _runner(cursor)
            self._attached = attach_chain_files(run, self._main, self._attached)
            rows = run("SELECT chain, seq, hash FROM audit_chains", ())
        finally:
            cursor.close()
        return [(str(c), int(s), str(h)) for c, s, h in rows]

    def close(self) -> None:
        """Close the connection (it is opened again on the next read)."""
        if self._db is not None:
            self._db.close()
            self._db = None
            self._attached = ()
