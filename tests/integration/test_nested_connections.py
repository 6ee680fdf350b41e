"""The lists under a case or a debtor that grow, paged as Relay connections over HTTP.

``Case.assistanceRequests``, ``Debtor.assistanceRequests``, ``Case.restrictionDecisions``
and ``Debtor.restrictions``: every page size walks the whole list once, newest first, with
no gap and no repeat; cursors are checked; the case's rights still come first. Each test
runs on SQLite and PostgreSQL, with the execution shortcuts on and off.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from connectors.domain import DebtorKind
from gateway.domain.case_values import RestrictionKind
from gateway.store.case_rows import RestrictionIn
from gateway.store.decisions import DecisionIn, DecisionStore
from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.assertions import nodes
from tests.harness import JUDGE, OUTSIDER, PROFILE_VARIABLES, Stack, StackFactory

REQUEST = """mutation($input: AssistanceRequestInput!) {
  requestAssistance(input: $input) { request { id } } }"""
REJECT = """mutation($id: ID!) { rejectAssistance(id: $id, reason: "不予批准") { status } }"""
PAGE = "edges { cursor node { %s } } pageInfo { hasNextPage hasPreviousPage endCursor }"
CASE_REQUESTS = """query($n: String!, $first: Int, $after: String) { case(number: $n) {
  assistanceRequests(first: $first, after: $after) { %s } } }""" % (PAGE % "id debtorId")
CASE_DECISIONS = """query($n: String!, $first: Int, $after: String) { case(number: $n) {
  restrictionDecisions(first: $first, after: $after) { %s } } }""" % (PAGE % "id")
DEBTOR_REQUESTS = """query($id: ID!, $n: String!, $first: Int, $after: String) {
  debtor(id: $id, caseNumber: $n) { assistanceRequests(first: $first, after: $after) {
  %s } } }""" % (PAGE % "id debtorId")
DEBTOR_RESTRICTIONS = """query($id: ID!, $n: String!, $first: Int, $after: String) {
  debtor(id: $id, caseNumber: $n) { restrictions(first: $first, after: $after) {
  %s } } }""" % (PAGE % "recordId since provenance { agency }")


@pytest.fixture(params=[True, False], ids=["shortcuts", "no-shortcuts"])
async def stack(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    mocks: RunningMocks,
    cases: list[CaseRecord],
    database_url: str,
    make_stack: StackFactory,
) -> Stack:
    monkeypatch.setenv("LIANDONG_EXECUTION_SHORTCUTS", "true" if request.param else "false")
    return await make_stack(cases, mocks=mocks, database_url=database_url, services=True)


def _two_party_case(cases: list[CaseRecord]) -> CaseRecord:
    return next(c for c in cases if len(c.debtor_ids) >= 2)


def _connection(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    (root,) = body["data"].values()
    (conn,) = root.values()
    found: dict[str, Any] = conn
    return found


async def walk(
    gw: Stack, query: str, variables: dict[str, Any], size: int, token: str | None = None
) -> list[dict[str, Any]]:
    """Every item of a connection, ``size`` a page, checking each page's ``pageInfo``."""
    items: list[dict[str, Any]] = []
    after = None
    for _ in range(100):  # a page that repeats itself would never end
        status, body = await gw.post(
            query, {**variables, "first": size, "after": after}, token=token
        )
        assert status == 200, body
        conn = _connection(body)
        page = nodes(conn)
        assert len(page) <= size
        assert conn["pageInfo"]["hasPreviousPage"] is (after is not None)
        items += page
        if not conn["pageInfo"]["hasNextPage"]:
            return items
        assert len(page) == size  # only a last page is short
        after = conn["pageInfo"]["endCursor"]
    pytest.fail("a walk of more than 100 pages")


def error_of(body: dict[str, Any]) -> tuple[str, str | None]:
    assert body.get("errors"), body
    ext = body["errors"][0]["extensions"]
    return ext["code"], ext.get("field")


async def _file_and_reject(gw: Stack, case: CaseRecord, debtor: str, n: int) -> str:
    # Rejected at once, so the next exit ban for the same debtor is not ALREADY_CONTROLLED.
    order = {
        "caseNumber": case.number,
        "debtorId": debtor,
        "action": "EXIT_BAN",
        "documentNumber": "（2026）苏0311执保1号",
        "idempotencyKey": f"nested-{debtor}-{n}",
    }
    status, body = await gw.post(REQUEST, {"input": order})
    assert status == 200 and "errors" not in body, body
    request_id: str = body["data"]["requestAssistance"]["request"]["id"]
    _, body = await gw.post(REJECT, {"id": request_id}, token=gw.token(JUDGE, roles=["judge"]))
    assert "errors" not in body, body
    return request_id


async def test_a_cases_and_a_debtors_requests_page_newest_first(
    stack: Stack, cases: list[CaseRecord]
) -> None:
    case = _two_party_case(cases)
    first, second = case.debtor_ids[:2]
    made = [await _file_and_reject(stack, case, first, n) for n in range(4)]
    made.append(await _file_and_reject(stack, case, second, 0))
    made.append(await _file_and_reject(stack, case, first, 4))
    for size in (1, 2, 4, 6, 7):
        listed = await walk(stack, CASE_REQUESTS, {"n": case.number}, size)
        assert [r["id"] for r in listed] == made[::-1]
    theirs = [r for r in made if r != made[4]]
    for size in (1, 2, 5):
        listed = await walk(stack, DEBTOR_REQUESTS, {"id": first, "n": case.number}, size)
        assert [r["id"] for r in listed] == theirs[::-1]
        assert {r["debtorId"] for r in listed} == {first}
    listed = await walk(stack, DEBTOR_REQUESTS, {"id": second, "n": case.number}, 3)
    assert [r["id"] for r in listed] == [made[4]]


