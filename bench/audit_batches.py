"""What one audit record costs, by the size of the group commit it lands in.

``python -m bench.audit_batches`` opens a SQL audit log on a fresh SQLite file (WAL,
``synchronous=FULL``, as the gateway runs it) and appends look-up entries in rounds of
``k`` concurrent appends, so each commit holds ``k`` records. For each ``k`` it prints the
CPU time per record of the whole process (the event loop plus the commit thread, which
spends its time in the disk's sync) and of the event loop alone, and the wall time.

A fixed cost per commit (the write lock, five statements, the hand-off to the commit
thread, the sync) and a cost per record (masking, keyed hashes, canonical JSON, one row
and its index rows) are what the figures separate: under the gateway's load the batch size
is whatever arrived while the previous commit was on the disk.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.audit.log import AgencyCallRecord, AuditEntry
from gateway.audit.store import SqlAuditLog

__all__ = ["entry", "main", "measure"]

KEY = b"bench-audit-key-0123456789abcdef"


def entry(n: int) -> AuditEntry:
    """A look-up's entry, like the warm profile's (one debtor, four agencies)."""
    return AuditEntry(
        time=datetime(2026, 5, 1, 8, 0, tzinfo=UTC) + timedelta(milliseconds=n),
        request_id=f"bench-{n}",
        principal="officer-1",
        court="徐州市泉山区人民法院",
        roles=("officer",),
        case_number="（2026）苏0311执7001号",
        operation="Profile",
        document_hash=hashlib.sha256(b"query Profile").hexdigest(),
        variables={"id": "320311198505164411", "caseNumber": "（2026）苏0311执7001号"},
        debtors=("320311198505164411",),
        agencies=tuple(
            AgencyCallRecord(agency, facet, 1, 0, 1.5)
            for agency, facet in (
                ("public_security", "identity"),
                ("civil_affairs", "marriage"),
                ("land_registry", "real_estate"),
                ("market_regulation", "equity"),
            )
        ),
        outcome="ok",
        cases=("（2026）苏0311执7001号",),
    )


async def measure(
    directory: Path, batch: int, records: int, *, commit_on_loop: bool = True
) -> dict[str, float]:
    """Append ``records`` entries ``batch`` at a time; CPU and wall per record, in µs."""
    log = await SqlAuditLog.open(
        f"sqlite+aiosqlite:///{directory / 'audit.db'}",
        KEY,
        chain="bench-0",
        commit_on_loop=commit_on_loop,
    )
    try:
        entries = [entry(n) for n in range(records + 200)]
        for start in range(0, 200, batch):  # warm-up: statement caches, the first pages
            await asyncio.gather(*(log.append(e) for e in entries[start : start + batch]))
        commits = log.commits
        cpu, loop, wall = time.process_time(), time.thread_time(), time.perf_counter()
        for start in range(200, records + 200, batch):
            await asyncio.gather(*(log.append(e) for e in entries[start : start + batch]))
        cpu, loop = time.process_time() - cpu, time.thread_time() - loop
        wall = time.perf_counter() - wall
        return {
            "batch": batch,
            "commits": log.commits - commits,
            "cpu_us_per_record": round(cpu / records * 1e6, 1),
            "loop_cpu_us_per_record": round(loop / records * 1e6, 1),
            "wall_us_per_record": round(wall / records * 1e6, 1),
        }
    finally:
        await log.aclose()


async def _run(batches: list[int], records: int, on_loop: bool) -> list[dict[str, float]]:
    rows = []
    for batch in batches:
        with tempfile.TemporaryDirectory() as directory:
            rows.append(await measure(Path(directory), batch, records, commit_on_loop=on_loop))
    return rows


def main() -> None:
    """Print the table (one line per batch size)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2400)
    parser.add_argument("--batches", default="1,2,4,8,16,32")
    parser.add_argument(
        "--commit-thread", action="store_true", help="every COMMIT on the commit thread"
    )
    args = parser.parse_args()
    batches = [int(b) for b in args.batches.split(",")]
    rows = asyncio.run(_run(batches, args.records, not args.commit_thread))
    print("audit record cost by group-commit size (µs per record)")
    print(f"{'batch':>6} {'commits':>8} {'CPU':>8} {'loop CPU':>9} {'wall':>8}")
    for r in rows:
        print(
            f"{r['batch']:>6.0f} {r['commits']:>8.0f} {r['cpu_us_per_record']:>8.1f}"
            f" {r['loop_cpu_us_per_record']:>9.1f} {r['wall_us_per_record']:>8.1f}"
        )


if __name__ == "__main__":
    main()
