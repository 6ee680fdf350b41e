"""Retries through the whole gateway: a rate-limited agency's 429 is waited out, then served."""

from __future__ import annotations

from pathlib import Path

from mocks.civil_affairs import CivilAffairsSettings
from mocks.records import CaseRecord
from mocks.world import World
from tests.harness import PROFILE_VARIABLES, open_stack

MARRIAGE = """query($id: ID!, $caseNumber: String!) {
  debtor(id: $id, caseNumber: $caseNumber) { marriage { status provenance { stale } } } }"""
FIGURES = "{ agencies { name stats { requests errors retries } } }"


async def test_429_with_retry_after_is_honoured_and_then_succeeds(
    tmp_path: Path, world: World, cases: list[CaseRecord]
) -> None:
    # One token, one more per second: the second look-up meets a 429 with Retry-After: 1.
    async with open_stack(
        tmp_path,
        cases,
        world=world,
        mock_options={"civil_affairs_settings": CivilAffairsSettings(rate=1.0, burst=1)},
        cache={"enabled": False},
        limits={"deadline_s": 5.0},
    ) as gw:
        for _ in range(2):
            status, body = await gw.post(MARRIAGE, PROFILE_VARIABLES)
            assert status == 200
            assert "errors" not in body, body["errors"]
            assert body["data"]["debtor"]["marriage"]["status"] == "MARRIED"

        assert [e["status"] for e in await gw.mock_log("civil_affairs")] == [200, 429, 200]
        _, figures = await gw.post(FIGURES)
        (civil,) = [a for a in figures["data"]["agencies"] if a["name"] == "CIVIL_AFFAIRS"]
        assert civil["stats"] == {"requests": 3, "errors": 1, "retries": 1}
