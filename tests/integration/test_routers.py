"""Behind real federation routers: the legal basis survives the query planner.

For each router (Hive Gateway; Apollo Gateway over the composed supergraph, and composing by
itself), joins both ways between liandong and a case-management subgraph: answers equal to
liandong's own, one ``_entities`` call per batch with the agencies batched as for a direct
query, each reference on the record under the case it asked, with or without ``unmask``;
FORBIDDEN and UNAUTHENTICATED come back as codes, never as a 500.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.audit.chain import StoredRecord
from gateway.masking import mask_id
from mocks.runner import RunningMocks
from mocks.world import World
from tests.audit_support import audit_records
from tests.harness import OUTSIDER
from tests.integration.router_stack import ASKED, COURT, EARLIER, ROUTERS, Stack, router_stack

PS_PERSONS = "POST /ps/v1/persons/query"

# Rooted at the case-management subgraph: liandong's fields come by _entities.
DOCKET = """query Docket($court: String!) { docket(court: $court) {
  number judge parties { caseNumber handle hearingDates maskedId identity { name birthDate } } } }"""
# The same debtors asked of liandong directly.
DIRECT = """query Direct($ids: [ID!]!, $n: String!) { debtors(ids: $ids, caseNumber: $n) {
  caseNumber handle maskedId identity { name birthDate } } }"""
# Rooted at liandong: the case-management subgraph adds to Case and Debtor.
CASE_VIEW = """query CaseView($n: String!) { case(number: $n) {
  number amountDue judgeNotes debtors { handle hearingDates maskedId identity { name } } } }"""
CASE_DIRECT = """query CaseDirect($n: String!) { case(number: $n) {
  number amountDue debtors { handle maskedId identity { name } } } }"""


def _entity_records(records: list[StoredRecord]) -> list[StoredRecord]:
    return [r for r in records if "entities" in r.detail]


def _asked(record: StoredRecord) -> list[tuple[str, str | None, str | None]]:
    """(case, masked debtor, code) of each reference the record lists."""
    return [
        (record.cases[c], None if d is None else record.debtors[d], code)
        for _t, c, d, code in record.detail["entities"]["rows"]
    ]


async def _joined_docket(stack: Stack, token: str, unmask: bool, cached: bool) -> None:
    gw = stack.gateway
    before = len(await audit_records(gw.settings))
    await gw.reset_stats()
    status, body = await stack.ask(DOCKET, {"court": COURT}, token)
    assert status == 200 and "errors" not in body, body.get("errors")
    docket = {c["number"]: c for c in body["data"]["docket"]}
    assert set(docket) == {ASKED, EARLIER}

    # One _entities call for all eleven references of both cases; agencies batched.
    records = (await audit_records(gw.settings))[before:]
    assert len(records) == 1, [r.operation for r in records]
    (record,) = _entity_records(records)
    ps = await gw.stats("public_security")
    # Once for all of them; a second pass is served from the cache.
    assert int(ps["requests"].get(PS_PERSONS, 0)) == (0 if cached else 1)

    for number, case in docket.items():
        handles = [p["handle"] for p in case["parties"]]
        by_id = {h: i for i, h in stack.handles[number].items()}
        assert [p["caseNumber"] for p in case["parties"]] == [number] * len(handles)
        assert all(p["hearingDates"] for p in case["parties"])
        status, direct = await gw.post(DIRECT, {"ids": handles, "n": number}, token=token)
        assert status == 200 and "errors" not in direct, direct.get("errors")
        strip = [{k: v for k, v in p.items() if k != "hearingDates"} for p in case["parties"]]
        assert strip == direct["data"]["debtors"]
        ids = [by_id[h] for h in handles]
        assert [p["maskedId"] for p in case["parties"]] == (
            ids if unmask else [mask_id(i) for i in ids]
        )
        # Each reference is on the record under the case it named.
        assert [(c, d) for c, d, _ in _asked(record) if c == number] == [
            (number, mask_id(i)) for i in ids
        ]
    assert {code for _, _, code in _asked(record)} == {None}


async def _joined_case(stack: Stack, token: str) -> None:
    gw = stack.gateway
    status, body = await stack.ask(CASE_VIEW, {"n": ASKED}, token)
    assert status == 200 and "errors" not in body, body.get("errors")
    case = body["data"]["case"]
    assert case["judgeNotes"] == f"notes on {ASKED}"
    assert all(d["hearingDates"] for d in case["debtors"])
    status, direct = await gw.post(CASE_DIRECT, {"n": ASKED}, token=token)
    assert status == 200 and "errors" not in direct
    stripped = {
        **case,
        "debtors": [{k: v for k, v in d.items() if k != "hearingDates"} for d in case["debtors"]],
    }
    stripped.pop("judgeNotes")
    assert stripped == direct["data"]["case"]


def _codes(body: dict[str, Any]) -> set[str]:
    return {e.get("extensions", {}).get("code") for e in body.get("errors", [])}


@pytest.mark.parametrize("router", ROUTERS)
async def test_behind_a_router(
    router: str, tmp_path: Path, roomy_mocks: RunningMocks, world: World
) -> None:
    async with router_stack(router, tmp_path, roomy_mocks, world) as stack:
        gw = stack.gateway
        await _joined_docket(stack, stack.token(), unmask=False, cached=False)
        await _joined_docket(stack, stack.token(scopes=("unmask",)), unmask=True, cached=True)
        await _joined_case(stack, stack.token())

        # A stranger to both cases: FORBIDDEN for each reference, passed through as a code.
        before = len(await audit_records(gw.settings))
        status, body = await stack.ask(DOCKET, {"court": COURT}, stack.token(OUTSIDER))
        assert status == 200 and _codes(body) == {"FORBIDDEN"}, body
        (record,) = _entity_records((await audit_records(gw.settings))[before:])
        assert record.outcome == "refused" and record.principal == OUTSIDER
        assert {(c, code) for c, _, code in _asked(record)} == {
            (ASKED, "FORBIDDEN"),
            (EARLIER, "FORBIDDEN"),
        }
        status, body = await stack.ask(CASE_VIEW, {"n": ASKED}, stack.token(OUTSIDER))
        assert status == 200 and _codes(body) == {"FORBIDDEN"}, body

        # No token, or a forged one: UNAUTHENTICATED from liandong, not a router's 500.
        for token in (None, "not-a-token"):
            status, body = await stack.ask(CASE_VIEW, {"n": ASKED}, token)
            assert status < 500 and "UNAUTHENTICATED" in _codes(body), (status, body)
