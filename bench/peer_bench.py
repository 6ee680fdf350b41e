"""``make bench-peer`` (``python -m bench.peer_bench``): liandong beside Hive Gateway.

The same four mock agencies serve both: ``liandong serve`` (one worker, audit on, the
officer's JWT, the case check) and Hive Gateway over a GraphQL Mesh supergraph of the same
agencies (``bench/hive.py``; one Node process). Both are asked the same profile without real
estate, for one debtor or a 50-debtor batch. First an equality pass, one request at a time
per debtor: both sides must state the same facts (``bench/peer_facts.py``) and send the same
requests upstream (the mocks' own counters). Then the load runs, interleaved A B A B, each
bounded by a request count and a time limit: cold (liandong's cache off, Hive without a
response cache) at 0 and 20 ms agency latency, and warm (liandong's cache, Hive's response
cache, both filled first). ``--short`` (part of ``make bench``) runs cold one debtor at
0 ms and warm one debtor. The figures go to stdout and ``bench/results/peer.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.fixtures import GatewayConfig, person_cases, write_jsonl
from bench.hive import PEER_QUERY, compose, start_hive
from bench.lab import Lab
from bench.peer_facts import (
    LIANDONG_QUERY,
    LIANDONG_QUERY_MANY,
    differences,
    liandong_facts,
    peer_facts,
)
from bench.processes import REPO, Proc
from bench.report import write_json
from bench.throughput import run_load
from mocks.world import World

__all__ = ["FULL", "SHORT", "Scenario", "main"]

SEED = 7
PEOPLE = 1000
BATCH = 50  # debtors per batch request, and per case: every batch is one case's debtors
SIDES = ("liandong", "hive")
# Hive Gateway has no bulkhead: liandong's per-agency limit (8, civil affairs 4 in the
# bench's configs) opened wider than anything 32 connections can have in flight (32 × 50
# civil affairs look-ups), so that both sides wait on the same agencies and nothing else.
OPEN_BULKHEAD = 2048


@dataclass(frozen=True, slots=True)
class Scenario:
    """One row of the table: cold or warm, one debtor or a batch, the agencies' latency."""

    warm: bool
    batch: bool
    latency_ms: int = 0

    @property
    def name(self) -> str:
        what = f"{BATCH} debtors" if self.batch else "one debtor"
        if self.warm:
            return f"warm, {what} (Hive: its response cache)"
        return f"cold, {what}, agencies {self.latency_ms} ms"


FULL = (
    Scenario(warm=False, batch=False, latency_ms=0),
    Scenario(warm=False, batch=False, latency_ms=20),
    Scenario(warm=False, batch=True, latency_ms=0),
    Scenario(warm=False, batch=True, latency_ms=20),
    Scenario(warm=True, batch=False),
    Scenario(warm=True, batch=True),
)
SHORT = (FULL[0], FULL[4])
WARM = (FULL[4], FULL[5])


def _config(data_dir: Path, urls: Mapping[str, str], *, cache: bool) -> GatewayConfig:
    config = GatewayConfig(
        data_dir,
        urls,
        cache=cache,
        response_cache=cache,
        audit=True,
        ca_concurrency=OPEN_BULKHEAD,
    )
    agencies = config.as_dict()["agencies"]
    for options in agencies.values():
        options["max_concurrency"] = OPEN_BULKHEAD
    config.extra["agencies"] = agencies
    return config


@dataclass(frozen=True, slots=True)
class Bodies:
    """The request bodies of one side: one per debtor, and one per 50-debtor case."""

    one: Path
    batch: Path

    def of(self, scenario: Scenario) -> Path:
        return self.batch if scenario.batch else self.one


def _bodies(root: Path, debtors: Sequence[tuple[str, str]]) -> dict[str, Bodies]:
    groups = [debtors[i : i + BATCH] for i in range(0, len(debtors), BATCH)]
    ours = Bodies(
        write_jsonl(
            root / "liandong-one.jsonl",
            (
                {"query": LIANDONG_QUERY, "variables": {"id": p, "caseNumber": c}}
                for p, c in debtors
            ),
        ),
        write_jsonl(
            root / "liandong-batch.jsonl",
            (
                {
                    "query": LIANDONG_QUERY_MANY,
                    "variables": {"ids": [p for p, _ in g], "caseNumber": g[0][1]},
                }
                for g in groups
            ),
        ),
    )
    hive = Bodies(
        write_jsonl(
            root / "hive-one.jsonl",
            ({"query": PEER_QUERY, "variables": {"ids": [p]}} for p, _ in debtors),
        ),
        write_jsonl(
            root / "hive-batch.jsonl",
            ({"query": PEER_QUERY, "variables": {"ids": [p for p, _ in g]}} for g in groups),
        ),
    )
    return {"liandong": ours, "hive": hive}


