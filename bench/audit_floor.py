"""What an audit record costs a warm look-up, part by part, in one process.

``python -m bench.audit_floor`` runs ``bench.inprocess``'s warm look-up (one process, the
ASGI app called directly, 32 concurrent) once per variant, each in a process of its own,
round after round so that the machine's drift falls on every variant alike:

- ``off``: ``[audit] enabled = false``: no record, no wait;
- ``pipeline``: audit on, but the log's ``append`` returns at once: what the request path
  does around the record (the entry, its status, the pipeline's bookkeeping);
- ``record``: ``append`` builds the record (``unsealed``: masking, keyed hashes, canonical
  JSON) and returns without waiting;
- ``wait``: ``append`` builds nothing and waits for a future settled, with all others
  appended in the same turn, on the loop's next turn: the cost of parking and waking a
  request for a group commit that writes nothing;
- ``record+wait``: both, still writing nothing;
- ``on``: the real log (SQLite, WAL, ``synchronous=FULL``, group commit).

Each variant but ``off`` and ``on`` replaces ``SqlAuditLog.append`` in its own process:
an instrument, never a configuration. The differences between neighbours are the parts:
``pipeline - off``, ``record - pipeline``, ``wait - pipeline``, ``on - record+wait``
(the SQL statements and the durable commit).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import subprocess
import sys
from typing import Any

import uvloop

from gateway.audit import store
from gateway.audit.log import AuditEntry
from gateway.audit.record import unsealed

__all__ = ["VARIANTS", "main"]

VARIANTS = ("off", "pipeline", "record", "wait", "record+wait", "on")


def _replace_append(variant: str) -> None:
    """Put the variant's ``append`` in place of the real log's (this process only)."""
    seqs = itertools.count(1)
    waiting: list[asyncio.Future[int]] = []

    def settle() -> None:
        batch = waiting[:]
        waiting.clear()
        for future in batch:
            future.set_result(next(seqs))

    async def parked() -> int:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        if not waiting:
            loop.call_soon(settle)
        waiting.append(future)
        return await future

    build = variant in ("record", "record+wait")
    wait = variant in ("wait", "record+wait")

    async def append(self: store.SqlAuditLog, entry: AuditEntry) -> int:
        if build:
            unsealed(entry, self.key)
        return await parked() if wait else next(seqs)

    store.SqlAuditLog.append = append  # type: ignore[method-assign]


def _one(variant: str, requests: int) -> float:
    """CPU ms per request of one run of ``variant``, in this process."""
    from bench.inprocess import measure

    if variant not in ("off", "on"):
        _replace_append(variant)
    result: dict[str, Any] = uvloop.run(measure(audit=variant != "off", requests=requests))
    return float(result["cpu_ms_per_request"])


def _run(variant: str, requests: int) -> float:
    """One run of ``variant`` in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.audit_floor", "--one", variant, "--requests", str(requests)],
        check=True,
        capture_output=True,
        text=True,
        cwd=os.getcwd(),
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Print CPU per request of each variant (median of the rounds) and the parts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=12000)
    parser.add_argument("--one", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(_one(args.one, args.requests))
        return
    runs: dict[str, list[float]] = {v: [] for v in VARIANTS}
    load = os.getloadavg()[0]
    for _ in range(args.rounds):
        for variant in VARIANTS:
            runs[variant].append(_run(variant, args.requests))
    med = {v: statistics.median(r) for v, r in runs.items()}
    print(f"load average at start {load:.2f}, now {os.getloadavg()[0]:.2f}")
    print(f"{'variant':<12} {'CPU µs/request (median)':>24}  runs")
    for v in VARIANTS:
        print(f"{v:<12} {med[v] * 1000:>24.0f}  {', '.join(f'{x * 1000:.0f}' for x in runs[v])}")
    parts = {
        "pipeline (pipeline - off)": med["pipeline"] - med["off"],
        "record (record - pipeline)": med["record"] - med["pipeline"],
        "wait (wait - pipeline)": med["wait"] - med["pipeline"],
        "SQL and durable commit (on - record+wait)": med["on"] - med["record+wait"],
        "all (on - off)": med["on"] - med["off"],
    }
    for name, value in parts.items():
        print(f"{name:<44} {value * 1000:>6.0f} µs")
    print(f"on ÷ off in CPU: {med['off'] / med['on']:.3f}")


if __name__ == "__main__":
    main()
