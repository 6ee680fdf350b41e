"""The response cache behind the legal checks, on one gateway over real mocks.

Counts, never timings: the mocks' request counters, the cache's ``/metrics`` series and the
audit records. Each answer served from the cache has its own record, marked as such; an
unauthorised caller never gets a kept answer; two scopes never share one; a restriction on a
debtor makes the next identical query rebuild its answer.
"""

from __future__ import annotations

import dataclasses

import orjson
import pytest

from connectors.domain import DebtorKind
from gateway import validation
from gateway.cli.demo import seed_cases
from gateway.store.cases import Store
from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.audit_reading import audit_records
from tests.harness import (
    JUDGE,
    OUTSIDER,
    PROFILE,
    Gateway,
    StackFactory,
)
from tests.integration.response_cache_support import cache_figures

pytestmark = pytest.mark.usefixtures("mocks")

IDENTITY = """query($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) {
  identity { name provenance { agency fetchedAt cached } } } }"""
ACCESS_LOG = "{ myAccessLog { edges { node { caseNumber kinds outcome } } } }"


@pytest.fixture
async def gw(make_stack: StackFactory, mocks: RunningMocks, cases: list[CaseRecord]) -> Gateway:
    return await make_stack(cases, mocks=mocks)


def profile_of(case: CaseRecord, i: int = 0) -> dict[str, str]:
    return {"id": case.debtor_ids[i], "caseNumber": case.number}


async def raw_post(gw: Gateway, body: bytes, token: str | None) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with gw.session.post(gw.url, data=body, headers=headers) as resp:
        return resp.status, await resp.read()


async def test_a_repeated_query_is_served_from_bytes_with_its_own_record(
    gw: Gateway, cases: list[CaseRecord]
) -> None:
    variables = profile_of(cases[0])
    status, first = await gw.post(PROFILE, variables, headers={"X-Request-Id": "built-1"})
    assert status == 200 and "errors" not in first, first
    upstream = await gw.total_requests()
    assert upstream > 0
    before = await cache_figures(gw)
    assert before["stored"] == 1 and before["hits"] == 0

    for n in range(3):
        status, again = await gw.post(PROFILE, variables, headers={"X-Request-Id": f"hit-{n}"})
        assert status == 200 and "errors" not in again
        assert again["data"]["debtor"]["identity"] == {
            **first["data"]["debtor"]["identity"],
            "provenance": {**first["data"]["debtor"]["identity"]["provenance"], "cached": True},
        }
    after = await cache_figures(gw)
    assert after["hits"] == 3 and after["stored"] == 1
    assert await gw.total_requests() == upstream  # not one more upstream request

    records = await audit_records(gw.settings, case_number=variables["caseNumber"])
    built = [r for r in records if r.client_request_id == "built-1"]
    hits = [r for r in records if (r.client_request_id or "").startswith("hit-")]
    assert len(built) == 1 and len(hits) == 3
    assert len({r.request_id for r in hits}) == 3  # one record each
    for record in hits:
        assert record.detail["servedFrom"] == "responseCache"
        assert record.outcome == "ok" and record.http_status == 200
        assert record.debtor_keys == built[0].debtor_keys
        assert record.document_hash == built[0].document_hash
        assert {(c["agency"], c["facet"]) for c in record.agencies} == {
            (c["agency"], c["facet"]) for c in built[0].agencies
        }
        assert all(c["keys"] == 0 and c["status"] == "cached" for c in record.agencies)
    assert "servedFrom" not in built[0].detail


async def test_the_bytes_served_equal_a_build_from_the_fact_cache(
    gw: Gateway, cases: list[CaseRecord]
) -> None:
    """A kept answer is what a build over the (warm) fact cache sends, byte for byte."""
    body = orjson.dumps({"query": PROFILE, "variables": profile_of(cases[1])})
    token = gw.token()
    status, cold = await raw_post(gw, body, token)
    assert status == 200
    # The same operation named by operationName is another key: built over warm facts.
    named = {"query": PROFILE, "operationName": "Profile", "variables": profile_of(cases[1])}
    status, warm_build = await raw_post(gw, orjson.dumps(named), token)
    assert status == 200
    status, hit = await raw_post(gw, body, token)
    assert status == 200
    assert (await cache_figures(gw))["hits"] == 1
    assert hit == warm_build
    assert hit != cold and b'"cached":false' in cold and b'"cached":false' not in hit


async def test_unauthorised_callers_never_get_a_kept_answer(
    gw: Gateway, cases: list[CaseRecord]
) -> None:
    case = cases[0]
    body = orjson.dumps({"query": PROFILE, "variables": profile_of(case)})
    status, _ = await raw_post(gw, body, gw.token())
    assert status == 200 and (await cache_figures(gw))["stored"] == 1

    status, _ = await raw_post(gw, body, None)  # no token
    assert status == 401
    # An officer of the same court and roles, not on the case: the same key, refused.
    status, outsider = await raw_post(gw, body, gw.token(officer=OUTSIDER))
    assert status == 200 and b"FORBIDDEN" in outsider and b'"identity"' not in outsider
    # The case through which the debtor was asked, but another case number: refused.
    wrong = {**profile_of(case), "caseNumber": cases[1].number}
    _, refused = await gw.post(PROFILE, wrong)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await cache_figures(gw))["hits"] == 0

    # Taken off the case after the answer was kept: the same token is refused now.
    store = await Store.open(gw.settings.database_url)
    try:
        await seed_cases(store, [dataclasses.replace(case)], ["officer-9"], [JUDGE])
    finally:
        await store.close()
    status, removed = await raw_post(gw, body, gw.token())
    assert status == 200 and b"FORBIDDEN" in removed
    assert (await cache_figures(gw))["hits"] == 0


