"""The bench's output: one rich table on stdout, the same figures in ``bench/results/latest.json``.

Every row is a figure, the limit it is measured against (in the same run), and the target
from the issue. A scenario that could not run shows ``n/a`` and why, never a made-up number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from bench.processes import REPO

__all__ = ["RESULTS", "Row", "render", "rows", "write_json"]

RESULTS = REPO / "bench" / "results"


@dataclass(frozen=True, slots=True)
class Row:
    scenario: str
    figure: str
    value: str
    target: str = ""
    ok: bool | None = None


def _rps(r: Mapping[str, Any]) -> str:
    return f"{r['rps']:.0f} req/s  p50 {r['p50_ms']:.1f} ms  p99 {r['p99_ms']:.1f} ms"


def _fan_out(f: Mapping[str, Any]) -> list[Row]:
    return [
        Row(
            "1 fan-out",
            f"median wall ÷ ({f['depth']} × {f['latency_ms']} ms)",
            f"{f['ratio']:.3f}  ({f['median_wall_ms']} ms, n={f['requests']}, "
            f"errors {f['errors']})",
            "≤ 1.2",
            f["ratio"] <= 1.2 and not f["errors"],
        )
    ]


def _batch(b: Mapping[str, Any]) -> list[Row]:
    out = []
    for route, e in b["endpoints"].items():
        seen = sorted(set(e["observed"]))
        out.append(
            Row(
                "2 batch",
                f"requests {route}",
                f"{'/'.join(map(str, seen))} (expected {e['expected']})",
                "= ceil(n / limit)",
                e["exact"],
            )
        )
    terms = b["bound_terms"]
    out.append(
        Row(
            "2 batch",
            f"wall ÷ lower bound ({b['debtors']} debtors, mocks {b['latency_ms']} ms)",
            f"{b['ratio']:.3f}  ({b['median_wall_s']} s ÷ {b['lower_bound_s']} s: "
            f"civil affairs max({terms['civil_affairs_by_concurrency_s']} s by concurrency, "
            f"{terms['civil_affairs_by_rate_s']} s by rate) + {terms['spouse_hop_s']} s "
            "spouse hop)",
            "≤ 1.3",
            b["ratio"] <= 1.3 and not b["errors"],
        )
    )
    phases = [p for p in b.get("phases_s", []) if p]
    if phases:
        out.append(
            Row(
                "2 batch",
                "where it went: lead-in / civil affairs span / tail (s)",
                "  ".join(
                    f"{p['lead_in']:.2f} / {p['civil_affairs_span']:.2f} / {p['tail']:.2f}"
                    for p in phases
                ),
            )
        )
    return out


def _throughput(results: Mapping[str, Any]) -> list[Row]:
    out: list[Row] = []
    plain = results.get("plain")
    warm = results.get("warm")
    if plain:
        out.append(Row("3 warm", "plain starlette, same bodies", _rps(plain)))
    if warm:
        out.append(
            Row(
                "3 warm",
                "gateway, audit on, cache warm",
                _rps(warm) + f"  upstream {warm.get('upstream_requests', '?')}",
            )
        )
        out.append(
            Row(
                "3 warm",
                "gateway CPU per request (plain)",
                f"{warm['server_cpu_ms_per_req']:.2f} ms ({plain['server_cpu_ms_per_req']:.2f} ms)"
                if plain
                else f"{warm['server_cpu_ms_per_req']:.2f} ms",
            )
        )
    if plain and warm:
        ratio = warm["rps"] / plain["rps"]
        out.append(
            Row("3 warm", "gateway ÷ plain (req/s)", f"{ratio:.3f}", "≥ 0.25", ratio >= 0.25)
        )
    cold = results.get("cold")
    if cold:
        out.append(Row("4 cold", "gateway, cache off, mocks 20 ms", _rps(cold)))
        ceiling = cold["latency_ceiling_rps"]
        out.append(
            Row(
                "4 cold",
                "÷ latency ceiling (32 conns ÷ 2 hops × 20 ms)",
                f"{cold['rps'] / ceiling:.3f}  (ceiling {ceiling:.0f} req/s)",
            )
        )
        if plain:
            out.append(
                Row("4 cold", "gateway ÷ plain (req/s)", f"{cold['rps'] / plain['rps']:.3f}")
            )
    return out


_AUDIT_TARGET = 0.92  # issue 17: audit on ÷ off, in req/s and in CPU per request


def _audit(results: Mapping[str, Any]) -> list[Row]:
    audit = results.get("audit")
    if not audit or audit.get("ratio") is None:
        reason = (audit or {}).get("reason", "not run")
        return [
            Row("5 audit", "audit on ÷ off (req/s)", f"n/a ({reason})", f"≥ {_AUDIT_TARGET}", None)
        ]
    return [
        Row("5 audit", "gateway, audit off, cache warm", _rps(audit["off"])),
        Row(
            "5 audit",
            "audit on ÷ off (req/s)",
            f"{audit['ratio']:.3f}",
            f"≥ {_AUDIT_TARGET}",
            audit["ratio"] >= _AUDIT_TARGET,
        ),
        Row(
            "5 audit",
            "audit off ÷ on (CPU per request; steadier under noise)",
            f"{audit['cpu_ratio']:.3f}  ({audit['off']['server_cpu_ms_per_req']:.2f} ÷ "
            f"{audit['on']['server_cpu_ms_per_req']:.2f} ms)",
            f"≥ {_AUDIT_TARGET}",
            audit["cpu_ratio"] >= _AUDIT_TARGET,
        ),
        *_audit_split(audit),
        *_audit_commits(audit.get("commits")),
    ]


def _audit_commits(commits: Mapping[str, Any] | None) -> list[Row]:
    if not commits or commits.get("per_commit") is None:
        return []
    return [
        Row(
            "5 audit",
            "audit records per group commit (all chains)",
            f"{commits['per_commit']:.2f}  ({commits['records']} records, "
            f"{commits['commits']} commits, {commits['chains']} chains)",
        ),
        *(
            [
                Row(
                    "5 audit",
                    "a commit's wall ms: in all = … COMMIT + return to the loop",
                    f"{commits['commit_wall_ms']:.3f} ms: {commits['commit_sync_ms']:.3f} + "
                    f"{commits['commit_wake_ms']:.3f}  (COMMIT on the loop "
                    f"{commits.get('commits_on_loop', 0)}, on the thread "
                    f"{commits.get('commits_on_thread', 0)})",
                )
            ]
            if commits.get("commit_wall_ms") is not None
            else []
        ),
    ]


def _audit_split(audit: Mapping[str, Any]) -> list[Row]:
    """What the audit log adds to a request's CPU: on the event loop, and on other threads."""
    on, off = audit["on"], audit["off"]
    if "server_loop_cpu_ms_per_req" not in on or "server_loop_cpu_ms_per_req" not in off:
        return []
    loop = on["server_loop_cpu_ms_per_req"] - off["server_loop_cpu_ms_per_req"]
    total = on["server_cpu_ms_per_req"] - off["server_cpu_ms_per_req"]
    return [
        Row(
            "5 audit",
            "audit's CPU per request: event loop + other threads",
            f"{total:.3f} ms = {loop:.3f} + {total - loop:.3f}",
        )
    ]


