"""Batching, de-duplication, caching and concurrency, proven with the mocks' own counters."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from gateway.store.cases import CaseIn
from gateway.validation import debtor_id
from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from mocks.world import World
from tests.harness import OFFICER, PROFILE, Gateway, StackFactory

PS_PERSONS = "POST /ps/v1/persons/query"
LR_QUERY = "POST /lr/query"
CA_MARRIAGE = "GET /ca/v2/marriage/{id}"
BIG_CASE = "（2025）苏0311执8000号"
CA_CAP = 3


def requests(stats: dict[str, Any], route: str) -> int:
    return int(stats["requests"].get(route, 0))


@pytest.fixture
async def big(roomy_mocks: RunningMocks, world: World, make_stack: StackFactory) -> Gateway:
    """A gateway with a 200-debtor case and civil affairs capped at CA_CAP in flight."""
    gw = await make_stack(
        mocks=roomy_mocks,
        court="江苏省徐州市泉山区人民法院",
        agencies={"civil_affairs": {"max_concurrency": CA_CAP}},
    )
    await gw.add_case(
        CaseIn(
            number=BIG_CASE,
            court=gw.court,
            applicant="某银行",
            amount_due=Decimal("5000000.00"),
            debtor_ids=[debtor_id(pid) for pid in world.person_ids()[:200]],
            officers=[OFFICER],
        )
    )
    return gw


async def test_two_hundred_debtors_are_batched(big: Gateway, world: World) -> None:
    ids = list(world.person_ids()[:200])
    query = """query($ids: [ID!]!, $c: String!) {
      debtors(ids: $ids, caseNumber: $c) { identity { name } assets(kinds: [REAL_ESTATE]) { id } } }"""
    status, body = await big.post(query, {"ids": ids, "c": BIG_CASE})
    assert status == 200 and "errors" not in body, body.get("errors")
    assert len(body["data"]["debtors"]) == 200
    assert all(d["identity"]["name"] for d in body["data"]["debtors"])
    assert requests(await big.stats("public_security"), PS_PERSONS) <= 2
    assert requests(await big.stats("land_registry"), LR_QUERY) <= 4


async def test_civil_affairs_never_exceeds_its_cap(big: Gateway, world: World) -> None:
    ids = list(world.person_ids()[:200])
    query = """query($ids: [ID!]!, $c: String!) { debtors(ids: $ids, caseNumber: $c) { marriage { status } } }"""
    await big.set_faults("civil_affairs", {"latency_ms": 20})
    status, body = await big.post(query, {"ids": ids, "c": BIG_CASE})
    assert status == 200 and "errors" not in body, body.get("errors")
    stats = await big.stats("civil_affairs")
    assert requests(stats, CA_MARRIAGE) == 200
    assert 1 < stats["max_in_flight"] <= CA_CAP


async def test_spouse_in_the_list_is_fetched_once(big: Gateway, world: World) -> None:
    ids = list(world.person_ids()[:200])
    couple = next(
        (pid, m.spouse_id)
        for pid in ids
        if (m := world.marriage(pid)) and m.status == "MARRIED" and m.spouse_id in ids
    )
    query = """query($ids: [ID!]!, $c: String!) {
      debtors(ids: $ids, caseNumber: $c) { identity { name } marriage { spouse { identity { name } } } } }"""
    status, body = await big.post(query, {"ids": list(couple), "c": BIG_CASE})
    assert status == 200 and "errors" not in body, body.get("errors")
    first, second = body["data"]["debtors"]
    assert first["marriage"]["spouse"]["identity"]["name"] == second["identity"]["name"]
    stats = await big.stats("public_security")
    asked = [e["keys"] for e in stats["log"] if e["route"] == PS_PERSONS]
    assert asked == [2], "both spouses in one batch; the spouse hop is served by the loader"


async def test_look_ahead_asks_only_for_what_the_operation_uses(big: Gateway, world: World) -> None:
    # debtors(ids:) loads the first hop for the whole list before walking it; a field that
    # a directive drops, or that takes arguments, is left to its resolver.
    ids = list(world.person_ids()[:50])
    query = """query($ids: [ID!]!, $c: String!, $no: Boolean!) {
      debtors(ids: $ids, caseNumber: $c) {
        identity @include(if: $no) { name }
        ... on Debtor { companies { role } }
        assets(kinds: [VEHICLE]) { id }
      } }"""
    status, body = await big.post(query, {"ids": ids, "c": BIG_CASE, "no": False})
    assert status == 200 and "errors" not in body, body.get("errors")
    assert all("identity" not in d for d in body["data"]["debtors"])
    assert requests(await big.stats("public_security"), PS_PERSONS) == 0
    assert requests(await big.stats("land_registry"), LR_QUERY) == 0  # no real estate asked
    assert requests(await big.stats("civil_affairs"), CA_MARRIAGE) == 0
    roles = await big.stats("market_regulation")
    assert sum(roles["requests"].values()) >= 1  # selected through a fragment


async def test_second_identical_query_within_ttl_makes_no_upstream_request(
    gateway: Gateway, cases: list[CaseRecord]
) -> None:
    query = PROFILE
    variables = {"id": cases[0].debtor_ids[0], "caseNumber": cases[0].number}
    status, first = await gateway.post(query, variables)
    assert status == 200 and "errors" not in first
    assert await gateway.total_requests() > 0
    await gateway.reset_stats()
    status, second = await gateway.post(query, variables)
    assert status == 200 and "errors" not in second
    assert await gateway.total_requests() == 0
    assert second["data"]["debtor"]["identity"]["provenance"]["cached"] is True
    assert (
        first["data"]["debtor"]["identity"]["name"] == second["data"]["debtor"]["identity"]["name"]
    )


async def test_four_agencies_overlap_and_the_spouse_is_the_only_second_hop(
    gateway: Gateway, cases: list[CaseRecord]
) -> None:
    for agency in gateway.mocks.urls:
        await gateway.set_faults(agency, {"latency_ms": 300})
    query = PROFILE
    variables = {"id": cases[0].debtor_ids[0], "caseNumber": cases[0].number}
    status, body = await gateway.post(query, variables)
    assert status == 200 and "errors" not in body, body.get("errors")
    entries = []
    for agency in gateway.mocks.urls:
        for e in (await gateway.stats(agency))["log"]:
            entries.append((agency, e["route"], e["start"], e["end"]))
    # The mocks share one process and one monotonic clock, so their logs compare.
    entries.sort(key=lambda e: e[2])
    first_end = min(end for *_, end in entries)
    first_hop = [e for e in entries if e[2] < first_end]
    second_hop = [e for e in entries if e[2] >= first_end]
    assert {agency for agency, *_ in first_hop} == set(gateway.mocks.urls)
    assert [(a, r) for a, r, *_ in second_hop] == [("public_security", PS_PERSONS)]
