"""Auditors read the trail over GraphQL: by case, debtor, officer, time; page by page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.harness import OFFICER, OUTSIDER, Gateway, open_stack

DEBTOR = "query($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) { identity { name } } }"
RECORDS = """
query($filter: AuditFilter, $first: Int, $after: String) {
  auditRecords(filter: $filter, first: $first, after: $after) {
    edges { cursor node { seq requestId clientRequestId officer caseNumber debtors outcome code
                          variables agencies { agency status } hash prevHash } }
    pageInfo { hasNextPage endCursor }
  }
}"""


@pytest.fixture
async def gw(
    tmp_path: Path, mocks: RunningMocks, cases: list[CaseRecord]
) -> AsyncIterator[Gateway]:
    async with open_stack(tmp_path, cases, mocks=mocks) as started:
        yield started


async def look_ups(gw: Gateway, cases: list[CaseRecord]) -> None:
    """Six look-ups: three on case 0, two on case 1, one refused (outsider on case 0)."""
    for i, (case, officer) in enumerate(
        [(0, OFFICER), (0, OFFICER), (1, OFFICER), (0, OFFICER), (1, OFFICER), (0, OUTSIDER)]
    ):
        c = cases[case]
        await gw.post(
            DEBTOR,
            {"id": c.debtor_ids[0], "c": c.number},
            token=gw.token(officer=officer),
            headers={"X-Request-Id": f"look-{i}"},
        )


async def audit(gw: Gateway, **variables: Any) -> dict[str, Any]:
    status, body = await gw.post(RECORDS, variables, token=gw.token("aud-1", roles=["auditor"]))
    assert status == 200 and "errors" not in body, body
    result: dict[str, Any] = body["data"]["auditRecords"]
    return result


def ids(page: dict[str, Any]) -> list[str]:
    """The ids the look-ups were sent with (the client's), else the gateway's own."""
    return [e["node"]["clientRequestId"] or e["node"]["requestId"] for e in page["edges"]]


async def test_filters_by_case_debtor_officer_outcome(gw: Gateway, cases: list[CaseRecord]) -> None:
    await look_ups(gw, cases)
    by_case = await audit(gw, filter={"caseNumber": cases[0].number})
    assert ids(by_case) == ["look-5", "look-3", "look-1", "look-0"]  # newest first
    by_debtor = await audit(gw, filter={"debtorId": cases[1].debtor_ids[0]})
    assert ids(by_debtor) == ["look-4", "look-2"]
    node = by_debtor["edges"][0]["node"]
    pid = cases[1].debtor_ids[0]
    assert pid not in str(node) and node["variables"]["id"] != pid
    by_officer = await audit(gw, filter={"officer": OUTSIDER})
    assert ids(by_officer) == ["look-5"]
    refused = await audit(gw, filter={"outcome": "REFUSED", "caseNumber": cases[0].number})
    assert [(e["node"]["outcome"], e["node"]["code"]) for e in refused["edges"]] == [
        ("REFUSED", "FORBIDDEN")
    ]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert ids(await audit(gw, filter={"since": future})) == []


async def test_pages_follow_each_other_without_gaps(gw: Gateway, cases: list[CaseRecord]) -> None:
    await look_ups(gw, cases)
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = await audit(gw, first=4, after=after)
        seen += ids(page)
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # The six look-ups plus the auditor's own earlier queries, each exactly once.
    assert [s for s in seen if s.startswith("look-")] == [f"look-{i}" for i in range(5, -1, -1)]
    assert len(seen) == len(set(seen)) and pages >= 2
    nodes = (await audit(gw, first=2))["edges"]
    assert nodes[0]["node"]["prevHash"] == nodes[1]["node"]["hash"]


@pytest.mark.parametrize(
    ("variables", "code", "field"),
    [
        ({"first": 0}, "INVALID_INPUT", "first"),
        ({"first": 501}, "LIMIT_EXCEEDED", "first"),
        ({"after": "not-a-cursor"}, "INVALID_INPUT", "after"),
        ({"filter": {"caseNumber": "2024-1"}}, "INVALID_INPUT", "filter.caseNumber"),
        ({"filter": {"debtorId": "123"}}, "INVALID_INPUT", "filter.debtorId"),
    ],
)
async def test_bad_arguments_name_the_field(
    gw: Gateway, variables: dict[str, Any], code: str, field: str
) -> None:
    _, body = await gw.post(RECORDS, variables, token=gw.token("aud-1", roles=["auditor"]))
    ext = body["errors"][0]["extensions"]
    assert (ext["code"], ext["field"]) == (code, field)
