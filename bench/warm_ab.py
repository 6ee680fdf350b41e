"""``python -m bench.warm_ab``: the peer bench's warm one-debtor row, liandong alone, A B A B.

Each ``--side NAME=PATH[,key=value…]`` is ``liandong serve`` (one worker, audit on, the
response cache filled first, the peer bench's config) run from the checkout at ``PATH``
(``.`` for this one; another one made with ``git worktree add`` for the tree before a
change), the ``key=value`` pairs added to its ``[audit]`` settings (``commit_on_loop=false``).
All sides run at once over the same mocks and take turns under load, so drift on the
machine lands on each alike. Per run: req/s, CPU per request (all threads, and the event
loop alone), p50, and from ``/metrics`` the group commits meanwhile: records a commit and a
commit's wall time (start to done) = time in ``COMMIT`` + from its return to the loop, and
where ``COMMIT`` ran. This is the split that says whether the row waits for the disk, for
the commit's hand-off, or for CPU. The figures go to stdout and, with ``--out``, to JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.audit_commits import audit_counters, records_per_commit
from bench.fixtures import person_cases
from bench.lab import Lab
from bench.peer_bench import BATCH, PEOPLE, SEED, _bodies, _config, _warm_up
from bench.report import write_json
from bench.throughput import run_load
from mocks.world import World

__all__ = ["Side", "main", "parse_side"]


@dataclass(frozen=True, slots=True)
class Side:
    """One gateway of the comparison: its name, its checkout, its extra audit settings."""

    name: str
    repo: Path
    audit: dict[str, Any] = field(default_factory=dict)


def parse_side(text: str) -> Side:
    """``NAME=PATH[,key=value…]``; ``true``/``false`` values become booleans."""
    head, *pairs = text.split(",")
    name, sep, path = head.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"not NAME=PATH: {head!r}")
    audit: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"not key=value: {pair!r}")
        audit[key] = {"true": True, "false": False}.get(value, value)
    return Side(name, Path(path).resolve(), audit)


async def run(sides: list[Side], *, rounds: int, seconds: float) -> dict[str, Any]:
    results: dict[str, Any] = {"runs": {s.name: [] for s in sides}}
    async with await Lab.open() as lab, contextlib.AsyncExitStack() as stack:
        ids = list(World(seed=SEED, people=PEOPLE).person_ids())
        cases = person_cases(ids, BATCH, 7001)
        debtors = [(pid, case.number) for case in cases for pid, _ in case.debtor_ids]
        bodies = _bodies(lab.root, debtors)["liandong"].one
        urls = await lab.mocks(
            "mocks-warm-ab", people=PEOPLE, seed=SEED, ca_rate=1e6, ca_burst=10**6
        )
        procs = {}
        for side in sides:
            config = _config(lab.root / side.name, urls, cache=True)
            config.extra["audit"] = {**config.as_dict()["audit"], **side.audit}
            procs[side.name] = await stack.enter_async_context(
                lab.gateway(side.name, config, cases, workers=1, repo=side.repo)
            )
            lab.note(f"warming {side.name}")
            await _warm_up(lab, procs[side.name], bodies, len(debtors))
        for _ in range(rounds):
            for side in sides:
                proc = procs[side.name]
                before = await audit_counters(proc.url, 1)
                load = await run_load(
                    lab, proc, bodies, seconds=seconds, max_requests=10**7, mock_urls=urls
                )
                commits = records_per_commit(before, await audit_counters(proc.url, 1))
                row = {
                    "rps": round(load["rps"]),
                    "cpu_ms": load["server_cpu_ms_per_req"],
                    "loop_cpu_ms": load["server_loop_cpu_ms_per_req"],
                    "cores_busy": load["server_cores_busy"],
                    "p50_ms": load["p50_ms"],
                    "upstream": load.get("upstream_requests"),
                    "load_average": round(os.getloadavg()[0], 2),
                    **commits,
                }
                results["runs"][side.name].append(row)
                print(side.name, _line(row), flush=True)
    return results


def _line(row: dict[str, Any]) -> str:
    return (
        f"{row['rps']:>6,} req/s  CPU {row['cpu_ms']:.3f} ms/req (loop {row['loop_cpu_ms']:.3f})"
        f"  busy {row['cores_busy']:.2f}  p50 {row['p50_ms']:.2f} ms  "
        f"{row['per_commit']} records/commit, commit {row['commit_wall_ms']} ms = "
        f"COMMIT {row['commit_sync_ms']} + back {row['commit_wake_ms']}  "
        f"loop/thread {row['commits_on_loop']}/{row['commits_on_thread']}  "
        f"upstream {row['upstream']}  load {row['load_average']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.warm_ab", description=__doc__)
    parser.add_argument("--side", type=parse_side, action="append", required=True)
    parser.add_argument("--rounds", type=int, default=4, help="A B rounds")
    parser.add_argument("--seconds", type=float, default=6.0, help="per measured run")
    parser.add_argument("--out", type=Path, help="JSON path")
    args = parser.parse_args(argv)
    names = [s.name for s in args.side]
    if len(set(names)) != len(names):
        parser.error("side names must differ")
    results = asyncio.run(run(args.side, rounds=args.rounds, seconds=args.seconds))
    if args.out:
        write_json(results, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
