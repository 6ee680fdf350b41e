"""``cases(filter:, first:, after:)`` and ``approvalInbox``, over HTTP against a real stack."""

from __future__ import annotations

from typing import Any

from mocks.records import CaseRecord
from tests.harness import JUDGE, OFFICER, OUTSIDER, Gateway

CASES = """query($filter: CaseFilter, $first: Int, $after: String) {
  cases(filter: $filter, first: $first, after: $after) {
    edges { cursor node { number court status applicant } }
    pageInfo { hasNextPage hasPreviousPage endCursor } } }"""
INBOX = """query($first: Int, $after: String) { approvalInbox(first: $first, after: $after) {
  edges { cursor node { id caseNumber status } } pageInfo { hasNextPage endCursor } } }"""
REQUEST = """mutation($input: AssistanceRequestInput!) {
  requestAssistance(input: $input) { request { id status } } }"""
REJECT = """mutation($id: ID!) { rejectAssistance(id: $id, reason: "不予批准") { status } }"""


async def all_cases(gw: Gateway, token: str, page: int, **filter: Any) -> list[str]:
    """Every case number listed, paging on with ``page`` per page."""
    numbers: list[str] = []
    after = None
    while True:
        status, body = await gw.post(
            CASES, {"filter": filter or None, "first": page, "after": after}, token=token
        )
        assert status == 200 and "errors" not in body, body
        conn = body["data"]["cases"]
        numbers += [e["node"]["number"] for e in conn["edges"]]
        assert conn["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not conn["pageInfo"]["hasNextPage"]:
            return numbers
        after = conn["pageInfo"]["endCursor"]


def code_of(body: dict[str, Any]) -> tuple[str, str | None, str | None]:
    assert body.get("data") is None or any(v is None for v in body["data"].values()), body
    ext = body["errors"][0]["extensions"]
    return ext["code"], ext.get("field"), ext.get("rule") or ext.get("reason")


async def test_an_officer_pages_through_the_cases_assigned_to_them(
    gateway: Gateway, cases: list[CaseRecord]
) -> None:
    listed = await all_cases(gateway, gateway.token(), page=7)
    # Every case once, none twice, across three pages.
    assert sorted(listed) == sorted(c.number for c in cases)
    assert await all_cases(gateway, gateway.token(OUTSIDER), page=7) == []
    # Not a list-reading role: nothing, rather than the court's cases.
    auditor = gateway.token("aud-1", roles=["auditor"])
    assert await all_cases(gateway, auditor, page=5) == []


async def test_a_judge_or_court_system_sees_every_case_of_its_court(
    gateway: Gateway, cases: list[CaseRecord]
) -> None:
    court = cases[0].court
    of_court = sorted(c.number for c in cases if c.court == court)
    assert 1 < len(of_court) < len(cases)
    unassigned_judge = gateway.token("judge-9", roles=["judge"])
    assert sorted(await all_cases(gateway, unassigned_judge, page=2)) == of_court
    system = gateway.token("system-1", roles=["court_system"])
    assert sorted(await all_cases(gateway, system, page=50)) == of_court
    # A judge assigned to every case sees them all, whatever court they sit at.
    assert len(await all_cases(gateway, gateway.token(JUDGE, roles=["judge"]), page=50)) == 20


async def test_the_filter_matches_parts_of_the_number_and_the_applicant(
    gateway: Gateway, cases: list[CaseRecord]
) -> None:
    token = gateway.token()
    code = cases[0].number[6:12]  # 苏0311执: the court's code
    wanted = sorted(c.number for c in cases if code in c.number)
    assert sorted(await all_cases(gateway, token, 3, number=code)) == wanted
    applicant = cases[1].applicant
    part = applicant[:2]
    wanted = sorted(c.number for c in cases if part in c.applicant)
    assert cases[1].number in wanted
    assert sorted(await all_cases(gateway, token, 50, applicant=part)) == wanted
    assert len(await all_cases(gateway, token, 50, statuses=["ACTIVE"])) == len(cases)
    assert await all_cases(gateway, token, 50, statuses=["DORMANT"]) == []


async def test_no_personal_number_is_a_search_term_and_cursors_are_checked(
    gateway: Gateway, cases: list[CaseRecord]
) -> None:
    debtor = cases[0].debtor_ids[0]
    for field in ("number", "applicant"):
        _, body = await gateway.post(CASES, {"filter": {field: debtor[:8]}})
        assert code_of(body) == ("INVALID_INPUT", f"filter.{field}", "NO_ID_SEARCH")
    _, body = await gateway.post(INBOX, {}, token=gateway.token(JUDGE, roles=["judge"]))
    foreign = body["data"]["approvalInbox"]["pageInfo"]["endCursor"]
    _, body = await gateway.post(CASES, {"after": "bm90IGEgY3Vyc29y"})
    assert code_of(body) == ("INVALID_INPUT", "after", None)
    _, body = await gateway.post(CASES, {"first": 101})
    assert code_of(body)[0] == "LIMIT_EXCEEDED"
    assert foreign is None  # an empty inbox has no cursor to misuse


async def test_a_judges_inbox_holds_the_requests_they_may_approve(
    gateway: Gateway, cases: list[CaseRecord]
) -> None:
    ids = []
    for case in cases[:3]:
        debtor = case.debtor_ids[0]
        order = {
            "caseNumber": case.number,
            "debtorId": debtor,
            "action": "EXIT_BAN",
            "documentNumber": "（2026）苏0311执保1号",
        }
        status, body = await gateway.post(REQUEST, {"input": order})
        assert status == 200 and "errors" not in body, body
        ids.append(body["data"]["requestAssistance"]["request"]["id"])
    judge = gateway.token(JUDGE, roles=["judge"])
    seen: list[str] = []
    after = None
    while True:
        _, body = await gateway.post(INBOX, {"first": 2, "after": after}, token=judge)
        conn = body["data"]["approvalInbox"]
        seen += [e["node"]["id"] for e in conn["edges"]]
        assert {e["node"]["status"] for e in conn["edges"]} <= {"PENDING_APPROVAL"}
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert seen == ids[::-1]  # newest first
    # Their cursor is not one of the case list's.
    _, body = await gateway.post(CASES, {"after": after})
    assert code_of(body) == ("INVALID_INPUT", "after", None)
    # A judge of the court not assigned to the cases approves none of them.
    _, body = await gateway.post(INBOX, {}, token=gateway.token("judge-9", roles=["judge"]))
    assert body["data"]["approvalInbox"]["edges"] == []
    # The bureau head sees those of the court's cases only.
    head = gateway.token("head-1", roles=["judge", "bureau_head"])
    _, body = await gateway.post(INBOX, {}, token=head)
    of_court = [i for i, c in zip(ids, cases[:3], strict=True) if c.court == gateway.court]
    assert [e["node"]["id"] for e in body["data"]["approvalInbox"]["edges"]] == of_court[::-1]
    # An officer has no inbox.
    _, body = await gateway.post(INBOX, {}, token=gateway.token(OFFICER))
    assert code_of(body) == ("FORBIDDEN", None, "role")
    # Decided, a request leaves the inbox (rejected: nothing is sent to an agency).
    _, body = await gateway.post(REJECT, {"id": ids[0]}, token=judge)
    assert body["data"]["rejectAssistance"]["status"] == "REJECTED", body
    _, body = await gateway.post(INBOX, {}, token=judge)
    assert [e["node"]["id"] for e in body["data"]["approvalInbox"]["edges"]] == ids[:0:-1]
