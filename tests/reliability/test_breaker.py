"""The land registry's circuit breaker through the whole gateway, proven by the mock's counter.

After ``THRESHOLD`` failed calls the circuit opens: look-ups send nothing more (the mock's
count stands still) and fail with CIRCUIT_OPEN. After the cool-down exactly one probe goes
out; if it succeeds, traffic resumes, and if it fails, the circuit opens again. The breaker
runs on a manual clock: the cool-down passes when the test says so, never by waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio

from connectors.breaker import CircuitBreaker
from gateway.clock import ManualClock
from mocks.records import CaseRecord
from mocks.world import World
from tests.assertions import metric
from tests.harness import PROFILE_VARIABLES, Gateway, open_stack

pytestmark = pytest.mark.asyncio(loop_scope="module")

THRESHOLD = 2
COOLDOWN_S = 30.0  # passes only when the test moves the clock

REAL_ESTATE = """query($id: ID!, $caseNumber: String!) {
  debtor(id: $id, caseNumber: $caseNumber) { assets(kinds: [REAL_ESTATE]) { id } } }"""
AGENCIES = "{ agencies { name health circuitState stats { requests errors shortCircuited } } }"


@dataclass
class Stack:
    gw: Gateway
    clock: ManualClock


@pytest_asyncio.fixture(loop_scope="module")
async def stack(
    tmp_path_factory: pytest.TempPathFactory, world: World, cases: list[CaseRecord]
) -> AsyncIterator[Stack]:
    async with open_stack(
        tmp_path_factory.mktemp("breaker"),
        cases,
        world=world,
        services=True,
        cache={"enabled": False},
        agencies={
            "land_registry": {
                "breaker_threshold": THRESHOLD,
                "breaker_cooldown_s": COOLDOWN_S,
                "max_retries": 0,  # one look-up, one call: the counts below stay exact
            }
        },
    ) as gw:
        assert gw.services is not None
        clock = ManualClock(datetime(2026, 3, 1, tzinfo=UTC))
        # The breaker the gateway built, again with the same settings and the test's clock
        # (before the first request: nothing has counted on the old one yet).
        http = gw.services.http.agencies["land_registry"]
        http.breaker = CircuitBreaker(
            "land_registry", http.breaker.settings, clock=lambda: clock.now().timestamp()
        )
        yield Stack(gw, clock)


@pytest.fixture
def gw(stack: Stack) -> Gateway:
    return stack.gw


async def look_up(gw: Gateway) -> tuple[list[Any] | None, str | None]:
    status, body = await gw.post(REAL_ESTATE, PROFILE_VARIABLES)
    assert status == 200
    errors = body.get("errors") or []
    code = errors[0]["extensions"]["code"] if errors else None
    if errors:
        assert errors[0]["extensions"]["agency"] == "LAND_REGISTRY"
    assets: list[Any] | None = body["data"]["debtor"]["assets"]
    return assets, code


async def land_registry_status(gw: Gateway) -> dict[str, Any]:
    _, body = await gw.post(AGENCIES, token=gw.token(roles=["judge"]))
    rows: list[dict[str, Any]] = body["data"]["agencies"]
    (row,) = [a for a in rows if a["name"] == "LAND_REGISTRY"]
    return row


async def open_the_circuit(gw: Gateway) -> None:
    await gw.set_faults("land_registry", {"outage": True})
    for _ in range(THRESHOLD):
        assets, code = await look_up(gw)
        assert assets is None and code == "AGENCY_UNAVAILABLE"
    assert (await land_registry_status(gw))["circuitState"] == "OPEN"


async def cool_down(stack: Stack) -> None:
    stack.clock.advance(seconds=COOLDOWN_S - 0.001)
    assert (await land_registry_status(stack.gw))["circuitState"] == "OPEN"
    stack.clock.advance(seconds=0.001)
    assert (await land_registry_status(stack.gw))["circuitState"] == "HALF_OPEN"


async def test_open_circuit_sends_nothing_then_one_probe_closes_it(stack: Stack) -> None:
    gw = stack.gw
    await open_the_circuit(gw)
    await gw.reset_stats()

    for _ in range(3):
        assets, code = await look_up(gw)
        assert assets is None and code == "CIRCUIT_OPEN"
    assert await gw.mock_requests("land_registry") == 0
    row = await land_registry_status(gw)
    assert row["health"] == "DOWN" and row["stats"]["shortCircuited"] == 3
    samples = await gw.scrape()
    assert (
        metric(samples, "liandong_agency_circuit_state", agency="land_registry", state="OPEN") == 1
    )
    async with gw.session.get(gw.base_url + "/readyz") as resp:
        ready = await resp.json()
    assert resp.status == 200, "a failing agency does not make the gateway unready"
    assert "land_registry" not in ready["agenciesUp"]
    assert ready["agencies"]["land_registry"] == {"health": "DOWN", "circuit": "OPEN"}

    await gw.clear_faults()
    await cool_down(stack)
    assets, code = await look_up(gw)  # the probe
    assert code is None and assets
    assert await gw.mock_requests("land_registry") == 1
    assert (await land_registry_status(gw))["circuitState"] == "CLOSED"

    for _ in range(3):  # traffic resumes
        assets, code = await look_up(gw)
        assert code is None and assets
    assert await gw.mock_requests("land_registry") == 4


async def test_only_one_probe_at_a_time_and_a_failed_probe_reopens(stack: Stack) -> None:
    gw = stack.gw
    await open_the_circuit(gw)
    await cool_down(stack)
    await gw.set_faults("land_registry", {"outage": False, "latency_ms": 1000})
    await gw.reset_stats()

    outcomes = await asyncio.gather(*(look_up(gw) for _ in range(5)))

    codes = sorted(code or "OK" for _, code in outcomes)
    assert codes == ["CIRCUIT_OPEN"] * 4 + ["OK"]  # the probe alone went out, and succeeded
    assert await gw.mock_requests("land_registry") == 1

    await gw.clear_faults()
    await open_the_circuit(gw)
    await cool_down(stack)
    await gw.reset_stats()
    _, code = await look_up(gw)  # the probe, into the outage
    assert code == "AGENCY_UNAVAILABLE"
    _, code = await look_up(gw)
    assert code == "CIRCUIT_OPEN"
    assert await gw.mock_requests("land_registry") == 1


async def test_other_agencies_are_untouched_by_an_open_circuit(gw: Gateway) -> None:
    await open_the_circuit(gw)
    query = """query($id: ID!, $caseNumber: String!) { debtor(id: $id, caseNumber: $caseNumber) {
        identity { name } marriage { status } assets { __typename } } }"""
    status, body = await gw.post(query, PROFILE_VARIABLES)
    assert status == 200
    debtor = body["data"]["debtor"]
    assert debtor["identity"]["name"] and debtor["marriage"]["status"]
    assert {a["__typename"] for a in debtor["assets"]} == {"Vehicle", "EquityStake"}
    (error,) = body["errors"]
    assert error["extensions"] == {
        "code": "CIRCUIT_OPEN",
        "agency": "LAND_REGISTRY",
        "retryAfter": error["extensions"]["retryAfter"],
        "traceId": error["extensions"]["traceId"],
    }
    assert error["extensions"]["retryAfter"] == COOLDOWN_S  # the clock has not moved
