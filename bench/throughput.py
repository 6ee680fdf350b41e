"""Throughput scenarios: full profiles at 32 connections, warm and cold, and the yardstick.

Warm: the cache holds every debtor of the 1,000-person data set in every worker before the
clock starts (warm-up passes repeat until one makes no upstream request: each uvicorn
worker has its own cache and a keep-alive connection stays with one worker). Cold: the
cache is off and the mocks answer after 20 ms. The plain starlette app serves the bodies
the warm gateway returned, captured from it first, under the same uvicorn and workers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from bench.fixtures import PROFILE, PROFILE_MANY, write_jsonl
from bench.lab import Lab
from bench.processes import Proc
from gateway.store.cases import CaseIn

__all__ = [
    "capture_bodies",
    "profile_bodies",
    "run_load",
    "warm_up",
    "warm_up_bodies",
]

CONCURRENCY = 32


def warm_up_bodies(path: Path, cases: Sequence[CaseIn]) -> Path:
    """One ``debtors(ids:)`` profile per case: the same cache entries as the single-debtor
    profiles, for a fifth of the requests."""
    return write_jsonl(
        path,
        (
            {
                "query": PROFILE_MANY,
                "variables": {"ids": [d for d, _ in c.debtor_ids], "caseNumber": c.number},
            }
            for c in cases
        ),
    )


def profile_bodies(path: Path, debtors: Sequence[tuple[str, str]]) -> Path:
    """The request bodies, one per debtor: the README's profile query and its variables."""
    return write_jsonl(
        path,
        ({"query": PROFILE, "variables": {"id": pid, "caseNumber": c}} for pid, c in debtors),
    )


async def warm_up(
    lab: Lab,
    gateway: Proc,
    mock_urls: Mapping[str, str],
    bodies: Path,
    count: int,
    *,
    max_passes: int = 12,
) -> dict[str, Any]:
    """Pass over every debtor until a pass sends (almost) nothing upstream."""
    misses: list[int] = []
    for _ in range(max_passes):
        await lab.reset_stats(mock_urls)
        await lab.load(
            gateway, bodies, concurrency=CONCURRENCY, requests=count, seconds=120, warmup_s=0
        )
        stats = await lab.upstream(mock_urls)
        misses.append(sum(sum(routes.values()) for routes in stats.values()))
        # Each pass about halves what is missing (a request meets either worker at random,
        # so one lucky pass proves little): stop after two in a row under 1% of a cold
        # pass, and report what the measured run still sent upstream.
        if len(misses) >= 3 and max(misses[-2:]) <= misses[0] // 100:
            break
    return {"passes": len(misses), "upstream_per_pass": misses}


async def capture_bodies(
    lab: Lab, gateway: Proc, debtors: Sequence[tuple[str, str]], path: Path
) -> dict[str, Any]:
    """Ask the warm gateway for every profile once and keep its exact response bytes."""
    sem = asyncio.Semaphore(8)
    captured: list[dict[str, str]] = []
    errors = 0

    async def one(pid: str, case: str) -> None:
        nonlocal errors
        async with sem:
            posted = await lab.post(gateway, PROFILE, {"id": pid, "caseNumber": case})
        if posted.status != 200 or b'"errors"' in posted.raw:
            errors += 1
        captured.append({"id": pid, "body": posted.raw.decode()})

    await asyncio.gather(*(one(pid, case) for pid, case in debtors))
    write_jsonl(path, captured)
    sizes = [len(c["body"].encode()) for c in captured]
    leaves = [_leaves(c["body"]) for c in captured[:50]]
    return {
        "bodies": len(captured),
        "errors": errors,
        "mean_bytes": round(sum(sizes) / len(sizes)),
        "mean_leaf_fields": round(sum(leaves) / len(leaves)),
    }


def _leaves(body: str) -> int:
    """Scalar values in a JSON document: how many fields GraphQL resolved, roughly."""

    def count(node: object) -> int:
        if isinstance(node, dict):
            return sum(count(v) for v in node.values())
        if isinstance(node, list):
            return sum(count(v) for v in node)
        return 1

    return count(orjson.loads(body))


async def run_load(
    lab: Lab,
    target: Proc,
    bodies: Path,
    *,
    seconds: float,
    max_requests: int,
    mock_urls: Mapping[str, str] | None = None,
    token: bool = True,
) -> dict[str, Any]:
    """One measured run at 32 connections; with ``mock_urls``, counts what went upstream."""
    if mock_urls is not None:
        await lab.reset_stats(mock_urls)
    result = await lab.load(
        target,
        bodies,
        concurrency=CONCURRENCY,
        requests=max_requests,
        seconds=seconds,
        warmup_s=1.0,
        token=token,
        mock_urls=mock_urls,
    )
    if mock_urls is not None:
        stats = await lab.upstream(mock_urls)
        result["upstream_requests"] = sum(sum(r.values()) for r in stats.values())
    return result