async def test_two_scopes_never_share_an_answer(gw: Gateway, cases: list[CaseRecord]) -> None:
    variables = profile_of(cases[0])
    masked, clear = gw.token(), gw.token(scopes=["unmask"])
    other_court = gw.token(court="北京市第一中级人民法院")
    answers = []
    for token in (masked, clear, other_court, masked, clear, other_court):
        status, body = await gw.post(PROFILE, variables, token=token)
        assert status == 200 and "errors" not in body, body
        answers.append(body["data"]["debtor"]["maskedId"])
    figures = await cache_figures(gw)
    assert figures["stored"] == 3 and figures["hits"] == 3
    assert answers[0] == answers[3] != answers[1] == answers[4]
    assert "*" in answers[0] and "*" not in answers[1]


async def test_an_answer_with_an_agency_error_is_not_kept(
    gw: Gateway, cases: list[CaseRecord]
) -> None:
    await gw.set_faults("civil_affairs", {"outage": True})
    variables = profile_of(cases[2])
    for _ in range(2):
        status, body = await gw.post(PROFILE, variables)
        assert status == 200 and body["errors"][0]["extensions"]["agency"] == "CIVIL_AFFAIRS"
    figures = await cache_figures(gw)
    assert figures["stored"] == 0 and figures["hits"] == 0


async def test_mutations_are_never_kept(gw: Gateway, cases: list[CaseRecord]) -> None:
    watch = """mutation($c: String!, $id: ID!) { watchDebtor(caseNumber: $c, debtorId: $id) {
      id } }"""
    for _ in range(2):
        _, body = await gw.post(watch, {"c": cases[0].number, "id": cases[0].debtor_ids[0]})
        assert "errors" not in body, body
    figures = await cache_figures(gw)
    assert figures["stored"] == 0 and figures["hits"] == 0


async def test_a_setting_turns_it_off(
    make_stack: StackFactory, mocks: RunningMocks, cases: list[CaseRecord]
) -> None:
    off = await make_stack(cases, mocks=mocks, response_cache={"enabled": False})
    for n in range(2):
        status, _ = await off.post(
            PROFILE, profile_of(cases[0]), headers={"X-Request-Id": f"off-{n}"}
        )
        assert status == 200
    assert await cache_figures(off) == {}  # no series: nothing is kept
    records = await audit_records(off.settings, case_number=cases[0].number)
    assert len(records) == 2 and all("servedFrom" not in r.detail for r in records)


async def test_the_access_log_lists_answers_served_from_the_cache(
    gw: Gateway, cases: list[CaseRecord]
) -> None:
    case, person = cases[0], cases[0].debtor_ids[0]
    for _ in range(3):
        status, body = await gw.post(IDENTITY, {"id": person, "c": case.number})
        assert status == 200 and body["data"]["debtor"]["identity"] is not None
    assert (await cache_figures(gw))["hits"] == 2
    subject = gw.token(officer=person, roles=["subject"])
    status, body = await gw.post(ACCESS_LOG, {}, token=subject)
    assert status == 200 and "errors" not in body, body
    entries = [e["node"] for e in body["data"]["myAccessLog"]["edges"]]
    assert len(entries) == 3
    assert all(e["caseNumber"] == case.number and e["kinds"] == ["IDENTITY"] for e in entries)


async def test_the_byte_bound_evicts_the_least_recently_used(
    make_stack: StackFactory, mocks: RunningMocks, cases: list[CaseRecord]
) -> None:
    small = await make_stack(cases, mocks=mocks, response_cache={"max_bytes": 400})
    sizes = []
    people = [
        (d, c.number)
        for c in cases
        for d in c.debtor_ids
        if validation.debtor_id(d)[1] is DebtorKind.PERSON
    ]
    for debtor, number in people[:4]:  # identity answers of 100 to 200 bytes
        variables = {"id": debtor, "c": number}
        body = orjson.dumps({"query": IDENTITY, "variables": variables})
        status, answer = await raw_post(small, body, small.token())
        assert status == 200 and b'"name"' in answer
        sizes.append(len(answer))
    assert sum(sizes) > 400 > max(sizes) * 2
    figures = await cache_figures(small)
    assert figures["stored"] == 4 and figures["entries"] + figures["evictions"] == 4
    assert figures["evictions"] >= 1
    # The first answer went first: asking for it again builds it anew.
    first = {"id": people[0][0], "c": people[0][1]}
    await raw_post(small, orjson.dumps({"query": IDENTITY, "variables": first}), small.token())
    assert (await cache_figures(small))["hits"] == 0
