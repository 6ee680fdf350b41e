"""Bad input gets INVALID_INPUT naming the argument; the wrong officer gets FORBIDDEN."""

from __future__ import annotations

from typing import Any

import pytest

from mocks.records import CaseRecord
from tests.harness import OUTSIDER, Gateway

DEBTOR = "query($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) { identity { name } } }"
DEBTORS = (
    "query($ids: [ID!]!, $c: String!) { debtors(ids: $ids, caseNumber: $c) { identity { name } } }"
)


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("errors"), body
    assert len(body["errors"]) == 1, body["errors"]
    err: dict[str, Any] = body["errors"][0]
    return err


def wrong_check_digit(pid: str) -> str:
    last = "0" if pid[-1] != "0" else "1"
    return pid[:-1] + last


@pytest.mark.parametrize(
    ("make_vars", "field"),
    [
        (lambda c: {"id": wrong_check_digit(c.debtor_ids[0]), "c": c.number}, "id"),
        (lambda c: {"id": "12345", "c": c.number}, "id"),
        (lambda c: {"id": c.debtor_ids[0], "c": "2024-苏-1234"}, "caseNumber"),
        (lambda c: {"id": c.debtor_ids[0], "c": "（2024）苏0312民1234号"}, "caseNumber"),
    ],
    ids=["check-digit", "short-id", "case-number-shape", "not-an-enforcement-case"],
)
async def test_invalid_input_names_the_argument(
    gateway: Gateway, cases: list[CaseRecord], make_vars: Any, field: str
) -> None:
    status, body = await gateway.post(DEBTOR, make_vars(cases[0]))
    assert status == 200
    err = only_error(body)
    assert err["extensions"]["code"] == "INVALID_INPUT"
    assert err["extensions"]["field"] == field
    assert field in err["message"]
    assert "Traceback" not in str(body)
    assert await gateway.total_requests() == 0


async def test_empty_and_oversized_id_lists(gateway: Gateway, cases: list[CaseRecord]) -> None:
    case = cases[0]
    _, empty = await gateway.post(DEBTORS, {"ids": [], "c": case.number})
    err = only_error(empty)
    assert (err["extensions"]["code"], err["extensions"]["field"]) == ("INVALID_INPUT", "ids")
    limit = gateway.settings.limits.max_ids
    _, big = await gateway.post(
        DEBTORS, {"ids": [case.debtor_ids[0]] * (limit + 1), "c": case.number}
    )
    err = only_error(big)
    assert (err["extensions"]["code"], err["extensions"]["field"]) == ("LIMIT_EXCEEDED", "ids")
    assert (err["extensions"]["limit"], err["extensions"]["max"]) == ("ids", limit)
    assert str(limit) in err["message"]
    assert await gateway.total_requests() == 0


async def test_one_bad_id_fails_alone_at_its_index(
    gateway: Gateway, cases: list[CaseRecord]
) -> None:
    case, other = cases[0], cases[1]
    good = case.debtor_ids[0]
    # A malformed id, a party of another case, a good one twice: one answer per id.
    ids = [good, wrong_check_digit(good), other.debtor_ids[0], good]
    status, body = await gateway.post(DEBTORS, {"ids": ids, "c": case.number})
    assert status == 200
    got = body["data"]["debtors"]
    assert [d is None for d in got] == [False, True, True, False]
    assert got[0] == got[3] and got[0]["identity"]["name"]
    errors = {tuple(e["path"]): e["extensions"] for e in body["errors"]}
    assert {k: (v["code"], v["field"]) for k, v in errors.items()} == {
        ("debtors", 1): ("INVALID_INPUT", "ids[1]"),
        ("debtors", 2): ("FORBIDDEN", "ids[2]"),
    }
    # The good debtor was asked for once (the duplicate rides along), the others never.
    stats = await gateway.stats("public_security")
    assert sum(stats["requests"].values()) == 1


async def test_officer_not_on_the_case_is_forbidden(
    gateway: Gateway, cases: list[CaseRecord]
) -> None:
    case = cases[0]
    status, body = await gateway.post(
        DEBTOR, {"id": case.debtor_ids[0], "c": case.number}, token=gateway.token(officer=OUTSIDER)
    )
    assert status == 200
    err = only_error(body)
    assert err["extensions"]["code"] == "FORBIDDEN"
    assert body["data"]["debtor"] is None
    assert await gateway.total_requests() == 0


async def test_debtor_not_party_to_the_case_is_forbidden(
    gateway: Gateway, cases: list[CaseRecord]
) -> None:
    other = cases[1].debtor_ids[0]
    _, body = await gateway.post(DEBTOR, {"id": other, "c": cases[0].number})
    err = only_error(body)
    # The single-id field names its own argument.
    assert (err["extensions"]["code"], err["extensions"]["field"]) == ("FORBIDDEN", "id")
    assert await gateway.total_requests() == 0


async def test_unknown_case_looks_like_a_forbidden_one(
    gateway: Gateway, cases: list[CaseRecord]
) -> None:
    _, body = await gateway.post(DEBTOR, {"id": cases[0].debtor_ids[0], "c": "（2020）苏0311执1号"})
    assert only_error(body)["extensions"]["code"] == "FORBIDDEN"


async def test_judge_of_the_court_may_look(gateway: Gateway, cases: list[CaseRecord]) -> None:
    case = cases[0]
    token = gateway.token(officer="judge-elsewhere", roles=["judge"], court=case.court)
    status, body = await gateway.post(
        DEBTOR, {"id": case.debtor_ids[0], "c": case.number}, token=token
    )
    assert status == 200 and "errors" not in body, body


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Basic abc", "Bearer not.a.jwt"],
    ids=["none", "empty", "basic", "garbage"],
)
async def test_requests_without_a_valid_token_are_refused(
    gateway: Gateway, cases: list[CaseRecord], header: str | None
) -> None:
    headers = {} if header is None else {"Authorization": header}
    async with gateway.session.post(
        gateway.url, json={"query": "{ __typename }"}, headers=headers
    ) as resp:
        assert resp.status == 401
        body = await resp.json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await gateway.total_requests() == 0
