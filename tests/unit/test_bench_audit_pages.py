"""``bench.audit_pages`` reads a WAL's frames back and names each page's table."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bench.audit_pages import make_file, wal_frames

PAGE = 1024


def _owners(db: sqlite3.Connection) -> dict[int, str]:
    return {int(p): str(n) for n, p in db.execute("SELECT name, pageno FROM dbstat")}


def test_each_commit_s_frames_are_counted_under_their_table(tmp_path: Path) -> None:
    path = tmp_path / "chains" / "x-0.db"
    make_file(path, PAGE)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        assert db.execute("PRAGMA page_size").fetchone() == (PAGE,)
        db.execute("PRAGMA wal_autocheckpoint=0")
        db.execute("CREATE TABLE a (x)")
        db.execute("CREATE TABLE b (x)")
        db.execute("INSERT INTO b VALUES (0)")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        # One commit dirtying a's one page; then one dirtying a's and b's.
        db.execute("INSERT INTO a VALUES (1)")
        db.execute("BEGIN")
        db.execute("INSERT INTO a VALUES (2)")
        db.execute("INSERT INTO b VALUES (3)")
        db.execute("COMMIT")
        frames, size = wal_frames(Path(f"{path}-wal"), _owners(db))
    finally:
        db.close()
    assert dict(frames) == {"a": 2, "b": 1}
    assert size == 3 * (24 + PAGE)  # three frames: a header and a page each
