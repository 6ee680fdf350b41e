"""/_faults: each fault, in each agency's own error format, and its validation."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from typing import Any

import aiohttp
import defusedxml.ElementTree as SafeET
import pytest

from mocks.faults import FaultError, Faults
from mocks.runner import AGENCIES, RunningMocks
from mocks.world import World
from tests.mocks.helpers import ps_post, set_faults, stats, wait_in_flight

PERSONS = "/ps/v1/persons/query"


async def data_request(
    http: aiohttp.ClientSession, mocks: RunningMocks, agency: str, world: World
) -> tuple[int, dict[str, str], bytes]:
    """One valid data request to ``agency``: its status, headers and raw body."""
    pid = world.person_ids()[0]
    base = mocks.urls[agency]
    if agency == "public_security":
        request = await ps_post(http, mocks, PERSONS, {"ids": [pid]})
    elif agency == "civil_affairs":
        request = await http.get(f"{base}/ca/v2/marriage/{pid}")
    elif agency == "land_registry":
        body = f'<RealEstateQuery><Owner idNumber="{pid}"/></RealEstateQuery>'.encode()
        request = await http.post(f"{base}/lr/query", data=body)
    else:
        request = await http.post(f"{base}/mr/api/v1/roles", json={"ids": [pid]})
    async with request as resp:
        return resp.status, dict(resp.headers), await resp.read()


def parse(agency: str, body: bytes) -> Any:
    if agency == "land_registry":
        return SafeET.fromstring(body)
    return json.loads(body)


async def test_get_set_clear(http: aiohttp.ClientSession, mocks: RunningMocks) -> None:
    base = mocks.urls["land_registry"]
    async with http.get(base + "/_faults") as resp:
        defaults = await resp.json()
    assert defaults == {
        "latency_ms": 0,
        "jitter_ms": 0,
        "error_rate": 0.0,
        "outage": False,
        "hang": False,
        "malformed": False,
        "status_storm_429": False,
        "lost_response": False,
        "errors_in_body": False,
    }
    await set_faults(http, base, latency_ms=5)
    await set_faults(http, base, error_rate=0)  # merges: latency stays
    async with http.get(base + "/_faults") as resp:
        assert await resp.json() == {**defaults, "latency_ms": 5}
    async with http.delete(base + "/_faults") as resp:
        assert await resp.json() == defaults


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"latency": 5}, "latency"),
        ({"latency_ms": "5"}, "latency_ms"),
        ({"latency_ms": True}, "latency_ms"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"jitter_ms": 1.5}, "jitter_ms"),
        ({"error_rate": 1.5}, "error_rate"),
        ({"error_rate": "0.5"}, "error_rate"),
        ({"outage": 1}, "outage"),
        ({"hang": "yes"}, "hang"),
        ([1], "<body>"),
    ],
)
async def test_validation_names_the_key(
    http: aiohttp.ClientSession, mocks: RunningMocks, body: Any, key: str
) -> None:
    base = mocks.urls["market_regulation"]
    async with http.post(base + "/_faults", json=body) as resp:
        assert resp.status == 400
        refusal = await resp.json()
    assert refusal["error"] == "bad_fault"
    assert refusal["key"] == key
    assert refusal["message"]
    async with http.post(base + "/_faults", data=b"{") as resp:
        assert resp.status == 400
    # All or nothing: a refused body changed nothing.
    assert mocks.faults("market_regulation").settings.latency_ms == 0


def test_update_is_all_or_nothing() -> None:
    faults = Faults(lambda status, name: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(FaultError) as err:
        faults.update({"outage": True, "bogus": 1})
    assert err.value.key == "bogus"
    assert faults.settings.outage is False


@pytest.mark.parametrize("agency", AGENCIES)
async def test_errors_in_body_only_where_the_envelope_carries_them(
    http: aiohttp.ClientSession, mocks: RunningMocks, world: World, agency: str
) -> None:
    await set_faults(http, mocks.urls[agency], outage=True, errors_in_body=True)
    status, _, body = await data_request(http, mocks, agency, world)
    if agency == "market_regulation":
        # How the agency reports being busy: HTTP 200, the failure in the envelope.
        assert status == 200
        assert parse(agency, body) == {"code": 50000, "msg": "service_unavailable", "data": None}
    else:
        assert status == 503  # no envelope to carry it: the fault answers as an outage


@pytest.mark.parametrize("agency", AGENCIES)
async def test_outage(
    http: aiohttp.ClientSession, mocks: RunningMocks, world: World, agency: str
) -> None:
    await set_faults(http, mocks.urls[agency], outage=True)
    status, _, body = await data_request(http, mocks, agency, world)
    assert status == 503
    error = parse(agency, body)
    if agency == "land_registry":
        assert error.attrib == {"code": "SERVICE_UNAVAILABLE"}
    elif agency == "market_regulation":
        assert error == {"code": 50000, "msg": "service_unavailable", "data": None}
    else:
        assert error == {"error": "service_unavailable"}
    # Control routes stay up, and the faulted request was still counted.
    figures = await stats(http, mocks.urls[agency])
    assert sum(figures["requests"].values()) == 1


@pytest.mark.parametrize("agency", AGENCIES)
async def test_status_storm_429(
    http: aiohttp.ClientSession, mocks: RunningMocks, world: World, agency: str
) -> None:
    await set_faults(http, mocks.urls[agency], status_storm_429=True)
    status, headers, body = await data_request(http, mocks, agency, world)
    assert status == 429
    assert headers["Retry-After"] == "1"
    if agency == "market_regulation":
        assert parse(agency, body)["code"] == 42900


@pytest.mark.parametrize("agency", AGENCIES)
async def test_malformed(
    http: aiohttp.ClientSession, mocks: RunningMocks, world: World, agency: str
) -> None:
    healthy_status, healthy_headers, _ = await data_request(http, mocks, agency, world)
    await set_faults(http, mocks.urls[agency], malformed=True)
    status, headers, body = await data_request(http, mocks, agency, world)
    assert status == healthy_status
    assert headers["Content-Type"] == healthy_headers["Content-Type"]
    with pytest.raises((ValueError, ET.ParseError)):
        parse(agency, body)


async def test_error_rate_is_seeded(
    http: aiohttp.ClientSession, mocks: RunningMocks, world: World
) -> None:
    async def run() -> list[int]:
        await set_faults(http, mocks.urls["market_regulation"], error_rate=0.5)
        return [(await data_request(http, mocks, "market_regulation", world))[0] for _ in range(20)]

    first = await run()
    assert set(first) == {200, 503}
    assert await run() == first  # re-seeded on every change
    await set_faults(http, mocks.urls["market_regulation"], error_rate=1)
    assert {(await data_request(http, mocks, "market_regulation", world))[0]} == {503}
    await set_faults(http, mocks.urls["market_regulation"], error_rate=0)
    assert {(await data_request(http, mocks, "market_regulation", world))[0]} == {200}


async def test_latency_and_jitter(
    http: aiohttp.ClientSession, mocks: RunningMocks, world: World
) -> None:
    base = mocks.urls["civil_affairs"]
    await set_faults(http, base, latency_ms=50, jitter_ms=10)
    status, _, _ = await data_request(http, mocks, "civil_affairs", world)
    assert status == 200
    # The mock's own monotonic log holds the request at least latency - jitter.
    (entry,) = (await stats(http, base))["log"]
    assert entry["end"] - entry["start"] >= 0.039


async def test_hang_until_the_client_gives_up(mocks: RunningMocks, world: World) -> None:
    base = mocks.urls["civil_affairs"]
    async with aiohttp.ClientSession() as control:
        await set_faults(control, base, hang=True)
        pid = world.person_ids()[0]
        short = aiohttp.ClientTimeout(total=0.2)
        async with aiohttp.ClientSession(timeout=short) as client:
            with pytest.raises(asyncio.TimeoutError):
                async with client.get(f"{base}/ca/v2/marriage/{pid}"):
                    pass
        # The abandoned handler is cancelled, not left sleeping.
        await wait_in_flight(control, base, 0)
        assert (await stats(control, base))["requests"] == {"GET /ca/v2/marriage/{id}": 1}


async def test_lost_response(
    http: aiohttp.ClientSession, mocks: RunningMocks, world: World
) -> None:
    base = mocks.urls["public_security"]
    await set_faults(http, base, lost_response=True)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        async with await ps_post(http, mocks, PERSONS, {"ids": world.person_ids()[:2]}):
            pass
    # The work was done: the request reached the handler and was logged with its keys.
    figures = await stats(http, base)
    assert figures["requests"] == {"POST /ps/v1/persons/query": 1}
    assert figures["log"][0]["keys"] == 2
    await set_faults(http, base, lost_response=False)
    status, _, _ = await data_request(http, mocks, "public_security", world)
    assert status == 200
