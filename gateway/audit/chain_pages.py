"""The page size of a new chain file: fewer bytes written at each audit ``COMMIT``.

In WAL mode SQLite writes every page a transaction dirtied, whole, into the WAL at
``COMMIT`` and checksums it. A commit of a few records dirties a handful of pages at random
places (the records' rows, their request-id entries, one ``audit_index`` page per case and
per debtor set), so a smaller page cuts the bytes a commit writes without changing how many
pages it touches. SQLite fixes a file's page size when its first page is written, so only a
chain file made now gets it; files made before keep theirs, and reading them together
(``ATTACH``) works across page sizes.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gateway.store.sqlite import enable_wal

__all__ = ["CHAIN_PAGE_SIZE", "create_chain_file"]

CHAIN_PAGE_SIZE = 2048  # bytes; SQLite's default is 4096 (see bench/README.md)


def create_chain_file(path: Path, page_size: int = CHAIN_PAGE_SIZE) -> None:
    """Make the empty SQLite file ``path`` with ``page_size`` and WAL (which writes its
    header, so the page size holds); a file already there is left as it is. Blocking: run it
    in a thread."""
    if path.exists():
        return
    db = sqlite3.connect(path, isolation_level=None)
    try:
        # Only an empty database takes a new page size; one made meanwhile keeps its own.
        db.execute(f"PRAGMA page_size={int(page_size)}")
        enable_wal(db.cursor())
    finally:
        db.close()
