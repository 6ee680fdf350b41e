"""``make bench`` (``python -m bench``): every scenario of the benchmark, one table, one JSON.

Starts the mocks, the gateways and the plain yardstick as real processes on 127.0.0.1,
drives them from ``bench.load`` processes, and stops everything it started. Each scenario
is bounded in requests and seconds; a scenario that fails is reported as failed and the
others still run. ``bench/README.md`` says how each figure is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.audit_commits import audit_counters, records_per_commit
from bench.fixtures import GatewayConfig, audit_available, person_cases
from bench.lab import Lab
from bench.memory import rss_curve, summarize
from bench.processes import REPO, Proc
from bench.report import render, write_json
from bench.scenarios import BatchLimits, batch, fan_out, married
from bench.throughput import capture_bodies, profile_bodies, run_load, warm_up, warm_up_bodies
from mocks.world import World

SEED = 7
PEOPLE = 1000
SCENARIOS = ("fan_out", "batch", "warm", "cold", "audit", "memory")
MEMORY_PARTS = 10


async def _guard(
    results: dict[str, Any], name: str, lab: Lab, job: Callable[[], Awaitable[None]]
) -> None:
    started = time.perf_counter()
    lab.note(f"{name} …")
    try:
        await job()
    except Exception as exc:  # one scenario's failure must not hide the others' figures
        traceback.print_exc()
        results.setdefault("failed", {})[name] = f"{type(exc).__name__}: {exc}"[:300]
    results.setdefault("durations_s", {})[name] = round(time.perf_counter() - started, 1)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    wanted = set(args.only.split(",")) if args.only else set(SCENARIOS)
    results: dict[str, Any] = {"environment": _environment()}
    started = time.perf_counter()
    async with await Lab.open() as lab:
        world = World(seed=SEED, people=PEOPLE)
        ids = list(world.person_ids())
        cases = person_cases(ids, 5, 7001)
        case_of = {pid: case.number for case in cases for pid, _ in case.debtor_ids}
        debtors = [(pid, case_of[pid]) for pid in ids]
        bodies = profile_bodies(lab.root / "profiles.jsonl", debtors)
        warm_bodies = warm_up_bodies(lab.root / "warm-up.jsonl", cases)
        has_audit = audit_available()
        audit_on: bool | None = True if has_audit else None
        lab.note("starting the mocks")
        roomy = await lab.mocks(
            "mocks-roomy", people=PEOPLE, seed=SEED, ca_rate=1e6, ca_burst=10**6
        )

        if wanted & {"fan_out", "cold"}:
            config = GatewayConfig(lab.root / "cold", roomy, cache=False, audit=audit_on)
            async with lab.gateway("gateway-cold", config, cases) as gw:
                if "fan_out" in wanted:

                    async def do_fan_out() -> None:
                        chosen = [(p, case_of[p]) for p in married(world, ids)[: args.fan_out_n]]
                        results["fan_out"] = await fan_out(lab, gw, roomy, chosen, latency_ms=100)

                    await _guard(results, "fan_out", lab, do_fan_out)
                if "cold" in wanted:

                    async def do_cold() -> None:
                        await lab.set_faults(roomy, {"latency_ms": 20})
                        try:
                            cold = await run_load(
                                lab,
                                gw,
                                bodies,
                                seconds=args.seconds,
                                max_requests=20_000,
                                mock_urls=roomy,
                            )
                        finally:
                            await lab.set_faults(roomy, {"latency_ms": 0})
                        cold["latency_ceiling_rps"] = 32 / (2 * 0.020)
                        results["cold"] = cold

                    await _guard(results, "cold", lab, do_cold)

        if "batch" in wanted:

            async def do_batch() -> None:
                limits = BatchLimits(latency_ms=20, ca_rate=200.0, ca_burst=50, ca_concurrency=4)
                limited = await lab.mocks(
                    "mocks-limited",
                    people=PEOPLE,
                    seed=SEED,
                    ca_rate=limits.ca_rate,
                    ca_burst=limits.ca_burst,
                )
                big = person_cases(ids[:500], 500, 9001)
                config = GatewayConfig(
                    lab.root / "batch",
                    limited,
                    cache=False,
                    audit=audit_on,
                    ca_concurrency=limits.ca_concurrency,
                )
                async with lab.gateway("gateway-batch", config, big) as gw:
                    results["batch"] = await batch(
                        lab, gw, limited, world, ids[:500], big[0].number, limits
                    )

            await _guard(results, "batch", lab, do_batch)

        if wanted & {"warm", "audit"}:

            async def do_throughput() -> None:
                await _throughput(
                    lab, args, results, roomy, debtors, (bodies, warm_bodies), cases, has_audit
                )

            await _guard(results, "warm", lab, do_throughput)

        if "memory" in wanted:

            async def do_memory() -> None:
                big_world = await lab.mocks("mocks-100k", people=args.memory_people, seed=SEED)
                people = World(seed=SEED, people=args.memory_people).person_ids()
                mem_cases = person_cases(list(people), 100, 20001)
                # A tenth of the look-ups fill the cache; the rest churn through it nine times.
                max_entries = args.memory_people // MEMORY_PARTS
                curves = {}
                for cache in (True, False):
                    config = GatewayConfig(
                        lab.root / f"memory-{cache}",
                        big_world,
                        cache=cache,
                        max_entries=max_entries,
                        audit=audit_on,
                    )
                    name = f"gateway-memory-cache-{'on' if cache else 'off'}"
                    async with lab.gateway(name, config, mem_cases, workers=1) as gw:
                        curves[cache] = await rss_curve(
                            lab, gw, mem_cases, per_request=args.per_request, parts=MEMORY_PARTS
                        )
                results["memory"] = summarize(
                    curves[True], curves[False], max_entries, args.per_request
                )

            await _guard(results, "memory", lab, do_memory)

    results["environment"]["loadavg_end"] = _loadavg()
    results["elapsed_s"] = round(time.perf_counter() - started, 1)
    return results


async def _throughput(
    lab: Lab,
    args: argparse.Namespace,
    results: dict[str, Any],
    roomy: dict[str, str],
    debtors: list[tuple[str, str]],
    bodies_and_warm: tuple[Path, Path],
    cases: list[Any],
    has_audit: bool,
) -> None:
    """Warm gateway with audit on (and off), and the plain yardstick, in alternating rounds."""
    on = GatewayConfig(
        lab.root / "warm-on",
        roomy,
        audit=True if has_audit else None,
        audit_file_per_writer=False if args.audit_one_file else None,
        audit_commit_on_loop=False if args.audit_commit_thread else None,
    )
    off = GatewayConfig(lab.root / "warm-off", roomy, audit=False)
    bodies, warm_bodies = bodies_and_warm
    captured = lab.root / "captured.jsonl"
    runs: dict[str, list[dict[str, Any]]] = {"warm": [], "plain": [], "audit_off": []}
    async with contextlib.AsyncExitStack() as stack:
        gw_on = await stack.enter_async_context(lab.gateway("gateway-warm", on, cases))
        results["warm_up"] = {"audit_on": await warm_up(lab, gw_on, roomy, warm_bodies, len(cases))}
        results["captured"] = await capture_bodies(lab, gw_on, debtors, captured)
        plain = await stack.enter_async_context(lab.plain("plain", captured))
        targets: list[tuple[str, Proc, bool]] = [("warm", gw_on, True), ("plain", plain, False)]
        if has_audit:
            gw_off = await stack.enter_async_context(lab.gateway("gateway-warm-off", off, cases))
            results["warm_up"]["audit_off"] = await warm_up(
                lab, gw_off, roomy, warm_bodies, len(cases)
            )
            targets.append(("audit_off", gw_off, True))
        counted = await audit_counters(gw_on.url, 2) if has_audit else {}
        for _ in range(args.rounds):
            for name, target, upstream in targets:
                lab.note(f"  {name}")
                result = await run_load(
                    lab,
                    target,
                    bodies,
                    seconds=args.seconds,
                    max_requests=200_000,
                    mock_urls=roomy if upstream else None,
                )
                runs[name].append(result)
        if has_audit:
            # Over every round of the audit-on gateway: records per group commit.
            results["audit_commits"] = records_per_commit(
                counted, await audit_counters(gw_on.url, 2)
            )
    best = {k: max(v, key=lambda r: r["rps"]) for k, v in runs.items() if v}
    results["warm"], results["plain"] = best["warm"], best["plain"]
    results["rounds"] = {k: [r["rps"] for r in v] for k, v in runs.items()}
    if has_audit:
        results["audit"] = {
            "on": best["warm"],
            "off": best["audit_off"],
            "ratio": round(best["warm"]["rps"] / best["audit_off"]["rps"], 3),
            "commits": results.get("audit_commits"),
            "cpu_ratio": round(
                best["audit_off"]["server_cpu_ms_per_req"] / best["warm"]["server_cpu_ms_per_req"],
                3,
            ),
        }
    else:
        results["audit"] = {"ratio": None, "reason": "audit not available"}


def _loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _environment() -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    mods = {}
    for mod in ("uvloop", "httptools"):
        try:
            __import__(mod)
            mods[mod] = True
        except ImportError:
            mods[mod] = False
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "commit": commit,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "loadavg_start": _loadavg(),
        "loop": "uvloop" if mods["uvloop"] else "asyncio",
        "http": "httptools" if mods["httptools"] else "h11",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(SCENARIOS)}")
    parser.add_argument("--seconds", type=float, default=10.0, help="per measured load run")
    parser.add_argument("--rounds", type=int, default=2, help="alternating throughput rounds")
    parser.add_argument("--fan-out-n", type=int, default=21, help="profiles in the fan-out")
    parser.add_argument("--memory-people", type=int, default=100_000)
    parser.add_argument("--per-request", type=int, default=100, help="memory: ids per request")
    parser.add_argument(
        "--audit-one-file",
        action="store_true",
        help="warm/audit: every worker's chain in one SQLite file (the earlier layout)",
    )
    parser.add_argument(
        "--audit-commit-thread",
        action="store_true",
        help="warm/audit: every COMMIT of the audit log on its thread (the earlier way)",
    )
    parser.add_argument("--out", type=Path, help="JSON path (default bench/results/latest.json)")
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    render(results)
    path = write_json(results, args.out)
    print(f"figures written to {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    return 1 if results.get("failed") else 0


if __name__ == "__main__":
    sys.exit(main())
