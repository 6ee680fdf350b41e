"""A front-end's path through the API alone: list cases, open one, a debtor, an asset.

Over HTTP against a real stack (``tests/harness.py``), with and without ``unmask``: every id
handed out is taken back by ``node(id:)``, is the same whatever the token's scopes, and
holds no personal number; a node id handed to someone off the case is refused and on the
record against the debtor.
"""

from __future__ import annotations

from typing import Any

from mocks.records import CaseRecord
from tests.harness import OUTSIDER, Gateway

LIST = """query($number: String) { cases(filter: {number: $number}, first: 5) {
  edges { node { id number } } } }"""
CASE = """query($id: ID!) { node(id: $id) { id __typename ... on Case { number status
  debtors { id handle maskedId kind caseNumber } } } }"""
DEBTOR = """query($id: ID!) { node(id: $id) { id __typename ... on Debtor { maskedId
  assets { id kind ... on Vehicle { vin plateNumber } ... on RealEstate { certificateNumber }
           ... on EquityStake { shareRatio company { code } } } } } }"""
ASSET = """query($id: ID!) { node(id: $id) { id __typename ... on Asset { kind }
  ... on Vehicle { vin plateNumber } ... on RealEstate { certificateNumber address }
  ... on EquityStake { company { code } } } }"""
AUDIT = """query($officer: String) { auditRecords(filter: {officer: $officer}) {
  edges { node { officer outcome debtors cases } } } }"""


async def ok(gw: Gateway, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    status, body = await gw.post(query, variables, token=token)
    assert status == 200 and "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def walk(gw: Gateway, case: CaseRecord, token: str) -> dict[str, Any]:
    """List → case → debtor → each asset; every id is checked on the way."""
    listed = (await ok(gw, LIST, {"number": case.number[6:]}, token))["cases"]["edges"]
    (case_id,) = [e["node"]["id"] for e in listed if e["node"]["number"] == case.number]
    opened = (await ok(gw, CASE, {"id": case_id}, token))["node"]
    assert (opened["__typename"], opened["id"], opened["number"]) == ("Case", case_id, case.number)
    debtor = opened["debtors"][0]
    assert debtor["id"] == debtor["handle"] and debtor["id"].startswith("dh1.")
    found = (await ok(gw, DEBTOR, {"id": debtor["id"]}, token))["node"]
    assert (found["__typename"], found["id"]) == ("Debtor", debtor["id"])
    assert found["maskedId"] == debtor["maskedId"]
    assets = found["assets"]
    assert assets, "the walk needs a debtor with assets"
    for asset in assets:
        again = (await ok(gw, ASSET, {"id": asset["id"]}, token))["node"]
        assert again["id"] == asset["id"] and again["kind"] == asset["kind"]
        for own in ("vin", "certificateNumber"):
            if own in asset:
                assert again[own] == asset[own]
    return {"case": case_id, "debtor": debtor, "assets": [a["id"] for a in assets]}


def ids_of(seen: dict[str, Any]) -> list[str]:
    return [seen["case"], seen["debtor"]["id"], *seen["assets"]]


async def test_the_walk_with_and_without_unmask_hands_out_the_same_opaque_ids(
    gateway: Gateway, cases: list[CaseRecord]
) -> None:
    case = cases[0]
    number = case.debtor_ids[0]
    masked = await walk(gateway, case, gateway.token())
    clear = await walk(gateway, case, gateway.token(scopes=["unmask"]))
    assert (
        masked["debtor"]["maskedId"] != number and masked["debtor"]["maskedId"][-4:] == number[-4:]
    )
    assert clear["debtor"]["maskedId"] == number
    # Ids are the same whatever the scopes: a client's cache keeps one record per object.
    assert ids_of(clear) == ids_of(masked)
    for node_id in ids_of(masked):
        assert all(number[i : i + 5] not in node_id for i in range(len(number) - 4))


async def test_a_node_id_is_not_a_right(gateway: Gateway, cases: list[CaseRecord]) -> None:
    seen = await walk(gateway, cases[0], gateway.token())
    outsider = gateway.token(OUTSIDER)
    for node_id in ids_of(seen):
        status, body = await gateway.post(ASSET, {"id": node_id}, token=outsider)
        assert status == 200 and body["data"]["node"] is None, body
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert body["errors"][0]["extensions"]["field"] == "id"
    # Each refusal is on the record, against the case and (but for the case's id) the debtor.
    auditor = gateway.token("aud-1", roles=["auditor"])
    records = (await ok(gateway, AUDIT, {"officer": OUTSIDER}, auditor))["auditRecords"]
    refused = [e["node"] for e in records["edges"]]
    assert len(refused) == len(ids_of(seen))
    assert all(r["outcome"] != "OK" and r["cases"] == [cases[0].number] for r in refused)
    masked = seen["debtor"]["maskedId"]
    assert sum(r["debtors"] == [masked] for r in refused) == len(ids_of(seen)) - 1


async def test_nodes_answers_per_id(gateway: Gateway, cases: list[CaseRecord]) -> None:
    seen = await walk(gateway, cases[0], gateway.token())
    wanted = [seen["case"], "nd1.not-a-node-id-at-all-0000", seen["debtor"]["id"]]
    status, body = await gateway.post(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": wanted}
    )
    assert status == 200
    assert [n and n["id"] for n in body["data"]["nodes"]] == [wanted[0], None, wanted[2]]
    (error,) = body["errors"]
    assert error["path"] == ["nodes", 1]
    assert (error["extensions"]["code"], error["extensions"]["field"]) == (
        "INVALID_INPUT",
        "ids[1]",
    )
