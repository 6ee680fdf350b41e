"""Where an audit record's CPU goes on the event loop, stage by stage: the A/B yardstick for
the record's own code.

``python -m bench.audit_stages`` makes look-up entries as the warm scenario asks them (one
officer, the 1,000-person world, each person in turn, server-made request ids), then times
with ``time.thread_time``:

- ``record``: ``unsealed`` (masking, keyed hashes, canonical JSON; the field memo warm, as
  it is after the first round of look-ups), per record;
- ``statements``: an SQL audit log on a fresh SQLite file (WAL, ``synchronous=FULL``, as
  the gateway runs it) taking ``--batch`` appends at a time, each statement the writer runs
  timed apart, per record (``COMMIT`` includes its share of the WAL's checkpoints).

On a shared machine compare two trees back to back, a few times each (``PYTHONPATH``
pointing at the other tree). Whole-request figures are ``bench.inprocess``'s.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import hashlib
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvloop

from bench.__main__ import PEOPLE, SEED
from gateway.audit.log import AuditEntry
from gateway.audit.record import unsealed
from gateway.audit.store import SqlAuditLog
from gateway.web.audit_pipeline import request_id_of
from mocks.world import World

__all__ = ["entries", "main"]

KEY = b"bench-audit-key-0123456789abcdef"


def entries(count: int) -> list[AuditEntry]:
    """``count`` warm look-ups' entries, person after person."""
    ids = list(World(seed=SEED, people=PEOPLE).person_ids())
    made = []
    for n in range(count):
        person = ids[n % len(ids)]
        case = f"（2026）苏0311执{7001 + n % len(ids) // 5}号"
        made.append(
            AuditEntry(
                time=datetime.now(UTC),
                request_id=request_id_of(),
                principal="bench-officer",
                court="江苏省徐州市泉山区人民法院",
                roles=("officer",),
                case_number=case,
                operation="Profile",
                document_hash=hashlib.sha256(b"query Profile").hexdigest(),
                variables={"id": person, "caseNumber": case},
                debtors=(person,),
                agencies=(),
                outcome="ok",
                detail={"client": "127.0.0.1", "kind": "query"},
                cases=(case,),
                http_status=200,
                duration_ms=1.0 + n % 7,
            )
        )
    return made


def record_us(made: list[AuditEntry]) -> float:
    """CPU per ``unsealed`` record, µs, after one untimed round (the memo warm)."""
    for entry in made[:PEOPLE]:
        unsealed(entry, KEY)
    started = time.thread_time()
    for entry in made:
        unsealed(entry, KEY)
    return (time.thread_time() - started) / len(made) * 1e6


class _Timed:
    """A sqlite3 connection whose ``execute`` is timed per statement kind."""

    def __init__(self, db: sqlite3.Connection, spent: collections.defaultdict[str, float]) -> None:
        self._db = db
        self._spent = spent

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        started = time.thread_time()
        try:
            return self._db.execute(sql, *args)
        finally:
            self._spent[" ".join(sql.split()[:3])] += time.thread_time() - started

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


async def statements_us(made: list[AuditEntry], batch: int) -> dict[str, float]:
    """CPU per record of each statement the SQLite writer runs, µs, ``batch`` a commit."""
    spent: collections.defaultdict[str, float] = collections.defaultdict(float)
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'audit.db'}"
        log = await SqlAuditLog.open(url, KEY, chain="bench-0")
        try:
            writer: Any = log._batches
            writer._db = _Timed(writer._db, spent)
            warm, timed = made[:PEOPLE], made[PEOPLE:]
            for start in range(0, len(warm), batch):
                await asyncio.gather(*(log.append(e) for e in warm[start : start + batch]))
            spent.clear()
            for start in range(0, len(timed), batch):
                await asyncio.gather(*(log.append(e) for e in timed[start : start + batch]))
        finally:
            await log.aclose()
    return {k: round(v / len(timed) * 1e6, 2) for k, v in sorted(spent.items())}


def main() -> None:
    """Print the stages' figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=12_000)
    parser.add_argument("--batch", type=int, default=7, help="records a commit (bench: 6-7)")
    args = parser.parse_args()
    made = entries(args.records + PEOPLE)
    print(f"record (unsealed): {record_us(made):.2f} µs")
    sql = uvloop.run(statements_us(made, args.batch))
    print(f"statements, {args.batch} records a commit: {sum(sql.values()):.2f} µs in all")
    for kind, us in sql.items():
        print(f"  {kind:<32} {us:7.2f} µs")


if __name__ == "__main__":
    main()
