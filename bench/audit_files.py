"""Several writers' chains in one SQLite file, or one file per writer: what each costs.

``python -m bench.audit_files`` starts ``--writers`` processes that append look-up entries
to their own chains at once, ``--batch`` concurrent appends per commit (6–7 is what each
worker of the warm scenario commits at a time), first all into one file, then each into a
file of its own, alternating for ``--rounds``. It prints the CPU per record of the writing
processes (event loop and commit thread) and the wall time for all of them to finish.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.audit_batches import KEY, entry
from gateway.audit.store import SqlAuditLog

__all__ = ["main"]


async def _append(url: str, chain: str, batch: int, records: int) -> float:
    log = await SqlAuditLog.open(url, KEY, chain=chain)
    try:
        entries = [entry(n) for n in range(records + 120)]
        for start in range(0, 120, batch):  # warm-up: statement caches, the first pages
            await asyncio.gather(*(log.append(e) for e in entries[start : start + batch]))
        cpu = time.process_time()
        for start in range(120, records + 120, batch):
            await asyncio.gather(*(log.append(e) for e in entries[start : start + batch]))
        return time.process_time() - cpu
    finally:
        await log.aclose()


def _writer(url: str, chain: str, batch: int, records: int, start: Any, out: Any) -> None:
    start.wait()
    out.put(asyncio.run(_append(url, chain, batch, records)))


def _round(
    directory: Path, shared: bool, writers: int, batch: int, records: int
) -> dict[str, float]:
    context = multiprocessing.get_context("spawn")
    start, out = context.Event(), context.Queue()
    urls = [
        f"sqlite+aiosqlite:///{directory / ('audit.db' if shared else f'audit-{i}.db')}"
        for i in range(writers)
    ]
    for url in set(urls):  # tables made before the race, as a deployment would
        asyncio.run(_append(url, "setup-0", 1, 0))
    procs = [
        context.Process(target=_writer, args=(url, f"w-{i}", batch, records, start, out))
        for i, url in enumerate(urls)
    ]
    for p in procs:
        p.start()
    time.sleep(1.0)  # every writer imported and waiting
    wall = time.perf_counter()
    start.set()
    cpu = sum(out.get() for _ in procs)
    wall = time.perf_counter() - wall
    for p in procs:
        p.join()
    total = writers * records
    return {"cpu_us": cpu / total * 1e6, "wall_us": wall / total * 1e6}


def main() -> None:
    """Print one line per round and layout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=6)
    parser.add_argument("--records", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.writers} writers, {args.batch} records per commit (µs per record)")
    print(f"{'layout':>14} {'CPU':>8} {'wall':>8}")
    for _ in range(args.rounds):
        for shared in (True, False):
            with tempfile.TemporaryDirectory() as directory:
                r = _round(Path(directory), shared, args.writers, args.batch, args.records)
            layout = "one file" if shared else "file per chain"
            print(f"{layout:>14} {r['cpu_us']:>8.1f} {r['wall_us']:>8.1f}", flush=True)


if __name__ == "__main__":
    main()
