"""Latency scenarios: one profile's fan-out, and a 500-debtor batch against its lower bound.

Both run with the cache off (every look-up goes upstream) and the mocks holding every data
response for a fixed latency, so that the figures are ratios against what the dependency
graph and the agencies' own limits allow.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.fixtures import PROFILE, PROFILE_MANY
from bench.lab import Lab, median
from bench.processes import Proc
from mocks.world import World

__all__ = ["BatchLimits", "batch", "batch_expectations", "fan_out", "married"]

DEPTH = 2  # the four agencies at once, then the spouse's identity: the only second hop

PS_PERSONS = "POST /ps/v1/persons/query"
PS_VEHICLES = "POST /ps/v1/vehicles/query"
PS_BANS = "POST /ps/v1/exit-bans/query"
CA_MARRIAGE = "GET /ca/v2/marriage/{id}"
LR_QUERY = "POST /lr/query"
MR_ROLES = "POST /mr/api/v1/roles"


def married(world: World, ids: Sequence[str]) -> list[str]:
    """Those of ``ids`` whose marriage names a spouse by id (their profile has two hops)."""
    return [pid for pid in ids if (m := world.marriage(pid)) is not None and m.spouse_id]


async def fan_out(
    lab: Lab,
    gateway: Proc,
    mock_urls: Mapping[str, str],
    debtors: Sequence[tuple[str, str]],
    *,
    latency_ms: int,
) -> dict[str, Any]:
    """Median wall of one full profile ÷ (depth × latency), over ``debtors`` in turn."""
    await lab.set_faults(mock_urls, {"latency_ms": latency_ms})
    walls: list[float] = []
    errors = 0
    try:
        for pid, case in debtors:
            posted = await lab.post(gateway, PROFILE, {"id": pid, "caseNumber": case})
            debtor = (posted.body.get("data") or {}).get("debtor") or {}
            spouse = (debtor.get("marriage") or {}).get("spouse") or {}
            if posted.status != 200 or posted.body.get("errors") or not spouse.get("identity"):
                errors += 1
            walls.append(posted.wall_s)
    finally:
        await lab.set_faults(mock_urls, {"latency_ms": 0})
    wall = median(walls)
    bound = DEPTH * latency_ms / 1000
    return {
        "latency_ms": latency_ms,
        "depth": DEPTH,
        "requests": len(walls),
        "errors": errors,
        "median_wall_ms": round(wall * 1000, 1),
        "min_wall_ms": round(min(walls) * 1000, 1),
        "max_wall_ms": round(max(walls) * 1000, 1),
        "bound_ms": round(bound * 1000, 1),
        "ratio": round(wall / bound, 3),
    }


@dataclass(frozen=True, slots=True)
class BatchLimits:
    """The limits that bound the batch scenario: the agencies' and the gateway's own."""

    latency_ms: int
    ca_rate: float  # civil affairs token bucket: tokens per second
    ca_burst: int
    ca_concurrency: int  # the gateway's civil_affairs.max_concurrency
    max_concurrency: int = 8  # the other agencies' max_concurrency (the default)
    ps_batch: int = 100
    lr_batch: int = 50
    mr_batch: int = 50
    mr_page: int = 100

    def lower_bound_s(self, expected: Mapping[str, int], mr_pages: Sequence[int]) -> float:
        """The least wall time the limits allow: the slowest agency's first hop, plus the
        spouse hop after the last marriage."""
        lat = self.latency_ms / 1000
        n_ca = expected[CA_MARRIAGE]
        by_concurrency = math.ceil(n_ca / self.ca_concurrency) * lat
        by_rate = max(0, n_ca - self.ca_burst) / self.ca_rate
        civil = max(by_concurrency, by_rate) + lat
        ps = math.ceil((expected[PS_VEHICLES] + expected[PS_BANS]) / self.max_concurrency) * lat
        lr = math.ceil(expected[LR_QUERY] / self.max_concurrency) * lat
        mr = max(max(mr_pages, default=0), math.ceil(sum(mr_pages) / self.max_concurrency)) * lat
        return max(civil, ps, lr, mr)


def batch_expectations(
    world: World, ids: Sequence[str], limits: BatchLimits
) -> tuple[dict[str, int], list[int]]:
    """Upstream requests per endpoint that a perfect batcher makes: ceil(n / limit) for each
    batch of distinct keys (spouses not already asked for are the second hop), and the pages
    the roles endpoint needs per 50-person chunk."""
    asked = set(ids)
    spouses = {
        m.spouse_id
        for pid in ids
        if (m := world.marriage(pid)) is not None and m.spouse_id and m.spouse_id not in asked
    }
    n = len(ids)
    pages = []
    for i in range(0, n, limits.mr_batch):
        items = sum(len(world.roles_of(pid)) for pid in ids[i : i + limits.mr_batch])
        pages.append(max(1, math.ceil(items / limits.mr_page)))
    expected = {
        PS_PERSONS: math.ceil(n / limits.ps_batch) + math.ceil(len(spouses) / limits.ps_batch),
        PS_VEHICLES: math.ceil(n / limits.ps_batch),
        PS_BANS: math.ceil(n / limits.ps_batch),
        CA_MARRIAGE: n,
        LR_QUERY: math.ceil(n / limits.lr_batch),
        MR_ROLES: sum(pages),
    }
    return expected, pages


async def batch(
    lab: Lab,
    gateway: Proc,
    mock_urls: Mapping[str, str],
    world: World,
    ids: Sequence[str],
    case_number: str,
    limits: BatchLimits,
    *,
    runs: int = 3,
) -> dict[str, Any]:
    """``debtors`` for ``ids`` with the full profile: requests per endpoint and wall time."""
    expected, pages = batch_expectations(world, ids, limits)
    bound = limits.lower_bound_s(expected, pages)
    walls: list[float] = []
    observed: list[dict[str, int]] = []
    phases: list[dict[str, float]] = []
    errors = 0
    await lab.set_faults(mock_urls, {"latency_ms": limits.latency_ms})
    try:
        for _ in range(runs):
            # Let the civil affairs bucket fill up again: each run starts with its burst.
            await asyncio.sleep(limits.ca_burst / limits.ca_rate + 0.5)
            await lab.reset_stats(mock_urls)
            posted = await lab.post(gateway, PROFILE_MANY, {"ids": ids, "caseNumber": case_number})
            debtors = (posted.body.get("data") or {}).get("debtors") or []
            if posted.status != 200 or posted.body.get("errors") or len(debtors) != len(ids):
                errors += 1
            walls.append(posted.wall_s)
            counts: dict[str, int] = {}
            stats = await lab.stats(mock_urls)
            for agency_stats in stats.values():
                counts.update(agency_stats["requests"])
            observed.append(counts)
            phases.append(_phases(posted.started, posted.ended, stats))
    finally:
        await lab.set_faults(mock_urls, {"latency_ms": 0})
    wall = median(walls)
    endpoints = {
        route: {
            "expected": want,
            "observed": [o.get(route, 0) for o in observed],
            "exact": all(o.get(route, 0) == want for o in observed),
        }
        for route, want in expected.items()
    }
    return {
        "debtors": len(ids),
        "latency_ms": limits.latency_ms,
        "runs": runs,
        "errors": errors,
        "endpoints": endpoints,
        "requests_exact": all(e["exact"] for e in endpoints.values()),
        "other_routes": sorted({r for o in observed for r in o} - set(expected)),
        "median_wall_s": round(wall, 3),
        "walls_s": [round(w, 3) for w in walls],
        "lower_bound_s": round(bound, 3),
        "bound_terms": {
            "civil_affairs_by_concurrency_s": round(
                math.ceil(len(ids) / limits.ca_concurrency) * limits.latency_ms / 1000, 3
            ),
            "civil_affairs_by_rate_s": round(
                max(0, len(ids) - limits.ca_burst) / limits.ca_rate, 3
            ),
            "spouse_hop_s": limits.latency_ms / 1000,
        },
        "limits": {
            "ca_rate_per_s": limits.ca_rate,
            "ca_burst": limits.ca_burst,
            "ca_max_concurrency": limits.ca_concurrency,
        },
        "ratio": round(wall / bound, 3),
        # Where the wall time went, per run (seconds): before the first upstream request,
        # from the first to the last civil affairs request, and after the last upstream
        # answer until the whole response was in.
        "phases_s": phases,
    }


def _phases(started: float, ended: float, stats: Mapping[str, Any]) -> dict[str, float]:
    log = [e for s in stats.values() for e in s["log"]]
    civil = [e for e in stats["civil_affairs"]["log"] if e["route"] == CA_MARRIAGE] or log
    if not log:
        return {}
    return {
        "lead_in": round(min(e["start"] for e in log) - started, 3),
        "civil_affairs_span": round(
            max(e["end"] for e in civil) - min(e["start"] for e in civil), 3
        ),
        "tail": round(ended - max(e["end"] for e in log), 3),
    }
