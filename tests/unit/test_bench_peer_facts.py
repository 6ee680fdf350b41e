"""The peer comparison's normaliser: the same facts in both shapes agree, any change differs."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.peer_facts import differences, liandong_facts, peer_facts

text = st.text(alphabet="甲乙丙丁ABC0123456789-", min_size=1, max_size=8)
maybe = st.none() | text
control = st.fixed_dictionaries(
    {
        "court": text,
        "caseNumber": text,
        "since": text,
        "until": maybe,
        "queuePosition": st.integers(0, 3),
    }
)
company = st.fixed_dictionaries(
    {"code": text, "name": text, "status": text, "legalRepresentative": maybe}
)
role = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["SHAREHOLDER", "EXECUTIVE", "LEGAL_REPRESENTATIVE"]),
        "shareRatio": maybe,
        "subscribedCapital": maybe,
        "estimatedValue": maybe,
        "company": company,
        "freezes": st.lists(control, max_size=2),
    }
)
vehicle = st.fixed_dictionaries(
    {
        "vin": text,
        "plate": text,
        "model": text,
        "status": text,
        "estimatedValue": maybe,
        "seizures": st.lists(control, max_size=2),
    }
)
ban = st.fixed_dictionaries(
    {"court": text, "caseNumber": text, "since": text, "until": maybe, "status": text}
)
person = st.fixed_dictionaries(
    {"name": text, "sex": text, "birthDate": text, "address": text, "status": text}
)
facts = st.fixed_dictionaries(
    {
        "person": person,
        "married": st.booleans(),
        "spouse": person,
        "roles": st.lists(role, max_size=3),
        "vehicles": st.lists(vehicle, max_size=3),
        "bans": st.lists(ban, max_size=2),
    }
)


def _ours(f: dict[str, Any]) -> dict[str, Any]:
    spouse = f["spouse"] if f["married"] else None
    return {
        "data": {
            "debtor": {
                "identity": {**f["person"], "idNumber": "masked"},
                "marriage": {
                    "status": "MARRIED" if spouse else "SINGLE",
                    "registeredOn": "2001-01-01" if spouse else None,
                    "office": "某局" if spouse else None,
                    "spouseName": spouse["name"] if spouse else None,
                    "spouse": spouse and {"identity": spouse},
                },
                "companies": [
                    {"role": r["role"], "shareRatio": r["shareRatio"], "company": r["company"]}
                    for r in f["roles"]
                ],
                "assets": [
                    {
                        "__typename": "Vehicle",
                        "vin": v["vin"],
                        "plateNumber": v["plate"],
                        "model": v["model"],
                        "status": v["status"],
                        "estimatedValue": v["estimatedValue"],
                        # liandong states the kind of each control too; the peer does not.
                        "controls": [{**c, "kind": "SEIZURE"} for c in v["seizures"]],
                    }
                    for v in f["vehicles"]
                ]
                + [
                    {
                        "__typename": "EquityStake",
                        "company": {"code": r["company"]["code"], "name": r["company"]["name"]},
                        "shareRatio": r["shareRatio"],
                        "subscribedCapital": r["subscribedCapital"],
                        "estimatedValue": r["estimatedValue"],
                        "controls": r["freezes"],
                    }
                    for r in f["roles"]
                    if r["role"] == "SHAREHOLDER"
                ],
                "restrictions": {"edges": [{"node": {**b, "kind": "EXIT_BAN"}} for b in f["bans"]]},
            }
        }
    }


def _peer(pid: str, f: dict[str, Any]) -> dict[str, Any]:
    spouse = f["spouse"] if f["married"] else None
    return {
        "data": {
            "persons": {
                "results": [
                    {
                        "id": pid,
                        "person": f["person"],
                        "marriage": {
                            "status": "MARRIED" if spouse else "SINGLE",
                            "registeredOn": "2001-01-01" if spouse else None,
                            "office": "某局" if spouse else None,
                            "spouseName": spouse["name"] if spouse else None,
                            "spouse": spouse and {"person": spouse},
                        },
                    }
                ]
            },
            # The agencies' own order, reversed: order is not a fact.
            "vehicles": {"results": [{"ownerId": pid, "vehicles": f["vehicles"][::-1]}]},
            "exitBans": {"results": [{"id": pid, "bans": f["bans"][::-1]}]},
            "roles": {"data": {"items": [{**r, "personId": pid} for r in f["roles"][::-1]]}},
        }
    }


@settings(max_examples=60, deadline=None)
@given(facts)
def test_the_same_facts_in_both_shapes_agree(f: dict[str, Any]) -> None:
    pid = "320311198505164411"
    assert differences(liandong_facts([pid], _ours(f)), peer_facts([pid], _peer(pid, f))) == []


@settings(max_examples=60, deadline=None)
@given(facts, st.data())
def test_a_changed_fact_is_named_with_its_facet(f: dict[str, Any], data: st.DataObject) -> None:
    pid = "320311198505164411"
    peer = _peer(pid, f)
    changed = copy.deepcopy(peer)
    root = changed["data"]
    targets = [("identity", root["persons"]["results"][0]["person"], "address")]
    if f["vehicles"]:
        targets.append(("vehicles", root["vehicles"]["results"][0]["vehicles"][0], "vin"))
    if f["bans"]:
        targets.append(("exit_bans", root["exitBans"]["results"][0]["bans"][0], "since"))
    if f["roles"]:
        targets.append(("companies", root["roles"]["data"]["items"][0], "role"))
    facet, where, key = data.draw(st.sampled_from(targets))
    where[key] = "changed-" + str(where[key])
    found = differences(liandong_facts([pid], _ours(f)), peer_facts([pid], changed))
    assert f"{pid} {facet}" in found
