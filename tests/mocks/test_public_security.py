"""Public security mock: signed JSON batches of identities, vehicles and exit bans."""

from __future__ import annotations

import time
from typing import Any

import aiohttp

from mocks.public_security import PublicSecuritySettings
from mocks.runner import RunningMocks, start_mocks
from mocks.world import World
from tests.mocks.helpers import ps_post, stats

PERSONS = "/ps/v1/persons/query"
VEHICLES = "/ps/v1/vehicles/query"
EXIT_BANS = "/ps/v1/exit-bans/query"
UNKNOWN_ID = "110101190001010000"


async def test_persons(http: aiohttp.ClientSession, mocks: RunningMocks, world: World) -> None:
    pids = world.person_ids()[:3]
    async with await ps_post(http, mocks, PERSONS, {"ids": [*pids, UNKNOWN_ID]}) as resp:
        assert resp.status == 200
        results = (await resp.json())["results"]
    assert [r["id"] for r in results] == [*pids, UNKNOWN_ID]
    for result, pid in zip(results, pids, strict=False):
        person = world.person(pid)
        assert person is not None
        assert result["found"] is True
        assert result["person"] == {
            "name": person.name,
            "sex": person.sex,
            "birthDate": person.birth_date.isoformat(),
            "address": person.address,
            "status": person.status,
        }
    assert results[-1] == {"id": UNKNOWN_ID, "found": False}


async def test_vehicles(http: aiohttp.ClientSession, mocks: RunningMocks, world: World) -> None:
    owner = next(p for p in world.person_ids() if world.vehicles_of(p))
    expected = world.vehicles_of(owner)
    async with await ps_post(http, mocks, VEHICLES, {"ids": [owner, UNKNOWN_ID]}) as resp:
        assert resp.status == 200
        results = (await resp.json())["results"]
    assert [r["ownerId"] for r in results] == [owner, UNKNOWN_ID]
    assert results[1]["vehicles"] == []
    got = results[0]["vehicles"]
    assert [v["vin"] for v in got] == [v.vin for v in expected]
    for wire, rec in zip(got, expected, strict=True):
        assert wire["plate"] == rec.plate
        assert wire["registeredOn"] == rec.registered_on.isoformat()
        assert wire["status"] == rec.status
        value = None if rec.estimated_value is None else f"{rec.estimated_value:.2f}"
        assert wire["estimatedValue"] == value
        assert len(wire["seizures"]) == len(rec.seizures)
        assert set(wire) == {
            "plate",
            "vin",
            "model",
            "registeredOn",
            "status",
            "estimatedValue",
            "seizures",
        }


async def test_vehicle_seizures_wire_shape(
    http: aiohttp.ClientSession, mocks: RunningMocks, world: World
) -> None:
    owner = next(p for p in world.person_ids() if any(v.seizures for v in world.vehicles_of(p)))
    expected = [s for v in world.vehicles_of(owner) for s in v.seizures]
    async with await ps_post(http, mocks, VEHICLES, {"ids": [owner]}) as resp:
        vehicles = (await resp.json())["results"][0]["vehicles"]
    seizures = [s for v in vehicles for s in v["seizures"]]
    assert [s["caseNumber"] for s in seizures] == [s.case_number for s in expected]
    assert [s["queuePosition"] for s in seizures] == [s.queue_position for s in expected]
    assert set(seizures[0]) == {"court", "caseNumber", "since", "until", "queuePosition", "claim"}


async def test_exit_bans(http: aiohttp.ClientSession, mocks: RunningMocks, world: World) -> None:
    pid = next(p for p in world.person_ids() if world.exit_bans_of(p))
    expected = world.exit_bans_of(pid)
    async with await ps_post(http, mocks, EXIT_BANS, {"ids": [pid]}) as resp:
        assert resp.status == 200
        results = (await resp.json())["results"]
    assert results[0]["id"] == pid
    bans = results[0]["bans"]
    assert [b["banId"] for b in bans] == [b.ban_id for b in expected]
    assert bans[0]["caseNumber"] == expected[0].case_number
    assert bans[0]["status"] == expected[0].status
    assert set(bans[0]) == {
        "banId",
        "court",
        "caseNumber",
        "since",
        "until",
        "status",
        "liftReason",
    }


async def test_batch_limit(http: aiohttp.ClientSession, mocks: RunningMocks, world: World) -> None:
    ids = world.person_ids()[:101]
    async with await ps_post(http, mocks, PERSONS, {"ids": ids[:100]}) as resp:
        assert resp.status == 200
        assert len((await resp.json())["results"]) == 100
    async with await ps_post(http, mocks, PERSONS, {"ids": ids}) as resp:
        assert resp.status == 400
        assert await resp.json() == {"error": "batch_too_large", "max": 100}
    log = (await stats(http, mocks.urls["public_security"]))["log"]
    assert [entry["keys"] for entry in log] == [100, 0]


async def test_bad_bodies(http: aiohttp.ClientSession, mocks: RunningMocks) -> None:
    bodies: list[Any] = [b"not json", [1], {"ids": "x"}, {"ids": [1, 2]}, {"other": []}]
    for body in bodies:
        async with await ps_post(http, mocks, PERSONS, body) as resp:
            assert resp.status == 400
            assert await resp.json() == {"error": "bad_request"}


async def test_bad_signature(http: aiohttp.ClientSession, mocks: RunningMocks) -> None:
    url = mocks.urls["public_security"] + PERSONS
    async with http.post(url, json={"ids": []}) as resp:
        assert resp.status == 401
        assert await resp.json() == {"error": "bad_signature"}
    async with await ps_post(http, mocks, PERSONS, {"ids": []}, secret=b"wrong") as resp:
        assert resp.status == 401
        assert await resp.json() == {"error": "bad_signature"}


async def test_stale_timestamp(http: aiohttp.ClientSession, mocks: RunningMocks) -> None:
    stale = time.time() - 301
    async with await ps_post(http, mocks, PERSONS, {"ids": []}, now=stale) as resp:
        assert resp.status == 401
        assert await resp.json() == {"error": "bad_signature"}
    future = time.time() + 301
    async with await ps_post(http, mocks, PERSONS, {"ids": []}, now=future) as resp:
        assert resp.status == 401


async def test_configured_secret_and_batch(http: aiohttp.ClientSession, world: World) -> None:
    settings = PublicSecuritySettings(secret=b"court-secret", max_batch=2)
    assert "court-secret" not in repr(settings)
    async with await start_mocks(world, public_security_settings=settings) as mocks:
        assert mocks.secret == b"court-secret"
        ids = world.person_ids()[:3]
        async with await ps_post(http, mocks, PERSONS, {"ids": ids[:2]}) as resp:
            assert resp.status == 200
        async with await ps_post(http, mocks, PERSONS, {"ids": ids}) as resp:
            assert await resp.json() == {"error": "batch_too_large", "max": 2}