async def test_a_cases_decisions_page_newest_first_and_cursors_hold(
    stack: Stack, cases: list[CaseRecord]
) -> None:
    assert stack.services is not None
    case = cases[0]
    decisions = DecisionStore(stack.services.store)
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    # Two made in the same microsecond: the id orders them, so none is lost at a page end.
    times = [start, start + timedelta(hours=1), start + timedelta(hours=1)]
    times += [start + timedelta(hours=h) for h in (2, 3, 4)]
    rows = []
    for n, at in enumerate(times):
        decided = DecisionIn(
            case_number=case.number,
            court=case.court,
            debtor_id=case.debtor_ids[0],
            debtor_kind=DebtorKind.PERSON,
            kind=RestrictionKind.HIGH_CONSUMPTION_BAN,
            grounds="逾期未履行",
            document_number=f"（2026）苏0311执{n + 1}号之一",
            decided_by=JUDGE,
        )
        rows.append(await decisions.add(decided, at))
    # Newest first; within one instant, by ascending id.
    expected = [r.id for r in sorted(rows, key=lambda r: (-r.created_at.timestamp(), r.id))]
    for size in range(1, len(rows) + 2):
        listed = await walk(stack, CASE_DECISIONS, {"n": case.number}, size)
        assert [d["id"] for d in listed] == expected
    # A cursor stays put while decisions are added: the new one lands before the first page.
    _, body = await stack.post(CASE_DECISIONS, {"n": case.number, "first": 2})
    cursor = _connection(body)["pageInfo"]["endCursor"]
    _, before = await stack.post(CASE_DECISIONS, {"n": case.number, "first": 2, "after": cursor})
    await decisions.add(decided, start + timedelta(days=1))
    _, after = await stack.post(CASE_DECISIONS, {"n": case.number, "first": 2, "after": cursor})
    assert nodes(_connection(after)) == nodes(_connection(before))
    assert len(await walk(stack, CASE_DECISIONS, {"n": case.number}, 3)) == len(rows) + 1


async def test_a_debtors_restrictions_merge_agency_and_court_in_one_order(
    stack: Stack, cases: list[CaseRecord]
) -> None:
    assert stack.services is not None
    # The showcase debtor: public security has exit bans on them, so both sources merge.
    number, debtor = PROFILE_VARIABLES["caseNumber"], PROFILE_VARIABLES["id"]
    case = next(c for c in cases if c.number == number)
    day = date(2026, 3, 1)
    for offset in (0, 0, 5, 40, 300, 2):
        await stack.services.store.add_restriction(
            RestrictionIn(
                debtor_id=debtor,
                kind=RestrictionKind.HIGH_CONSUMPTION_BAN,
                case_number=case.number,
                court=case.court,
                since=day - timedelta(days=offset),
            )
        )
    variables = {"id": debtor, "n": case.number}
    whole = await walk(stack, DEBTOR_RESTRICTIONS, variables, 100)
    court = [r for r in whole if r["provenance"] is None]
    assert len(court) == 6 and len(whole) > len(court)
    days = [r["since"] for r in whole]
    assert days == sorted(days, reverse=True)
    assert len({r["recordId"] for r in whole}) == len(whole)
    for size in range(1, len(whole) + 2):
        assert await walk(stack, DEBTOR_RESTRICTIONS, variables, size) == whole


async def test_cursors_and_page_sizes_are_checked_by_each_field(
    stack: Stack, cases: list[CaseRecord]
) -> None:
    case = _two_party_case(cases)
    debtor = case.debtor_ids[0]
    await _file_and_reject(stack, case, debtor, 0)
    await _file_and_reject(stack, case, debtor, 1)
    on_case = {"n": case.number}
    on_debtor = {"id": debtor, "n": case.number}
    fields = [
        (CASE_REQUESTS, on_case),
        (CASE_DECISIONS, on_case),
        (DEBTOR_REQUESTS, on_debtor),
        (DEBTOR_RESTRICTIONS, on_debtor),
    ]
    _, body = await stack.post(CASE_REQUESTS, {**on_case, "first": 1})
    foreign = _connection(body)["pageInfo"]["endCursor"]
    assert foreign is not None
    for query, variables in fields:
        _, body = await stack.post(query, {**variables, "after": "bm90IGEgY3Vyc29y"})
        assert error_of(body) == ("INVALID_INPUT", "after")
        _, body = await stack.post(query, {**variables, "first": 0})
        assert error_of(body) == ("INVALID_INPUT", "first")
        _, body = await stack.post(query, {**variables, "first": 101})
        assert error_of(body) == ("LIMIT_EXCEEDED", "first")
        if query is not CASE_REQUESTS:
            # A cursor of another connection is not a position in this one.
            _, body = await stack.post(query, {**variables, "after": foreign})
            assert error_of(body) == ("INVALID_INPUT", "after")
    # The case's rights come first: an outsider is refused, not shown an empty page.
    outsider = stack.token(OUTSIDER)
    for query, variables in fields:
        _, body = await stack.post(query, variables, token=outsider)
        assert error_of(body)[0] == "FORBIDDEN"
        assert body["data"] is None or all(v is None for v in body["data"].values())
