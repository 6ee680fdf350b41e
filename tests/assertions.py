"""Assertions over answers and metrics: reading a ``/metrics`` scrape, and comparing a
partial answer with a healthy one agency by agency."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from mocks.runner import AGENCIES

__all__ = [
    "AGENCY_CODES",
    "Samples",
    "agencies_with",
    "assert_only_agency_failed",
    "facts_by_agency",
    "metric",
    "metric_sum",
    "nodes",
]

AGENCY_CODES = {name: name.upper() for name in AGENCIES}

#: A ``/metrics`` scrape: ``{(sample name, sorted labels): value}``.
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def agencies_with(**per_agency: Any) -> dict[str, dict[str, Any]]:
    """The same resilience settings for every agency."""
    return {name: dict(per_agency) for name in AGENCIES}


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


def nodes(connection: Mapping[str, Any]) -> list[Any]:
    """The items of one page of a Relay connection, in order."""
    return [edge["node"] for edge in connection["edges"]]
