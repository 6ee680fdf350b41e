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

Counters = dict[str, dict[str, float]]  # chain -> {series: value}

# The series read, by the key they are reported under.
_SERIES = {
    "liandong_audit_records_total": "records",
    "liandong_audit_commits_total": "commits",
    "liandong_audit_commit_seconds_total": "wall",
    "liandong_audit_commit_sync_seconds_total": "sync",
    "liandong_audit_commit_wake_seconds_total": "wake",
}


async def audit_counters(url: str, workers: int, *, tries: int = 64) -> Counters:
    """``{chain: {series: value}}`` of every worker that answered within ``tries``."""
    seen: Counters = {}
    for _ in range(tries):
        connector = aiohttp.TCPConnector(force_close=True)
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            session.get(url + "/metrics") as resp,
        ):
            text = await resp.text()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                key = _SERIES.get(sample.name)
                if sample.name == "liandong_audit_commit_place_total":
                    key = f"on_{sample.labels['place']}"
                if key is not None:
                    seen.setdefault(sample.labels["chain"], {})[key] = sample.value
        if len(seen) >= workers:
            break
    return seen


def records_per_commit(before: Counters, after: Counters) -> dict[str, Any]:
    """Records and commits between two scrapes, in all, and a commit's mean wall time
    (start to done), time in ``COMMIT`` and time from its return to the event loop, in ms."""
    totals = dict.fromkeys([*_SERIES.values(), "on_loop", "on_thread"], 0.0)
    for chain, values in after.items():
        for key, value in values.items():
            totals[key] += value - before.get(chain, {}).get(key, 0.0)
    commits = totals["commits"]

    def per_commit_ms(key: str) -> float | None:
        return round(1000 * totals[key] / commits, 3) if commits else None

    return {
        "chains": len(after),
        "records": int(totals["records"]),
        "commits": int(commits),
        "per_commit": round(totals["records"] / commits, 2) if commits else None,
        "commit_wall_ms": per_commit_ms("wall"),
        "commit_sync_ms": per_commit_ms("sync"),
        "commit_wake_ms": per_commit_ms("wake"),
        "commits_on_loop": int(totals["on_loop"]),
        "commits_on_thread": int(totals["on_thread"]),
    }
