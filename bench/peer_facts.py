"""The facts in a liandong profile and in the peer's answer, in one shape, to compare them.

Both sides answer the same question about the same debtors: identity, marriage and the
spouse's identity, company roles, vehicles and equity stakes with their controls, exit bans.
Each answer is reduced to plain tuples per debtor id (sorted where the order is the agency's
and not a fact), so that two answers agree exactly when they state the same facts. Fields
only one side has (provenance, masked ids, the peer's raw ids) are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from bench.fixtures import PROFILE, PROFILE_MANY

__all__ = ["LIANDONG_QUERY", "LIANDONG_QUERY_MANY", "differences", "liandong_facts", "peer_facts"]


def _without_real_estate(query: str) -> str:
    # No Mesh source reads the land registry's XML: both sides leave real estate out.
    out = query.replace("assets {", "assets(kinds: [VEHICLE, EQUITY]) {")
    out = "\n".join(line for line in out.splitlines() if "... on RealEstate" not in line)
    assert out != query, "examples/profile.graphql changed"
    return out


LIANDONG_QUERY = _without_real_estate(PROFILE)
LIANDONG_QUERY_MANY = _without_real_estate(PROFILE_MANY)

Facts = dict[str, Any]


def _sorted(items: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    # The agencies' order is not a fact. By repr: a total order even where a value is None.
    return sorted(items, key=repr)


def _control(c: Mapping[str, Any]) -> tuple[Any, ...]:
    return (c["court"], c["caseNumber"], c["since"], c["until"], c["queuePosition"])


def _controls(items: Iterable[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    return _sorted(_control(c) for c in items)


# The API states sex as an enum (MALE, FEMALE); the agency and the peer pass its code on.
_SEX_CODE = {"MALE": "M", "FEMALE": "F"}


def _ratio(value: Any) -> str | None:
    # A number in the API, the agency's decimal text at the peer: compared as decimals
    # (0.35 and "0.3500" agree); anything that is no number is compared as its text.
    if value is None:
        return None
    try:
        return str(Decimal(str(value)).normalize())
    except InvalidOperation:
        return str(value)


def _one_liandong(d: Mapping[str, Any]) -> Facts:
    ident = d["identity"]
    m = d["marriage"]
    spouse = None
    if m and m.get("spouse"):
        s = m["spouse"]["identity"]
        spouse = (s["name"], s["birthDate"], s["status"])
    assets = d["assets"]
    return {
        "identity": (
            ident["name"],
            _SEX_CODE.get(ident["sex"], ident["sex"]),
            ident["birthDate"],
            ident["address"],
            ident["status"],
        ),
        "marriage": m and (m["status"], m["registeredOn"], m["office"], m["spouseName"], spouse),
        "companies": _sorted(
            (
                c["role"],
                _ratio(c["shareRatio"]),
                c["company"]["code"],
                c["company"]["name"],
                c["company"]["status"],
                c["company"]["legalRepresentative"],
            )
            for c in d["companies"]
        ),
        "vehicles": _sorted(
            (
                a["vin"],
                a["plateNumber"],
                a["model"],
                a["status"],
                a["estimatedValue"],
                _controls(a["controls"]),
            )
            for a in assets
            if a["__typename"] == "Vehicle"
        ),
        "equity": _sorted(
            (
                a["company"]["code"],
                a["company"]["name"],
                _ratio(a["shareRatio"]),
                a["subscribedCapital"],
                a["estimatedValue"],
                _controls(a["controls"]),
            )
            for a in assets
            if a["__typename"] == "EquityStake"
        ),
        "exit_bans": _sorted(
            (r["court"], r["caseNumber"], r["since"], r["until"], r["status"])
            for r in (e["node"] for e in d["restrictions"]["edges"])
            if r["kind"] == "EXIT_BAN"
        ),
    }


def liandong_facts(ids: Sequence[str], body: Mapping[str, Any]) -> dict[str, Facts]:
    """Facts by debtor id from a ``debtor`` or ``debtors`` answer (ids in request order:
    the answer masks them)."""
    data = body["data"]
    found = data["debtors"] if "debtors" in data else [data["debtor"]]
    return {pid: _one_liandong(d) for pid, d in zip(ids, found, strict=True)}


def peer_facts(ids: Sequence[str], body: Mapping[str, Any]) -> dict[str, Facts]:
    """Facts by debtor id from the peer's answer to ``bench/peer/profile.graphql``."""
    data = body["data"]
    out: dict[str, Facts] = {}
    for p in data["persons"]["results"]:
        ident = p["person"]
        m = p["marriage"]
        spouse = None
        if m and m.get("spouse") and m["spouse"]["person"]:
            s = m["spouse"]["person"]
            spouse = (s["name"], s["birthDate"], s["status"])
        out[p["id"]] = {
            "identity": (
                ident["name"],
                ident["sex"],
                ident["birthDate"],
                ident["address"],
                ident["status"],
            ),
            "marriage": m
            and (m["status"], m["registeredOn"], m["office"], m["spouseName"], spouse),
            "companies": [],
            "vehicles": [],
            "equity": [],
            "exit_bans": [],
        }
    for owner in data["vehicles"]["results"]:
        out[owner["ownerId"]]["vehicles"] = _sorted(
            (
                v["vin"],
                v["plate"],
                v["model"],
                v["status"],
                v["estimatedValue"],
                _controls(v["seizures"]),
            )
            for v in owner["vehicles"]
        )
    for b in data["exitBans"]["results"]:
        out[b["id"]]["exit_bans"] = _sorted(
            (x["court"], x["caseNumber"], x["since"], x["until"], x["status"]) for x in b["bans"]
        )
    for r in data["roles"]["data"]["items"]:
        facts = out[r["personId"]]
        c = r["company"]
        facts["companies"].append(
            (
                r["role"],
                _ratio(r["shareRatio"]),
                c["code"],
                c["name"],
                c["status"],
                c["legalRepresentative"],
            )
        )
        if r["role"] == "SHAREHOLDER":
            facts["equity"].append(
                (
                    c["code"],
                    c["name"],
                    _ratio(r["shareRatio"]),
                    r["subscribedCapital"],
                    r["estimatedValue"],
                    _controls(r["freezes"]),
                )
            )
    for facts in out.values():
        facts["companies"].sort(key=repr)
        facts["equity"].sort(key=repr)
    missing = set(ids) - out.keys()
    if missing:
        raise ValueError(f"the peer left out {len(missing)} debtors")
    return out


def differences(ours: Mapping[str, Facts], theirs: Mapping[str, Facts]) -> list[str]:
    """``"<id> <facet>"`` for each facet the two sides state differently."""
    out = []
    for pid in sorted(ours.keys() | theirs.keys()):
        a, b = ours.get(pid), theirs.get(pid)
        if a is None or b is None:
            out.append(f"{pid} missing")
            continue
        out += [f"{pid} {facet}" for facet in a if a[facet] != b.get(facet)]
    return out
