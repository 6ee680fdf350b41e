"""``myAccessLog``: a person sees when which court looked at their data, and nobody else's."""

from __future__ import annotations

from typing import Any

from connectors.domain import DebtorKind
from gateway import validation
from mocks.records import CaseRecord
from mocks.world import World
from tests.harness import Gateway

IDENTITY = "query($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) { identity { name } } }"
ASSETS = """query($id: ID!, $c: String!) {
  debtor(id: $id, caseNumber: $c) { marriage { status } assets { id } } }"""
LOG = """query($first: Int, $after: String) { myAccessLog(first: $first, after: $after) {
  edges { cursor node { time court caseNumber kinds outcome } }
  pageInfo { hasNextPage endCursor } } }"""


def _person_case(cases: list[CaseRecord]) -> tuple[CaseRecord, str]:
    for case in cases:
        for debtor in case.debtor_ids:
            if validation.debtor_id(debtor)[1] is DebtorKind.PERSON:
                return case, debtor
    raise AssertionError("no case with a natural person as debtor")


def _subject(gw: Gateway, person: str) -> str:
    return gw.token(officer=person, roles=["subject"], court="")


async def _log(gw: Gateway, token: str, **variables: Any) -> dict[str, Any]:
    status, body = await gw.post(LOG, variables, token=token)
    assert status == 200 and "errors" not in body, body
    result: dict[str, Any] = body["data"]["myAccessLog"]
    return result


async def test_subject_sees_exactly_the_courts_look_ups(
    gateway: Gateway, cases: list[CaseRecord], world: World
) -> None:
    case, person = _person_case(cases)
    for query in (IDENTITY, ASSETS):
        status, body = await gateway.post(query, {"id": person, "c": case.number})
        assert status == 200 and body["data"]["debtor"] is not None, body

    page = await _log(gateway, _subject(gateway, person))
    entries = [e["node"] for e in page["edges"]]
    assert len(entries) == 2
    assert not page["pageInfo"]["hasNextPage"]
    newest, oldest = entries
    assert oldest["kinds"] == ["IDENTITY"]
    assert newest["kinds"] == ["MARRIAGE", "ASSETS"]
    for entry in entries:
        assert entry["caseNumber"] == case.number
        assert entry["court"] == case.court
        assert entry["outcome"] == "OK"
        assert set(entry) == {"time", "court", "caseNumber", "kinds", "outcome"}

    # Paging: one at a time, the cursor leads to the older one.
    first = await _log(gateway, _subject(gateway, person), first=1)
    assert first["pageInfo"]["hasNextPage"]
    second = await _log(
        gateway, _subject(gateway, person), first=1, after=first["pageInfo"]["endCursor"]
    )
    assert [e["node"]["kinds"] for e in second["edges"]] == [["IDENTITY"]]

    parties = {d for c in cases for d in c.debtor_ids}
    other = next(p for p in world.person_ids() if p not in parties)
    assert (await _log(gateway, _subject(gateway, other)))["edges"] == []


async def test_access_log_is_closed_to_everyone_else(
    gateway: Gateway, cases: list[CaseRecord]
) -> None:
    case, person = _person_case(cases)
    for roles in (["officer"], ["auditor"], ["judge"], ["court_system"]):
        _, body = await gateway.post(LOG, token=gateway.token(roles=roles))
        assert body["data"] is None, body
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    # A subject token must name a resident id.
    _, body = await gateway.post(LOG, token=_subject(gateway, "not-an-id"))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    # The field takes no id: asking about someone else does not even validate.
    _, body = await gateway.post(
        '{ myAccessLog(debtorId: "x") { edges { cursor } } }', token=_subject(gateway, person)
    )
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", body
    # A subject cannot reach debtor or case fields, not even their own.
    _, body = await gateway.post(
        IDENTITY, {"id": person, "c": case.number}, token=_subject(gateway, person)
    )
    assert body["data"]["debtor"] is None, body
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    _, body = await gateway.post(
        "query($n: String!) { case(number: $n) { number } }",
        {"n": case.number},
        token=_subject(gateway, person),
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