async def _ask_all(
    lab: Lab, proc: Proc, urls: Mapping[str, str], asks: Sequence[tuple[list[str], str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Post each ``(ids, query, variables)``; the answers and the upstream requests they
    cost, by route."""
    await lab.reset_stats(urls)
    sem = asyncio.Semaphore(8)

    async def one(query: str, variables: Any) -> dict[str, Any]:
        async with sem:
            posted = await lab.post(proc, query, variables)
        if posted.status != 200 or "errors" in posted.body:
            raise RuntimeError(f"{proc.name} answered {posted.status}: {posted.raw[:300]!r}")
        return posted.body

    answers = await asyncio.gather(*(one(q, v) for _, q, v in asks))
    upstream = await lab.upstream(urls)
    return list(answers), {r: n for routes in upstream.values() for r, n in routes.items()}


async def equality(
    lab: Lab,
    ours: Proc,
    hive: Proc,
    urls: Mapping[str, str],
    debtors: Sequence[tuple[str, str]],
) -> dict[str, Any]:
    """Both sides' facts and upstream requests for ``debtors``, one by one and in batches."""
    out: dict[str, Any] = {}
    groups = [list(debtors[i : i + BATCH]) for i in range(0, len(debtors), BATCH)]
    for kind, asks_ours, asks_hive in (
        (
            "one",
            [([p], LIANDONG_QUERY, {"id": p, "caseNumber": c}) for p, c in debtors],
            [([p], PEER_QUERY, {"ids": [p]}) for p, _ in debtors],
        ),
        (
            "batch",
            [
                (
                    [p for p, _ in g],
                    LIANDONG_QUERY_MANY,
                    {"ids": [p for p, _ in g], "caseNumber": g[0][1]},
                )
                for g in groups
            ],
            [([p for p, _ in g], PEER_QUERY, {"ids": [p for p, _ in g]}) for g in groups],
        ),
    ):
        answers_ours, up_ours = await _ask_all(lab, ours, urls, asks_ours)
        answers_hive, up_hive = await _ask_all(lab, hive, urls, asks_hive)
        facts_ours: dict[str, Any] = {}
        facts_hive: dict[str, Any] = {}
        for (ids, _, _), a, b in zip(asks_ours, answers_ours, answers_hive, strict=True):
            facts_ours.update(liandong_facts(ids, a))
            facts_hive.update(peer_facts(ids, b))
        diff = differences(facts_ours, facts_hive)
        n_ours, n_hive = sum(up_ours.values()), sum(up_hive.values())
        out[kind] = {
            "requests": len(asks_ours),
            "debtors": len(facts_ours),
            "differences": len(diff),
            "first_differences": diff[:10],
            "upstream": {"liandong": n_ours, "hive": n_hive},
            "upstream_per_request": {
                "liandong": round(n_ours / len(asks_ours), 3),
                "hive": round(n_hive / len(asks_hive), 3),
            },
            "upstream_by_route": {"liandong": up_ours, "hive": up_hive},
        }
    return out


async def _warm_up(lab: Lab, proc: Proc, bodies: Path, count: int) -> None:
    # One pass over every body fills both caches (one worker each); the measured runs
    # report what still went upstream.
    await lab.load(proc, bodies, concurrency=8, requests=count, seconds=120, warmup_s=0)


async def _runs(
    lab: Lab,
    scenario: Scenario,
    procs: Mapping[str, Proc],
    bodies: Mapping[str, Bodies],
    urls: Mapping[str, str],
    args: argparse.Namespace,
) -> dict[str, Any]:
    await lab.set_faults(urls, {"latency_ms": scenario.latency_ms})
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES}
    try:
        for _ in range(args.rounds):
            for side in SIDES:  # A B A B: drift on the machine lands on both sides alike
                lab.note(f"  {scenario.name}: {side}")
                runs[side].append(
                    await run_load(
                        lab,
                        procs[side],
                        bodies[side].of(scenario),
                        seconds=args.seconds,
                        max_requests=args.max_requests,
                        mock_urls=urls,
                    )
                )
    finally:
        await lab.set_faults(urls, {"latency_ms": 0})
    return {"scenario": scenario.name, "runs": runs}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    scenarios = WARM if args.warm else SHORT if args.short else FULL
    results: dict[str, Any] = {"scenarios": [], "short": args.short}
    started = time.perf_counter()
    async with await Lab.open() as lab:
        ids = list(World(seed=SEED, people=PEOPLE).person_ids())
        cases = person_cases(ids, BATCH, 7001)
        debtors = [(pid, case.number) for case in cases for pid, _ in case.debtor_ids]
        bodies = _bodies(lab.root, debtors)
        lab.note("starting the mocks and composing the peer's supergraph")
        urls = await lab.mocks("mocks-peer", people=PEOPLE, seed=SEED, ca_rate=1e6, ca_burst=10**6)
        supergraph = await compose(urls, lab.root / "supergraph.graphql")
        checked = debtors[: args.equality]
        async with contextlib.AsyncExitStack() as stack:
            cold = _config(lab.root / "cold", urls, cache=False)
            procs = {
                "liandong": await stack.enter_async_context(
                    lab.gateway("liandong-cold", cold, cases, workers=1)
                ),
                "hive": await _hive(lab, stack, "hive-cold", supergraph, urls, cache=False),
            }
            lab.note(f"equality over {len(checked)} debtors")
            results["equality"] = await equality(
                lab, procs["liandong"], procs["hive"], urls, checked
            )
            for scenario in (s for s in scenarios if not s.warm):
                results["scenarios"].append(await _runs(lab, scenario, procs, bodies, urls, args))
        warm_ones = [s for s in scenarios if s.warm]
        if warm_ones:
            async with contextlib.AsyncExitStack() as stack:
                warm = _config(lab.root / "warm", urls, cache=True)
                procs = {
                    "liandong": await stack.enter_async_context(
                        lab.gateway("liandong-warm", warm, cases, workers=1)
                    ),
                    "hive": await _hive(lab, stack, "hive-warm", supergraph, urls, cache=True),
                }
                for side in SIDES:
                    for s in warm_ones:
                        lab.note(f"warming {side} ({s.name})")
                        count = len(cases) if s.batch else len(debtors)
                        await _warm_up(lab, procs[side], bodies[side].of(s), count)
                for scenario in warm_ones:
                    results["scenarios"].append(
                        await _runs(lab, scenario, procs, bodies, urls, args)
                    )
    results["elapsed_s"] = round(time.perf_counter() - started, 1)
    return results


async def _hive(
    lab: Lab,
    stack: contextlib.AsyncExitStack,
    name: str,
    supergraph: Path,
    urls: Mapping[str, str],
    *,
    cache: bool,
) -> Proc:
    proc = await start_hive(name, supergraph, urls, response_cache=cache)
    lab.procs.append(proc)  # stopped with the lab whatever happens

    async def stop() -> None:
        await proc.stop()
        lab.procs.remove(proc)

    stack.push_async_callback(stop)
    return proc


def _span(values: Sequence[float], digits: int = 0) -> str:
    lo, hi = min(values), max(values)
    return f"{lo:,.{digits}f}" if lo == hi else f"{lo:,.{digits}f}–{hi:,.{digits}f}"


def render(results: Mapping[str, Any], console: Console | None = None) -> None:
    """The issue's table: req/s each side, the ratio, CPU per request each side."""
    out = console or Console(width=200)
    eq = results.get("equality", {})
    for kind, e in eq.items():
        per = e["upstream_per_request"]
        out.print(
            f"equality ({kind}): {e['debtors']} debtors in {e['requests']} requests, "
            f"{e['differences']} differences; upstream per request liandong "
            f"{per['liandong']} vs Hive {per['hive']} ({e['upstream']['liandong']} vs "
            f"{e['upstream']['hive']}): "
            f"facts {'equal' if not e['differences'] else 'DIFFER'}, upstream "
            f"{'equal' if e['upstream']['liandong'] == e['upstream']['hive'] else 'UNEQUAL'}"
        )
    table = Table(title="liandong beside Hive Gateway 2.15.1 (one worker each, audit on)")
    for col in ("scenario", "liandong req/s", "Hive req/s", "ratio", "CPU ms/req liandong vs Hive"):
        table.add_column(col)
    for s in results.get("scenarios", []):
        ours, hive = s["runs"]["liandong"], s["runs"]["hive"]
        rps_o = [r["rps"] for r in ours]
        rps_h = [r["rps"] for r in hive]
        ratios = [a / b for a, b in zip(rps_o, rps_h, strict=True) if b]
        cpu_o = [r["server_cpu_ms_per_req"] for r in ours]
        cpu_h = [r["server_cpu_ms_per_req"] for r in hive]
        table.add_row(
            s["scenario"],
            _span(rps_o),
            _span(rps_h),
            _span(ratios, 2),
            f"{_span(cpu_o, 2)} vs {_span(cpu_h, 2)}",
        )
    out.print(table)
    out.print(f"{results.get('elapsed_s', '?')} s in all; ratio per round (A B pairs)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.peer_bench", description=__doc__)
    parser.add_argument("--short", action="store_true", help="cold and warm one debtor only")
    parser.add_argument("--warm", action="store_true", help="the two warm rows only")
    parser.add_argument("--seconds", type=float, help="per measured run (default 10, short 5)")
    parser.add_argument("--rounds", type=int, default=2, help="A B rounds per scenario")
    parser.add_argument("--max-requests", type=int, default=100_000, help="per measured run")
    parser.add_argument("--equality", type=int, help="debtors checked (default all, short 200)")
    parser.add_argument("--out", type=Path, help="JSON path (default bench/results/peer.json)")
    args = parser.parse_args(argv)
    if args.seconds is None:
        args.seconds = 5.0 if args.short else 10.0
    if args.equality is None:
        args.equality = 200 if args.short or args.warm else PEOPLE
    results = asyncio.run(run(args))
    render(results)
    path = write_json(results, args.out or REPO / "bench" / "results" / "peer.json")
    print(f"figures written to {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    # Differences and unequal upstream counts are figures (targets of the comparison, shown
    # above); only a scenario that could not run makes the command fail.
    return 0


if __name__ == "__main__":
    sys.exit(main())
