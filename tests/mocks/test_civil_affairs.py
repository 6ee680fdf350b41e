"""Civil affairs mock: one marriage record per request, behind a token bucket."""

from __future__ import annotations

import aiohttp
import pytest

from mocks.civil_affairs import CivilAffairsSettings, TokenBucket
from mocks.runner import RunningMocks, start_mocks
from mocks.world import World
from tests.mocks.helpers import stats


async def test_marriage(http: aiohttp.ClientSession, mocks: RunningMocks, world: World) -> None:
    pid = next(p for p in world.person_ids() if (m := world.marriage(p)) and m.status == "MARRIED")
    record = world.marriage(pid)
    assert record is not None and record.registered_on is not None
    async with http.get(f"{mocks.urls['civil_affairs']}/ca/v2/marriage/{pid}") as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body == {
        "id": pid,
        "status": "MARRIED",
        "spouseId": record.spouse_id,
        "spouseName": record.spouse_name,
        "registeredOn": record.registered_on.isoformat(),
        "office": record.office,
    }


async def test_single_has_null_spouse(
    http: aiohttp.ClientSession, mocks: RunningMocks, world: World
) -> None:
    pid = next(p for p in world.person_ids() if (m := world.marriage(p)) and m.status == "SINGLE")
    async with http.get(f"{mocks.urls['civil_affairs']}/ca/v2/marriage/{pid}") as resp:
        body = await resp.json()
    assert body["status"] == "SINGLE"
    assert body["spouseId"] is None and body["spouseName"] is None
    assert body["registeredOn"] is None


async def test_unknown_id(http: aiohttp.ClientSession, mocks: RunningMocks) -> None:
    async with http.get(f"{mocks.urls['civil_affairs']}/ca/v2/marriage/nobody") as resp:
        assert resp.status == 404
        assert await resp.json() == {"error": "not_found"}
    counted = (await stats(http, mocks.urls["civil_affairs"]))["requests"]
    assert counted == {"GET /ca/v2/marriage/{id}": 1}


async def test_rate_limited(http: aiohttp.ClientSession, world: World) -> None:
    # A bucket that refills one token in ~17 minutes: only the burst gets through.
    settings = CivilAffairsSettings(rate=0.001, burst=3)
    pid = world.person_ids()[0]
    async with await start_mocks(world, civil_affairs_settings=settings) as mocks:
        url = f"{mocks.urls['civil_affairs']}/ca/v2/marriage/{pid}"
        statuses = []
        for _ in range(5):
            async with http.get(url) as resp:
                statuses.append(resp.status)
                if resp.status == 429:
                    assert await resp.json() == {"error": "rate_limited"}
                    retry_after = resp.headers["Retry-After"]
        assert statuses == [200, 200, 200, 429, 429]
        assert retry_after.isdigit() and int(retry_after) >= 1


def test_token_bucket_refills() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2.0, burst=2, clock=lambda: now[0])
    assert bucket.take() == 0.0
    assert bucket.take() == 0.0
    assert bucket.take() == pytest.approx(0.5)
    now[0] = 0.5
    assert bucket.take() == 0.0
    now[0] = 100.0  # refills to the burst, never past it
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, pytest.approx(0.5)]
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(rate=0, burst=1)
