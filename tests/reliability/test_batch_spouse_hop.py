"""A batch's second hop does not wait behind a slow agency: the spouses' identities are
asked as soon as civil affairs has answered, so a land registry that hangs until the request
deadline fails its own facts and nothing else, and the other agencies' assets, answered in
the look-ahead, are not asked for again (past the deadline) because its answer is missing."""

from __future__ import annotations

from typing import Any

from bench.fixtures import PROFILE_MANY
from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from mocks.world import World
from tests.assertions import agencies_with
from tests.harness import StackFactory

DEADLINE_S = 1.0


def _married_case(world: World, cases: list[CaseRecord]) -> CaseRecord:
    # A case with a debtor whose spouse is not one of its debtors: a real second hop.
    for case in cases:
        for debtor in case.debtor_ids:
            marriage = world.marriage(debtor)
            if marriage and marriage.spouse_id and marriage.spouse_id not in case.debtor_ids:
                return case
    raise AssertionError("the world has no married debtor with an outside spouse")


async def test_a_hanging_agency_leaves_the_spouses_of_a_batch_complete(
    roomy_mocks: RunningMocks, world: World, cases: list[CaseRecord], make_stack: StackFactory
) -> None:
    case = _married_case(world, cases)
    gw = await make_stack(
        [case],
        mocks=roomy_mocks,
        limits={"deadline_s": DEADLINE_S},
        cache={"enabled": False},
        agencies=agencies_with(read_timeout=30.0, total_timeout=30.0, breaker_threshold=1000),
    )
    await gw.set_faults("land_registry", {"hang": True})
    status, body = await gw.post(
        PROFILE_MANY, {"ids": list(case.debtor_ids), "caseNumber": case.number}
    )
    assert status == 200
    codes = {e["extensions"]["code"] for e in body.get("errors", [])}
    agencies = {e["extensions"].get("agency") for e in body.get("errors", [])}
    assert codes == {"AGENCY_TIMEOUT"} and agencies == {"LAND_REGISTRY"}, [
        (e["path"], e["extensions"]) for e in body.get("errors", [])
    ]
    spouses: list[Any] = [
        d["marriage"]["spouse"]
        for d in body["data"]["debtors"]
        if d["marriage"] and d["marriage"]["spouse"]
    ]
    assert spouses, "the case has a married debtor"
    assert all(s["identity"] and s["identity"]["name"] for s in spouses), spouses
    # The look-ahead's answers are not asked for again because one agency of the field failed.
    vehicles = (await gw.stats("public_security"))["requests"]["POST /ps/v1/vehicles/query"]
    roles = (await gw.stats("market_regulation"))["requests"]["POST /mr/api/v1/roles"]
    assert (vehicles, roles) == (1, 1)
