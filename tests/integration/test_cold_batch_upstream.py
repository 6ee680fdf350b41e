"""Upstream requests of a cold 50-debtor batch, counted by the mocks: as few as a perfect
batcher sends, and every first-hop request out at once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bench.peer_facts import LIANDONG_QUERY_MANY
from gateway.store.cases import CaseIn
from gateway.validation import debtor_id
from mocks.runner import RunningMocks
from mocks.world import World
from tests.harness import OFFICER, Stack, StackFactory

CASE = "（2025）苏0311执8100号"
ROLES = "POST /mr/api/v1/roles"
VEHICLES = "POST /ps/v1/vehicles/query"
PERSONS = "POST /ps/v1/persons/query"
AGENCIES = ("public_security", "civil_affairs", "market_regulation", "land_registry")
BY_VARIABLE = """query($ids: [ID!]!, $c: String!, $kinds: [AssetKind!]) {
  debtors(ids: $ids, caseNumber: $c) { companies { role } assets(kinds: $kinds) { id } } }"""


@pytest.fixture
async def fifty(
    roomy_mocks: RunningMocks, world: World, make_stack: StackFactory
) -> tuple[Stack, list[str]]:
    # Cache off: every request goes upstream, so each one's requests can be counted.
    gw = await make_stack(
        mocks=roomy_mocks, court="江苏省徐州市泉山区人民法院", cache={"enabled": False}
    )
    ids = list(world.person_ids()[:50])
    await gw.add_case(
        CaseIn(
            number=CASE,
            court=gw.court,
            applicant="某银行",
            amount_due=Decimal("5000000.00"),
            debtor_ids=[debtor_id(pid) for pid in ids],
            officers=[OFFICER],
        )
    )
    return gw, ids


async def _routes(gw: Stack) -> dict[str, int]:
    out: dict[str, int] = {}
    for agency in AGENCIES:
        out.update((await gw.stats(agency))["requests"])
    return out


async def test_one_roles_request_serves_companies_and_equity(
    fifty: tuple[Stack, list[str]], world: World
) -> None:
    gw, ids = fifty
    status, body = await gw.post(LIANDONG_QUERY_MANY, {"ids": ids, "caseNumber": CASE})
    assert status == 200 and "errors" not in body, body.get("errors")
    routes = await _routes(gw)
    # The peer's count for the same batch: 55. Roles and equity stakes both come from
    # /roles; asked apart (the equity after the first hop) they cost a second request.
    assert routes[ROLES] == 1
    assert routes[VEHICLES] == 1
    assert routes["POST /ps/v1/exit-bans/query"] == 1
    assert routes["GET /ca/v2/marriage/{id}"] == 50
    spouses = {m.spouse_id for p in ids if (m := world.marriage(p)) and m.spouse_id} - set(ids)
    assert routes[PERSONS] == 1 + (1 if spouses else 0)
    assert sum(routes.values()) == 53 + routes[PERSONS]
    equity = [a for d in body["data"]["debtors"] for a in d["assets"] if "shareRatio" in a]
    assert equity, "the batch holds equity stakes, served from the one /roles answer"


async def test_vehicles_leave_with_the_first_hop(fifty: tuple[Stack, list[str]]) -> None:
    gw, ids = fifty
    for agency in AGENCIES:
        await gw.set_faults(agency, {"latency_ms": 20})
    status, body = await gw.post(LIANDONG_QUERY_MANY, {"ids": ids, "caseNumber": CASE})
    assert status == 200 and "errors" not in body, body.get("errors")
    log: list[dict[str, Any]] = (await gw.stats("public_security"))["log"]
    first_persons = min(e["end"] for e in log if e["route"] == PERSONS)
    (vehicles,) = [e for e in log if e["route"] == VEHICLES]
    # Arrival order, not a duration: the vehicles request was in flight together with the
    # first persons request instead of waiting for the whole first hop.
    assert vehicles["start"] < first_persons


@pytest.mark.parametrize("kinds", [["VEHICLE"], ["EQUITY"], None])
async def test_kinds_from_a_variable_are_read_per_request(
    fifty: tuple[Stack, list[str]], kinds: list[str] | None
) -> None:
    gw, ids = fifty
    # The same document with other kinds first: what it selected must not stick to it.
    other = {None: ["VEHICLE"], "VEHICLE": ["REAL_ESTATE"], "EQUITY": ["VEHICLE", "REAL_ESTATE"]}[
        None if kinds is None else kinds[0]
    ]
    for asked in (other, kinds):
        await gw.reset_stats()
        status, body = await gw.post(BY_VARIABLE, {"ids": ids, "c": CASE, "kinds": asked})
        assert status == 200 and "errors" not in body, body.get("errors")
    routes = await _routes(gw)
    wanted = {"VEHICLE", "EQUITY", "REAL_ESTATE"} if kinds is None else set(kinds)
    assert routes.get(VEHICLES, 0) == (1 if "VEHICLE" in wanted else 0)
    assert routes.get(ROLES, 0) == 1  # companies always; equity shares the request
    assert (routes.get("POST /lr/query", 0) > 0) == ("REAL_ESTATE" in wanted)


async def test_a_failed_first_hop_is_asked_once(fifty: tuple[Stack, list[str]]) -> None:
    # The look-ahead's batch fails for every key; each debtor's field then reports that
    # failure without asking the agency again.
    gw, ids = fifty
    await gw.set_faults("market_regulation", {"malformed": True})
    status, body = await gw.post(LIANDONG_QUERY_MANY, {"ids": ids, "caseNumber": CASE})
    assert status == 200
    routes = await _routes(gw)
    assert routes[ROLES] == 1
    companies = [e for e in body["errors"] if e["path"][-1] == "companies"]
    assert len(companies) == len(ids)
    assert {e["extensions"]["code"] for e in companies} == {"AGENCY_BAD_RESPONSE"}
    assert all(d["companies"] is None and d["identity"] for d in body["data"]["debtors"])
    await gw.clear_faults()
