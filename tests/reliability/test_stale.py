"""A failing agency with an expired fact still in the cache: the fact is served, marked stale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mocks.records import CaseRecord
from mocks.world import World
from tests.harness import PROFILE, PROFILE_VARIABLES, open_stack


def real_estate(body: dict[str, Any]) -> list[dict[str, Any]]:
    assets: list[dict[str, Any]] = body["data"]["debtor"]["assets"]
    return [a for a in assets if a["__typename"] == "RealEstate"]


async def test_stale_fact_served_when_its_agency_fails(
    tmp_path: Path, world: World, cases: list[CaseRecord]
) -> None:
    # TTL 0: every look-up asks the agencies; what they said last is kept for a day.
    ttl = dict.fromkeys(
        ["identity", "organization", "marriage", "company_roles", "assets", "exit_bans"], 0
    )
    async with open_stack(
        tmp_path, cases, world=world, cache={"ttl_s": ttl, "stale_ttl_s": 86400}
    ) as gw:
        status, fresh = await gw.post(PROFILE, PROFILE_VARIABLES)
        assert status == 200 and "errors" not in fresh
        before = real_estate(fresh)
        assert before and not any(a["provenance"]["stale"] for a in before)

        await gw.set_faults("land_registry", {"outage": True})
        status, body = await gw.post(PROFILE, PROFILE_VARIABLES)

        assert status == 200
        assert "errors" not in body, "a stale fact is an answer, not an error"
        after = real_estate(body)
        assert [a["certificateNumber"] for a in after] == [a["certificateNumber"] for a in before]
        for old, new in zip(before, after, strict=True):
            assert new["provenance"]["stale"] is True and new["provenance"]["cached"] is True
            assert new["provenance"]["fetchedAt"] == old["provenance"]["fetchedAt"]
        others = [a for a in body["data"]["debtor"]["assets"] if a["__typename"] != "RealEstate"]
        assert others and not any(a["provenance"]["stale"] for a in others)
        assert body["data"]["debtor"]["identity"]["provenance"]["stale"] is False

        # The land registry is back (fresh again); public security is down (stale now).
        await gw.set_faults("public_security", {"outage": True})
        gw.mocks.faults("land_registry").clear()
        status, body = await gw.post(PROFILE, PROFILE_VARIABLES)
        assert body["data"]["debtor"]["identity"]["provenance"]["stale"] is True
        assert not any(a["provenance"]["stale"] for a in real_estate(body))
