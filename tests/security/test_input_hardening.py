"""Client mistakes in the request itself: each is a 4xx with a code, reaches no agency, and
leaves exactly one audit record that keeps what was sent (escaped)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.audit_reading import audit_records
from tests.harness import Gateway, open_stack

DEBTOR = "query($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) { identity { name } } }"
GQL = "application/graphql-response+json"


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: Mapping[str, str]

    @property
    def code(self) -> str:
        return str(self.body["errors"][0]["extensions"]["code"])


@pytest.fixture(params=["dev", "prod"])
async def gw(
    request: pytest.FixtureRequest, tmp_path: Path, mocks: RunningMocks, cases: list[CaseRecord]
) -> AsyncIterator[Gateway]:
    async with open_stack(tmp_path, cases, mocks=mocks, profile=request.param) as gateway:
        yield gateway


async def send(
    gw: Gateway, data: bytes, *, accept: str = GQL, content_type: str = "application/json"
) -> Answer:
    headers = {
        "Authorization": f"Bearer {gw.token()}",
        "Content-Type": content_type,
        "Accept": accept,
    }
    async with gw.session.post(gw.url, data=data, headers=headers) as resp:
        body = await resp.json(content_type=None)
        return Answer(resp.status, body, resp.headers)


async def on_record_once(gw: Gateway, before: int, answer: Answer) -> Any:
    """The one record the request left; no other record was written."""
    assert len(await audit_records(gw.settings)) == before + 1
    found = await audit_records(gw.settings, request_id=answer.headers["X-Request-Id"])
    assert len(found) == 1
    return found[0]


def lookup(case: CaseRecord, **variables: Any) -> dict[str, Any]:
    return {"query": DEBTOR, "variables": {"id": case.debtor_ids[0], "c": case.number, **variables}}


def encoded(body: dict[str, Any]) -> bytes:
    # ``json.dumps`` writes a lone surrogate as the escape ``\ud800`` (ASCII), as a client would.
    return json.dumps(body).encode()


async def test_lone_surrogate_in_an_id_variable(gw: Gateway, cases: list[CaseRecord]) -> None:
    before = len(await audit_records(gw.settings))
    body = lookup(cases[0], id="11010119900307\ud800")
    answer = await send(gw, encoded(body))
    assert (answer.status, answer.code) == (400, "INVALID_INPUT")
    assert answer.body["errors"][0]["extensions"]["field"] == "id"
    assert "data" not in answer.body
    assert await gw.total_requests() == 0
    record = await on_record_once(gw, before, answer)
    assert (record.outcome, record.code, record.http_status) == ("refused", "INVALID_INPUT", 400)
    assert "\\ud800" in record.detail["sent"]  # kept, escaped


async def test_lone_surrogate_in_an_unused_variable_reaches_no_agency(
    gw: Gateway, cases: list[CaseRecord]
) -> None:
    before = len(await audit_records(gw.settings))
    answer = await send(gw, encoded(lookup(cases[0], unused="\udfff")))
    assert (answer.status, answer.code) == (400, "INVALID_INPUT")
    assert answer.body["errors"][0]["extensions"]["field"] == "unused"
    assert await gw.total_requests() == 0
    record = await on_record_once(gw, before, answer)
    assert (record.code, record.http_status) == ("INVALID_INPUT", 400)
    assert "\\udfff" in record.detail["sent"]
    assert cases[0].debtor_ids[0] not in str(record.detail)  # what was sent, masked


@pytest.mark.parametrize("where", ["query", "operationName", "extensions"])
async def test_lone_surrogate_in_the_request(
    gw: Gateway, cases: list[CaseRecord], where: str
) -> None:
    before = len(await audit_records(gw.settings))
    body = lookup(cases[0])
    if where == "query":
        body["query"] += " # \ud800"
    elif where == "operationName":
        body["operationName"] = "\ud800"
    else:
        body["extensions"] = {"trace": "\ud800"}
    answer = await send(gw, encoded(body))
    assert (answer.status, answer.code) == (400, "BAD_REQUEST")
    assert answer.body["errors"][0]["extensions"]["field"] == where
    assert answer.headers["X-Request-Id"]
    assert await gw.total_requests() == 0
    record = await on_record_once(gw, before, answer)
    assert (record.code, record.detail["reason"]) == ("BAD_REQUEST", "invalid_unicode")


async def test_invalid_utf8_in_the_body(
    gw: Gateway, cases: list[CaseRecord], caplog: pytest.LogCaptureFixture
) -> None:
    before = len(await audit_records(gw.settings))
    data = encoded(lookup(cases[0])).replace(b'"c":', b'"x": "\xff\xfe\xed\xa0\x80", "c":')
    with caplog.at_level(logging.ERROR):
        answer = await send(gw, data)
    assert (answer.status, answer.code) == (400, "BAD_REQUEST")
    assert answer.body["errors"][0]["extensions"]["reason"] == "invalid_utf8"
    assert await gw.total_requests() == 0
    record = await on_record_once(gw, before, answer)
    assert (record.outcome, record.code, record.http_status) == ("refused", "BAD_REQUEST", 400)
    assert "\\xff\\xfe" in record.detail["sent"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_json_nested_100000_deep(gw: Gateway, cases: list[CaseRecord]) -> None:
    before = len(await audit_records(gw.settings))
    deep = b"[" * 100_000 + b"]" * 100_000
    data = encoded(lookup(cases[0])).replace(b'"c":', b'"deep": ' + deep + b', "c":')
    answer = await send(gw, data)
    assert (answer.status, answer.code) == (400, "BAD_REQUEST")
    assert answer.body["errors"][0]["extensions"]["reason"] == "too_deep"
    assert await gw.total_requests() == 0
    record = await on_record_once(gw, before, answer)
    assert (record.code, record.http_status) == ("BAD_REQUEST", 400)


FIRST = "query($n: Int) { auditRecords(first: $n) { edges { node { seq } } } }"
SINCE = "query($n: DateTime) { auditRecords(filter: {since: $n}) { edges { node { seq } } } }"
COERCION = [
    (FIRST, {"n": "abc"}),
    (FIRST, {"n": 1.5}),
    (FIRST, {"n": 2**70}),
    (SINCE, {"n": "2024-13-45T25:00:00"}),
    (FIRST.replace("Int", "Int!"), {}),
]


@pytest.mark.parametrize(
    ("query", "variables"), COERCION, ids=["abc", "1.5", "2^70", "date", "missing"]
)
@pytest.mark.parametrize("accept", [GQL, "application/json"])
async def test_variable_coercion_errors_are_the_clients(
    gw: Gateway,
    caplog: pytest.LogCaptureFixture,
    query: str,
    variables: dict[str, Any],
    accept: str,
) -> None:
    before = len(await audit_records(gw.settings))
    with caplog.at_level(logging.INFO):
        answer = await send(gw, encoded({"query": query, "variables": variables}), accept=accept)
    # The GraphQL response type says "request error" with 400 and no data; JSON keeps 200.
    assert answer.status == (400 if accept == GQL else 200)
    assert ("data" in answer.body) is (accept != GQL)
    error = answer.body["errors"][0]
    traced = {"traceId": answer.headers["X-Request-Id"]}  # a request's trace id is its id
    assert error["extensions"] == {"code": "INVALID_INPUT", "field": "n", **traced}
    assert "$n" in error["message"]  # the same message in production: not masked
    assert answer.headers["Content-Type"].startswith(accept)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert await gw.total_requests() == 0
    record = await on_record_once(gw, before, answer)
    assert (record.outcome, record.code) == ("refused", "INVALID_INPUT")


@pytest.mark.parametrize("accept", [GQL, "application/json"])
async def test_several_operations_without_a_name_are_refused(gw: Gateway, accept: str) -> None:
    before = len(await audit_records(gw.settings))
    query = "query A { agencies { name } } query B { agencies { health } }"
    answer = await send(gw, encoded({"query": query}), accept=accept)
    assert answer.status == (400 if accept == GQL else 200)
    assert answer.code == "GRAPHQL_VALIDATION_FAILED"
    assert "operation name" in answer.body["errors"][0]["message"]
    assert answer.body.get("data") is None
    assert await gw.total_requests() == 0
    record = await on_record_once(gw, before, answer)
    assert (record.outcome, record.code) == ("refused", "GRAPHQL_VALIDATION_FAILED")


async def test_no_field_name_suggestions_in_production(
    gw: Gateway, cases: list[CaseRecord]
) -> None:
    before = len(await audit_records(gw.settings))
    query = 'query { debtr(id: "x", caseNumber: "y") { id } }'
    answer = await send(gw, encoded({"query": query}))
    assert (answer.status, answer.code) == (400, "GRAPHQL_VALIDATION_FAILED")
    message = answer.body["errors"][0]["message"]
    suggests = "Did you mean" in message
    assert suggests is (gw.settings.profile == "dev"), message
    assert "debtor" not in message.replace("debtr", "") or gw.settings.profile == "dev"
    await on_record_once(gw, before, answer)


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"null", 400, "BAD_REQUEST"),  # not an object: strawberry failed on it (500)
        (b'"{ __typename }"', 400, "BAD_REQUEST"),
        (b'{"query": "{}"}', 400, "GRAPHQL_PARSE_FAILED"),  # crashed the depth limiter
        (b'{"query": "{ agencies {} }"}', 400, "GRAPHQL_PARSE_FAILED"),
    ],
    ids=["null", "string", "empty-selection", "empty-sub-selection"],
)
async def test_found_by_the_fuzz_test(gw: Gateway, data: bytes, status: int, code: str) -> None:
    before = len(await audit_records(gw.settings))
    answer = await send(gw, data)
    assert (answer.status, answer.code) == (status, code)
    assert await gw.total_requests() == 0
    await on_record_once(gw, before, answer)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
async def test_other_methods_are_refused_on_the_record(gw: Gateway, method: str) -> None:
    before = len(await audit_records(gw.settings))
    headers = {"Authorization": f"Bearer {gw.token()}", "Content-Type": "application/json"}
    body = encoded({"query": "{ __typename }"})
    async with gw.session.request(method, gw.url, data=body, headers=headers) as resp:
        answer = Answer(resp.status, await resp.json(content_type=None), resp.headers)
    assert (answer.status, answer.code) == (405, "BAD_REQUEST")
    record = await on_record_once(gw, before, answer)
    assert (record.outcome, record.http_status) == ("refused", 405)
