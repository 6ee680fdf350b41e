"""What an audit ``COMMIT`` writes to the WAL: pages a commit, by table, per page size.

``python -m bench.audit_pages`` appends the warm scenario's look-up entries
(``bench.audit_stages.entries``) to a chain in a file of its own, as the gateway keeps it,
``--batch`` records a commit, once for each ``--page-size`` (the chain file made with that
page size before the log opens it). With the WAL's auto-checkpoint off, it reads the WAL's
frames back and names the table or index each page belongs to (SQLite's ``dbstat``), and
times ``COMMIT`` with ``time.thread_time``. In WAL mode SQLite writes each dirty page whole,
as a frame of its own, at ``COMMIT``: this says how many, and what they cost.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sqlite3
import struct
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.__main__ import PEOPLE
from bench.audit_stages import KEY, entries
from gateway.audit.chain_files import chain_file
from gateway.audit.log import AuditEntry
from gateway.audit.store import SqlAuditLog

__all__ = ["main", "make_file", "pages_a_commit", "wal_frames"]

_WAL_HEADER = 32  # bytes before the first frame
_FRAME_HEADER = 24  # bytes before each frame's page
_CHAIN = "bench-0"


def make_file(path: Path, page_size: int) -> None:
    """Make the empty SQLite file ``path`` with ``page_size``, in WAL mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute(f"PRAGMA page_size={int(page_size)}")
        db.execute("PRAGMA journal_mode=WAL")  # writes the header: the page size holds
    finally:
        db.close()


def wal_frames(wal: Path, owner: dict[int, str]) -> tuple[collections.Counter[str], int]:
    """The WAL's frames by the table their page belongs to, and the WAL's bytes."""
    data = wal.read_bytes()
    (page_size,) = struct.unpack(">I", data[8:12])
    found: collections.Counter[str] = collections.Counter()
    for at in range(_WAL_HEADER, len(data) - _FRAME_HEADER + 1, _FRAME_HEADER + page_size):
        (page,) = struct.unpack(">I", data[at : at + 4])
        found[owner.get(page, "(other)")] += 1
    return found, len(data) - _WAL_HEADER


async def pages_a_commit(made: list[AuditEntry], page_size: int, batch: int) -> dict[str, Any]:
    """Frames a commit by table, bytes a commit, ``COMMIT``'s wall time and the CPU of the
    appends (record, statements, ``COMMIT``) per record, µs."""
    with tempfile.TemporaryDirectory() as directory:
        main = Path(directory) / "audit.db"
        path = chain_file(main, _CHAIN)
        await asyncio.to_thread(make_file, path, page_size)
        log = await SqlAuditLog.open(
            f"sqlite+aiosqlite:///{main}", KEY, chain=_CHAIN, file_per_writer=True
        )
        try:
            writer: Any = log._batches
            db: sqlite3.Connection = writer._db
            db.execute("PRAGMA wal_autocheckpoint=0")
            warm, timed = made[:PEOPLE], made[PEOPLE:]
            for start in range(0, len(warm), batch):
                await asyncio.gather(*(log.append(e) for e in warm[start : start + batch]))
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            commits, before = 0, writer.sync_seconds
            cpu = time.thread_time()
            for start in range(0, len(timed), batch):
                await asyncio.gather(*(log.append(e) for e in timed[start : start + batch]))
                commits += 1
            cpu = time.thread_time() - cpu
            owner = {int(p): str(n) for n, p in db.execute("SELECT name, pageno FROM dbstat")}
            frames, wal_bytes = await asyncio.to_thread(wal_frames, Path(f"{path}-wal"), owner)
            commit_us = (writer.sync_seconds - before) / len(timed) * 1e6
        finally:
            await log.aclose()
    return {
        "page_size": page_size,
        "frames": round(sum(frames.values()) / commits, 1),
        "kib": round(wal_bytes / commits / 1024, 1),
        "commit_wall_us": round(commit_us, 2),
        "cpu_us": round(cpu / len(timed) * 1e6, 2),
        "by_table": {k: round(v / commits, 2) for k, v in frames.most_common()},
    }


def main() -> None:
    """Print pages a commit for each page size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=3_000)
    parser.add_argument("--batch", type=int, default=16, help="records a commit")
    parser.add_argument("--page-size", type=int, action="append", dest="sizes")
    args = parser.parse_args()
    made = entries(args.records + PEOPLE)
    sizes = args.sizes or [4096, 2048, 1024]
    # An untimed run first: the process's first one also pays for its caches filling.
    asyncio.run(pages_a_commit(made, sizes[0], args.batch))
    for size in sizes:
        got = asyncio.run(pages_a_commit(made, size, args.batch))
        print(
            f"page {got['page_size']}: {got['frames']} pages ({got['kib']} KiB) a commit of "
            f"{args.batch}; COMMIT {got['commit_wall_us']} µs wall a record, "
            f"CPU {got['cpu_us']} µs a record (the record, its statements, COMMIT)"
        )
        for table, pages in got["by_table"].items():
            print(f"  {table:<40} {pages:6.2f}")


if __name__ == "__main__":
    main()
