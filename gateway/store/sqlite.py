"""SQLite connection set-up shared by the store and the audit log: WAL, timeouts, keys."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

__all__ = ["enable_wal", "sqlite_pragmas"]


def enable_wal(cursor: Any, attempts: int = 100) -> None:
    """Switch a SQLite connection to WAL, riding out other connections doing the same.

    Runs in the driver's thread, never on the event loop. SQLite answers "database is
    locked" at once, without its busy handler, when two new connections race to change the
    journal mode, so busy_timeout alone does not cover the first opens of a new file.
    """
    for attempt in range(attempts):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.02)


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Set up each new SQLite connection of the store (a ``connect`` event listener)."""
    # WAL lets readers run beside the writer; SQLite ignores foreign keys unless asked.
    cursor = dbapi_connection.cursor()
    try:
        # busy_timeout first: switching to WAL takes a lock that another worker may hold.
        cursor.execute("PRAGMA busy_timeout=5000")
        enable_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()
