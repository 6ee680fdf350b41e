"""Records per group commit of a running gateway, over all its workers' audit chains.

Each worker reports its own counters on ``/metrics``, labelled by its chain; a connection
reaches one worker, so the scrape opens fresh connections until it has seen every worker
(the kernel spreads them by address) or gives up after ``tries``.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

__all__ = ["audit_counters", "records_per_commit"]

Counters = dict[str, tuple[float, float]]  # chain -> (records, commits)


async def audit_counters(url: str, workers: int, *, tries: int = 64) -> Counters:
    """``{chain: (records, commits)}`` of every worker that answered within ``tries``."""
    seen: Counters = {}
    for _ in range(tries):
        connector = aiohttp.TCPConnector(force_close=True)
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            session.get(url + "/metrics") as resp,
        ):
            text = await resp.text()
        values: dict[tuple[str, str], float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name in ("liandong_audit_records_total", "liandong_audit_commits_total"):
                    values[sample.name, sample.labels["chain"]] = sample.value
        for (name, chain), _ in values.items():
            if name == "liandong_audit_records_total":
                seen[chain] = (values[name, chain], values["liandong_audit_commits_total", chain])
        if len(seen) >= workers:
            break
    return seen


def records_per_commit(before: Counters, after: Counters) -> dict[str, Any]:
    """Records and commits between two scrapes, per chain and in all."""
    chains = {
        chain: (
            records - before.get(chain, (0.0, 0.0))[0],
            commits - before.get(chain, (0.0, 0.0))[1],
        )
        for chain, (records, commits) in after.items()
    }
    records = sum(r for r, _ in chains.values())
    commits = sum(c for _, c in chains.values())
    return {
        "chains": len(chains),
        "records": int(records),
        "commits": int(commits),
        "per_commit": round(records / commits, 2) if commits else None,
    }
