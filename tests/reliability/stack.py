"""A gateway over the mock agencies with resilience settings of the test's choosing.

The reliability suites start one stack per module (faults are cleared between tests), with
short deadlines and long transport timeouts, so that what ends a hung call is provably the
request's deadline. Also: reading ``/metrics``, and comparing a partial answer with a
healthy one agency by agency.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from gateway.cli.demo import seed_cases
from gateway.store.cases import Store
from mocks.records import CaseRecord
from mocks.runner import AGENCIES, RunningMocks, start_mocks
from mocks.world import World
from tests.harness import JUDGE, OFFICER, Gateway, gateway_settings, start_gateway, stop_gateway

AGENCY_CODES = {name: name.upper() for name in AGENCIES}


def agencies_with(**per_agency: Any) -> dict[str, dict[str, Any]]:
    """The same resilience settings for every agency."""
    return {name: dict(per_agency) for name in AGENCIES}


@contextlib.asynccontextmanager
async def running_stack(
    data_dir: Path,
    world: World,
    cases: list[CaseRecord],
    *,
    mock_options: Mapping[str, Any] | None = None,
    mocks: RunningMocks | None = None,
    **settings: Any,
) -> AsyncIterator[Gateway]:
    """Mocks (unless given) and a gateway over them, with ``cases`` registered."""
    own = mocks is None
    running = mocks or await start_mocks(world, **dict(mock_options or {}))
    try:
        config = gateway_settings(data_dir, running, **settings)
        store = await Store.open(config.database_url)
        try:
            await seed_cases(store, cases, [OFFICER], [JUDGE])
        finally:
            await store.close()
        gw = await start_gateway(config, running, court=cases[0].court)
        try:
            yield gw
        finally:
            await stop_gateway(gw)
    finally:
        if own:
            await running.aclose()


async def clear_faults(gw: Gateway) -> None:
    """Every agency healthy again; requests held by ``hang`` are let go."""
    for url in gw.mocks.urls.values():
        async with gw.session.delete(url + "/_faults") as resp:
            assert resp.status == 200


async def mock_log(gw: Gateway, agency: str) -> list[dict[str, Any]]:
    """The mock's per-request log (route, keys, status)."""
    entries: list[dict[str, Any]] = (await gw.stats(agency))["log"]
    return entries


async def mock_requests(gw: Gateway, agency: str) -> int:
    return sum((await gw.stats(agency))["requests"].values())


async def scrape(gw: Gateway) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``/metrics`` as ``{(sample name, sorted labels): value}``."""
    async with gw.session.get(gw.server.url + "/metrics") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = await resp.text()
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def metric(
    samples: Mapping[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    """One sample's value (0 when the series does not exist: nothing counted yet)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def metric_sum(
    samples: Mapping[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    """The sum over every series of ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))


# --- comparing a partial answer with a healthy one -----------------------------------------

Fact = tuple[str, str]  # (path without list indexes, canonical JSON of the fact)


def carriers(data: object) -> set[str]:
    """Paths (without list indexes) of values with an agency-sourced object inside.

    Taken from a healthy answer: in a failed one the same value may hold nothing any more
    (a spouse whose identity failed), and must still not count as part of the outer fact.
    """
    found: set[str] = set()

    def walk(node: object, path: str) -> bool:
        inside = False
        if isinstance(node, list):
            for item in node:
                inside = walk(item, path + "[]") or inside
        elif isinstance(node, dict):
            inside = "provenance" in node
            for name, value in node.items():
                if name != "provenance":
                    inside = walk(value, f"{path}.{name}" if path else name) or inside
        if inside:
            found.add(path)
        return inside

    walk(data, "")
    return found


def facts_by_agency(
    data: object, nested: set[str], *, excluding_under: str | None = None
) -> dict[str, Counter[Fact]]:
    """Every agency-sourced object of a response, by agency, as comparable facts.

    A fact is an object's own fields — those at ``nested`` paths are facts of their own —
    with its provenance reduced to the agency: fetch times differ between runs. Objects
    nested under one from ``excluding_under`` are left out: only it leads to them.
    """
    found: dict[str, Counter[Fact]] = {}

    def child(path: str, name: str) -> str:
        return f"{path}.{name}" if path else name

    def walk(node: object, path: str, ancestors: frozenset[str]) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, path + "[]", ancestors)
            return
        if not isinstance(node, dict):
            return
        provenance = node.get("provenance")
        if isinstance(provenance, dict) and "agency" in provenance:
            agency = str(provenance["agency"])
            if excluding_under is None or excluding_under not in ancestors:
                own = {
                    k: v
                    for k, v in node.items()
                    if k != "provenance" and child(path, k) not in nested
                }
                key = json.dumps(own, sort_keys=True, ensure_ascii=False)
                found.setdefault(agency, Counter())[(path, key)] += 1
            ancestors = ancestors | {agency}
        for name, value in node.items():
            if name != "provenance":
                walk(value, child(path, name), ancestors)

    walk(data, "", frozenset())
    return found


def error_paths(errors: Iterable[Mapping[str, Any]]) -> set[str]:
    return {".".join(str(p) for p in e.get("path") or []) for e in errors}


def value_at(data: object, path: str) -> object:
    """The value at a dotted error path (``debtor.marriage``), ``None`` if it is not there."""
    node = data
    for part in path.split("."):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _under(fact_path: str, field: str) -> bool:
    return fact_path == field or fact_path.startswith((field + ".", field + "[]"))


def assert_only_agency_failed(
    body: Mapping[str, Any],
    baseline: Mapping[str, Any],
    agency: str,
    codes: set[str],
    fields: set[str],
) -> None:
    """``agency`` (upper case) failed on exactly ``fields`` with one of ``codes``, and
    nothing else is missing compared with ``baseline``: a field that went null loses what
    it held; a list field loses only the failing agency's items."""
    errors = body.get("errors") or []
    assert errors, "the failing agency must be reported"
    for error in errors:
        ext = error.get("extensions") or {}
        assert ext.get("agency") == agency, error
        assert ext.get("code") in codes, error
    assert error_paths(errors) == fields, errors
    nested = carriers(baseline["data"])
    got = facts_by_agency(body["data"], nested)
    before = facts_by_agency(baseline["data"], nested)
    nulled = {f for f in fields if value_at(body["data"], f) is None}
    thinned = fields - nulled

    def lost(owner: str, path: str) -> bool:
        return any(_under(path, f) for f in nulled) or (
            owner == agency and any(_under(path, f) for f in thinned)
        )

    assert set(got) <= set(before), f"unexpected agencies {set(got) - set(before)}"
    for owner, facts in before.items():
        expected = Counter({fact: n for fact, n in facts.items() if not lost(owner, fact[0])})
        assert got.get(owner, Counter()) == expected, f"{owner} data wrong while {agency} failed"
