"""One contract, every registered connector, against the real mock agencies on 127.0.0.1.

The suite is parametrised over the ``liandong.connectors`` entry points and each connector's
facets, so a new connector is held to the same contract the day it is registered:
one result per key in order, nothing for unknown keys, the showcase debtor's facts present,
``ceil(n / batch)`` upstream requests for ``n`` distinct keys, batches sent concurrently, and
an agency's failure turned into the right error for every key.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import aiohttp
import pytest
from stdnum.cn import ric

from connectors.base import Connector, Result
from connectors.deadline import deadline_after
from connectors.domain import (
    CompanyInfo,
    CompanyRole,
    EquityStake,
    ExitBan,
    Facet,
    Identity,
    Marriage,
    OrganizationPerson,
    RealEstate,
    Vehicle,
)
from connectors.http import HttpClient, HttpSettings
from connectors.registry import available, build, connectors_for
from gateway.errors import AgencyBadResponse, AgencyError, AgencyRejected, AgencyUnavailable
from mocks.runner import RunningMocks, start_mocks
from mocks.world import World

# A well-formed resident id (valid check digit) that the seeded world does not hold.
UNKNOWN_PERSON = "11010119000101001" + ric.calc_check_digit("11010119000101001")
UNKNOWN_COMPANY = "91110000000000000X"

# What each facet's values are (None and () are allowed for "nothing there").
SHAPES: dict[Facet, type | tuple[type, ...]] = {
    Facet.IDENTITY: Identity,
    Facet.ORGANIZATION: CompanyInfo,
    Facet.MARRIAGE: Marriage,
    Facet.COMPANY_ROLES: CompanyRole,
    Facet.ASSETS: (RealEstate, Vehicle, EquityStake),
    Facet.EXIT_BANS: ExitBan,
    Facet.ORGANIZATION_PERSONS: OrganizationPerson,
}
SINGLE_VALUED = {Facet.IDENTITY, Facet.ORGANIZATION, Facet.MARRIAGE}
BY_CREDIT_CODE = {Facet.ORGANIZATION, Facet.ORGANIZATION_PERSONS}


def _cases() -> list[tuple[str, Facet]]:
    cases: list[tuple[str, Facet]] = []
    for name, factory in available().items():
        facets = cast("type[Connector]", factory).facets
        cases.extend((name, facet) for facet in facets)
    return cases


CASES = _cases()
CASE_IDS = [f"{name}-{facet}" for name, facet in CASES]


@pytest.fixture(scope="module")
def world() -> World:
    return World(seed=7, people=1000)


@pytest.fixture
async def agencies(world: World) -> AsyncIterator[RunningMocks]:
    running = await start_mocks(world)
    try:
        yield running
    finally:
        await running.aclose()


@dataclass
class Harness:
    name: str
    connector: Connector
    url: str
    session: aiohttp.ClientSession

    async def stats(self) -> dict[str, Any]:
        async with self.session.get(f"{self.url}/_stats") as resp:
            return cast("dict[str, Any]", await resp.json())

    async def control(self, method: str, path: str, body: Any = None) -> None:
        async with self.session.request(method, f"{self.url}{path}", json=body) as resp:
            assert resp.status < 300, await resp.text()

    async def requests(self) -> int:
        return sum((await self.stats())["requests"].values())


def options_for(name: str, mocks: RunningMocks) -> dict[str, Any]:
    if name == "public_security":
        return {"client_id": "contract-test", "secret": mocks.secret.decode()}
    return {}


@pytest.fixture
async def make(agencies: RunningMocks) -> AsyncIterator[Any]:
    async with HttpClient() as client, aiohttp.ClientSession() as control:
        built: list[Connector] = []

        async def factory(name: str, **overrides: Any) -> Harness:
            http = client.for_agency(name, HttpSettings(base_url=agencies.urls[name]))
            connector = build(name, {**options_for(name, agencies), **overrides}, http)
            built.append(connector)
            return Harness(name, connector, agencies.urls[name], control)

        yield factory
        for connector in built:
            await connector.aclose()


def showcase_key(world: World, facet: Facet) -> str:
    """The showcase debtor, or for ORGANIZATION a company the showcase has a role in."""
    showcase = world.showcase_id()
    if facet in BY_CREDIT_CODE:
        return world.roles_of(showcase)[0].company_code
    return showcase


def keys_for(world: World, facet: Facet, batch: int) -> list[str]:
    """Two full batches and one more key: the showcase first, the unknown one last."""
    if facet in BY_CREDIT_CODE:
        pool, unknown = list(world.company_codes()), UNKNOWN_COMPANY
    else:
        pool, unknown = list(world.person_ids()), UNKNOWN_PERSON
    first = showcase_key(world, facet)
    size = 2 * batch + 1 if batch > 1 else 6
    rest = [k for k in pool if k != first][: size - 2]
    return [first, *rest, unknown]


def expected_requests(
    world: World, facet: Facet, keys: Sequence[str], batch: int, page_size: int = 100
) -> int:
    """``ceil(n / batch)``; the paged /roles endpoint also pays one per extra page."""
    chunks = [keys[i : i + batch] for i in range(0, len(keys), batch)]
    if facet not in (Facet.COMPANY_ROLES, Facet.ASSETS) or batch != 50:
        return len(chunks)
    totals = [sum(len(world.roles_of(k)) for k in chunk) for chunk in chunks]
    return sum(max(1, math.ceil(total / page_size)) for total in totals)


def assert_shape(facet: Facet, value: Result) -> None:
    assert not isinstance(value, AgencyError), value
    if facet in SINGLE_VALUED:
        assert value is None or isinstance(value, SHAPES[facet])
    else:
        assert isinstance(value, tuple)
        assert all(isinstance(v, SHAPES[facet]) for v in value)


@pytest.mark.parametrize(("name", "facet"), CASES, ids=CASE_IDS)
async def test_one_result_per_key_in_order(
    world: World, make: Any, name: str, facet: Facet
) -> None:
    harness: Harness = await make(name)
    batch = harness.connector.facets[facet].max_batch
    keys = keys_for(world, facet, batch)
    asked = [*keys, keys[0], keys[1]]  # duplicates are answered but not sent twice
    await harness.control("POST", "/_stats/reset")

    results = await harness.connector.fetch(facet, asked)

    assert len(results) == len(asked)
    for value in results:
        assert_shape(facet, value)
    assert results[-2] == results[0] and results[-1] == results[1]
    unknown = results[len(keys) - 1]
    assert unknown in (None, ())
    showcase = results[0]
    assert showcase not in (None, ()), f"showcase has no {facet} at {name}"
    if facet is Facet.IDENTITY:
        assert isinstance(showcase, Identity) and showcase.id == world.showcase_id()

    stats = await harness.stats()
    assert sum(stats["requests"].values()) == expected_requests(world, facet, keys, batch)
    assert sum(entry["keys"] for entry in stats["log"]) >= len(keys)
    assert all(entry["keys"] <= batch for entry in stats["log"])


@pytest.mark.parametrize(("name", "facet"), CASES, ids=CASE_IDS)
async def test_batches_are_sent_concurrently(
    world: World, make: Any, name: str, facet: Facet
) -> None:
    harness: Harness = await make(name)
    batch = harness.connector.facets[facet].max_batch
    keys = keys_for(world, facet, batch)
    await harness.control("POST", "/_faults", {"latency_ms": 100})
    await harness.control("POST", "/_stats/reset")

    results = await harness.connector.fetch(facet, keys)

    assert not any(isinstance(r, AgencyError) for r in results)
    assert (await harness.stats())["max_in_flight"] >= 2


FAILURES = [
    ({"outage": True}, AgencyUnavailable),
    ({"malformed": True}, AgencyBadResponse),
    ({"status_storm_429": True}, AgencyRejected),
]


@pytest.mark.parametrize(("fault", "error"), FAILURES, ids=["outage", "malformed", "429"])
@pytest.mark.parametrize(("name", "facet"), CASES, ids=CASE_IDS)
async def test_an_agency_failure_is_an_error_for_every_key(
    world: World,
    make: Any,
    name: str,
    facet: Facet,
    fault: dict[str, bool],
    error: type[AgencyError],
) -> None:
    harness: Harness = await make(name)
    keys = keys_for(world, facet, 2)[:3]
    await harness.control("POST", "/_faults", fault)

    # A short deadline: the storm's Retry-After (1 s) is not waited out within it.
    with deadline_after(0.5):
        results = await harness.connector.fetch(facet, keys)

    assert len(results) == len(keys)
    for value in results:
        assert isinstance(value, error), value
        assert value.extensions["agency"] == name.upper()


async def test_unknown_connector_names_itself_and_the_known_ones() -> None:
    async with HttpClient() as client:
        http = client.for_agency("nope", HttpSettings(base_url="http://127.0.0.1:9"))
        with pytest.raises(ValueError, match=r"'nope'.*civil_affairs.*public_security"):
            build("nope", {}, http)


@pytest.mark.parametrize("name", sorted(available()))
async def test_unknown_option_fails_naming_the_key(make: Any, name: str) -> None:
    with pytest.raises(ValueError, match="no_such_option"):
        await make(name, no_such_option=1)


async def test_connectors_for_a_facet(make: Any) -> None:
    built = [(await make(name)).connector for name in sorted(available())]
    assert [c.agency for c in connectors_for(Facet.ASSETS, built)] == [
        "land_registry",
        "market_regulation",
        "public_security",
    ]
    assert [c.agency for c in connectors_for(Facet.MARRIAGE, built)] == ["civil_affairs"]


async def test_wrong_secret_is_rejected_for_every_key(world: World, make: Any) -> None:
    harness: Harness = await make("public_security", secret="not-the-secret")
    results = await harness.connector.fetch(Facet.IDENTITY, [world.showcase_id(), UNKNOWN_PERSON])
    for value in results:
        assert isinstance(value, AgencyRejected)
        assert value.extensions["agencyCode"] == "bad_signature"
    assert "not-the-secret" not in repr(harness.connector.__dict__)


async def test_civil_affairs_waits_out_429s_within_the_deadline(world: World, make: Any) -> None:
    harness: Harness = await make("civil_affairs")
    await harness.control("POST", "/_faults", {"status_storm_429": True})
    await harness.control("POST", "/_stats/reset")

    # Retry-After is 1 s: one wait fits in 1.5 s, a second does not.
    with deadline_after(1.5):
        (result,) = await harness.connector.fetch(Facet.MARRIAGE, [world.showcase_id()])

    assert isinstance(result, AgencyRejected)
    assert result.extensions["retryAfter"] >= 1
    assert await harness.requests() == 2  # the first try and exactly one retry


async def test_market_regulation_shares_one_roles_call_between_facets(
    world: World, make: Any
) -> None:
    import asyncio

    harness: Harness = await make("market_regulation")
    keys = keys_for(world, Facet.COMPANY_ROLES, 50)[:10]
    await harness.control("POST", "/_stats/reset")

    roles, stakes = await asyncio.gather(
        harness.connector.fetch(Facet.COMPANY_ROLES, keys),
        harness.connector.fetch(Facet.ASSETS, keys),
    )

    assert await harness.requests() == expected_requests(world, Facet.ASSETS, keys, 50)
    for key_roles, key_stakes in zip(roles, stakes, strict=True):
        assert isinstance(key_roles, tuple) and isinstance(key_stakes, tuple)
        shareholders = [r for r in key_roles if r.role == "SHAREHOLDER"]
        assert len(shareholders) == len(key_stakes)


async def test_market_regulation_pages_until_total(world: World, make: Any) -> None:
    paged: Harness = await make("market_regulation", page_size=2)
    whole: Harness = await make("market_regulation")
    keys = keys_for(world, Facet.COMPANY_ROLES, 50)
    await paged.control("POST", "/_stats/reset")

    results = await paged.connector.fetch(Facet.COMPANY_ROLES, keys)

    expected = expected_requests(world, Facet.COMPANY_ROLES, keys, 50, page_size=2)
    assert expected > 3  # more than one page per batch, or this proves nothing
    assert await paged.requests() == expected
    assert results == await whole.connector.fetch(Facet.COMPANY_ROLES, keys)