def _memory(m: Mapping[str, Any]) -> list[Row]:
    def curve(points: list[dict[str, Any]]) -> str:
        return "  ".join(f"{p['lookups'] // 1000}k:{p['rss_mib']:.0f}" for p in points)

    return [
        Row("6 memory", "RSS MiB after N look-ups, cache on", curve(m["points"])),
        Row("6 memory", "the same, cache off (control)", curve(m["points_cache_off"])),
        Row(
            "6 memory",
            f"fixed overhead + cache ({m['max_entries']} entries)",
            f"{m['final_rss_mib']} MiB = {m['fixed_overhead_mib']} fixed + "
            f"{m['cache_at_bound_mib']} cache ({m['per_entry_at_bound_bytes']} B/entry with "
            f"churn; {m['per_entry_bytes']} B while filling)",
        ),
        Row(
            "6 memory",
            "growth over the last half (cache full) vs control",
            f"+{m['late_growth_mib']} MiB vs +{m['late_growth_cache_off_mib']} MiB",
            "flat",
            m["within_bound"] and not m["errors"],
        ),
    ]


def rows(results: Mapping[str, Any]) -> list[Row]:
    """The table's rows, in scenario order; missing scenarios are left out."""
    out: list[Row] = []
    if "fan_out" in results:
        out += _fan_out(results["fan_out"])
    if "batch" in results:
        out += _batch(results["batch"])
    out += _throughput(results)
    if "audit" in results:
        out += _audit(results)
    if "memory" in results:
        out += _memory(results["memory"])
    for name, error in results.get("failed", {}).items():
        out.append(Row(name, "failed", error, "", False))
    return out


def render(results: Mapping[str, Any], console: Console | None = None) -> None:
    """Print the table (and the conditions it was measured under)."""
    table = Table(title="liandong bench", show_lines=False)
    for col in ("scenario", "figure", "value", "target", "ok"):
        table.add_column(col, overflow="fold")
    for row in rows(results):
        mark = "" if row.ok is None else ("yes" if row.ok else "NO")
        table.add_row(row.scenario, row.figure, row.value, row.target, mark)
    out = console or Console(width=200)
    out.print(table)
    env = results.get("environment", {})
    out.print(
        f"cores {env.get('cpus')}, load average {env.get('loadavg_start')} → "
        f"{env.get('loadavg_end')}, event loop {env.get('loop')}, http {env.get('http')}, "
        f"{results.get('elapsed_s', '?')} s in all"
    )


def write_json(results: Mapping[str, Any], path: Path | None = None) -> Path:
    """Write the figures as JSON (``bench/results/latest.json`` unless told otherwise)."""
    target = path or RESULTS / "latest.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    return target
