"""``python -m bench.profile``: where a warm gateway worker spends its time, by py-spy.

Starts the mocks and one gateway worker (cache on, audit on), warms the cache with every
profile of the 1,000-person data set, then samples the worker with ``py-spy record`` while
``bench.load`` drives full profiles at 32 connections (``--response-cache``: with the
response cache on, so that every measured request is a hit). Prints the functions with the most
samples on the stack (inclusive) and at the top of it (self), and keeps the collapsed
stacks (``bench/results/profile.txt``) for a flame graph.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import sys
from collections import Counter
from pathlib import Path

from bench.fixtures import GatewayConfig, person_cases
from bench.lab import Lab
from bench.report import RESULTS
from bench.throughput import profile_bodies, run_load, warm_up
from mocks.world import World

__all__ = ["AREAS", "by_area", "main", "summarize"]


# Where a sample belongs: the area of the frame nearest the top of its stack that names one.
AREAS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("case authorization (store.get_case)", re.compile(r"^authorized_case ")),
    ("response cache: case check of a hit", re.compile(r"^ResponseGate\.allows ")),
    ("restrictions (store.restrictions_of)", re.compile(r"restrictions_of ")),
    (
        "audit record and group commit",
        re.compile(r"\(gateway/audit/|^AuditPipeline\.(_record|record) "),
    ),
    ("JWT verification", re.compile(r"^TokenVerifier\.")),
    ("DataLoaders, cache, connectors", re.compile(r"\((resolvers|connectors)/")),
    (
        "GraphQL execution (strawberry, graphql-core, schema/)",
        re.compile(r"\((graphql/execution|strawberry/schema|strawberry/types|schema/)"),
    ),
    ("parsing and validation", re.compile(r"\(graphql/(language|validation)|ParserCache")),
    ("response cache: the rest of a hit at the door", re.compile(r"\(gateway/web/hit_path\.py")),
    (
        "starlette, strawberry view, our app",
        re.compile(r"\((starlette|strawberry/http)/|\(gateway/web/app\.py"),
    ),
    ("uvicorn and httptools (HTTP parsing, transport)", re.compile(r"\((uvicorn|httptools)/")),
)


def by_area(collapsed: str) -> list[tuple[str, float]]:
    """Sample shares per area of the gateway (see ``AREAS``), largest first."""
    counts: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        total += int(count)
        frames = stack.split(";")
        area = next(
            (name for f in reversed(frames) for name, pat in AREAS if pat.search(f)),
            "other (event loop, threads, SQLAlchemy outside the above)",
        )
        counts[area] += int(count)
    return [(name, n / total) for name, n in counts.most_common()] if total else []


def summarize(collapsed: str, top: int = 25) -> str:
    """Inclusive and self sample shares per function, from py-spy's collapsed stacks."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_short(f) for f in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    if not total:
        return "no samples"
    lines = [f"{total} samples", "", "by area (the frame nearest the top that names one):"]
    lines += [f"  {share:6.1%}  {name}" for name, share in by_area(collapsed)]
    lines += ["", "inclusive (on the stack):"]
    lines += [f"  {n / total:6.1%}  {f}" for f, n in inclusive.most_common(top)]
    lines += ["", "self (at the top of the stack):"]
    lines += [f"  {n / total:6.1%}  {f}" for f, n in own.most_common(top)]
    return "\n".join(lines)


def _short(frame: str) -> str:
    # "func (path/to/module.py:123)" -> "func (module/path.py)", line numbers dropped so
    # that one function is one row.
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    else:
        path = Path(path).name if "/" in path else path
    return f"{name} ({path})"


async def _run(
    seconds: float, query_ids: int, response_cache: bool
) -> tuple[str, dict[str, object]]:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    async with await Lab.open() as lab:
        world = World(seed=7, people=1000)
        ids = list(world.person_ids())[:query_ids]
        cases = person_cases(ids, 5, 7001)
        debtors = [(pid, case.number) for case in cases for pid, _ in case.debtor_ids]
        bodies = profile_bodies(lab.root / "profiles.jsonl", debtors)
        mocks = await lab.mocks("mocks", people=1000, seed=7, ca_rate=1e6, ca_burst=10**6)
        config = GatewayConfig(lab.root / "gw", mocks, response_cache=response_cache)
        async with lab.gateway("gateway", config, cases, workers=1) as gw:
            await warm_up(lab, gw, mocks, bodies, len(debtors), max_passes=2)
            out = lab.root / "profile.txt"
            argv = [py_spy, "record", "--pid", str(gw.workers()[0]), "--rate", "250", "--gil"]
            argv += ["--duration", str(int(seconds)), "--format", "raw", "--output", str(out)]
            spy = await asyncio.create_subprocess_exec(
                *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
            )
            result = await run_load(lab, gw, bodies, seconds=seconds, max_requests=10**6)
            _, err = await spy.communicate()
            if spy.returncode != 0 or not out.exists():
                raise RuntimeError(f"py-spy failed: {err.decode(errors='replace')[-500:]}")
            RESULTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(out, RESULTS / "profile.txt")
            return out.read_text(), result


def main(argv: list[str] | None = None) -> int:
    """Profile a warm gateway worker under load; print the top costs."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--people", type=int, default=1000, help="distinct debtors asked for")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument(
        "--response-cache", action="store_true", help="response cache on: profile its hits"
    )
    args = parser.parse_args(argv)
    collapsed, result = asyncio.run(_run(args.seconds, args.people, args.response_cache))
    print(
        f"load: {result['rps']} req/s, p50 {result['p50_ms']} ms, "
        f"{result['server_cpu_ms_per_req']} ms CPU per request (one worker)"
    )
    print(summarize(collapsed, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
