"""Every fault at every agency: that agency's fields fail with the fault's code, the other
three agencies' data is complete, the status is 200, and the answer is back within the
request deadline (plus scheduling slack), however long the agency would have kept us.

One stack serves the whole module: the breaker threshold is out of reach and the cache is
off, so each case starts from the same state once its faults are cleared.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from mocks.records import CaseRecord
from mocks.runner import AGENCIES
from mocks.world import World
from tests.assertions import agencies_with, assert_only_agency_failed
from tests.harness import PROFILE, PROFILE_VARIABLES, Gateway, open_stack

pytestmark = pytest.mark.asyncio(loop_scope="module")

DEADLINE_S = 1.0
# Scheduling slack on a busy machine. Without the deadline a hang would last the mock's
# 300 s, and the transport timeouts below are 30 s: the bound still proves the deadline.
SLACK_S = 2.0
TRANSPORT_TIMEOUT_S = 30.0

FAULTS: dict[str, tuple[dict[str, Any], set[str]]] = {
    "latency": ({"latency_ms": 5000, "jitter_ms": 500}, {"AGENCY_TIMEOUT"}),
    "hang": ({"hang": True}, {"AGENCY_TIMEOUT"}),
    "outage": ({"outage": True}, {"AGENCY_UNAVAILABLE"}),
    "error_rate": ({"error_rate": 1.0}, {"AGENCY_UNAVAILABLE"}),
    "malformed": ({"malformed": True}, {"AGENCY_BAD_RESPONSE"}),
    "429_storm": ({"status_storm_429": True}, {"AGENCY_REJECTED"}),
    "lost_response": ({"lost_response": True}, {"AGENCY_UNAVAILABLE"}),
}

# The profile's fields each agency fills (paths of the errors when it fails).
FIELDS = {
    "public_security": {
        "debtor.identity",
        "debtor.assets",
        "debtor.restrictions",
        "debtor.marriage.spouse.identity",
    },
    "civil_affairs": {"debtor.marriage"},
    "land_registry": {"debtor.assets"},
    "market_regulation": {"debtor.companies", "debtor.assets"},
}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(
    tmp_path_factory: pytest.TempPathFactory, world: World, cases: list[CaseRecord]
) -> AsyncIterator[Gateway]:
    async with open_stack(
        tmp_path_factory.mktemp("matrix"),
        cases,
        world=world,
        limits={"deadline_s": DEADLINE_S},
        cache={"enabled": False},
        agencies=agencies_with(
            connect_timeout=5.0,
            read_timeout=TRANSPORT_TIMEOUT_S,
            total_timeout=TRANSPORT_TIMEOUT_S,
            backoff_base_s=0.05,
            breaker_threshold=1000,
        ),
    ) as gw:
        yield gw


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def baseline(stack: Gateway) -> dict[str, Any]:
    status, body = await stack.post(PROFILE, PROFILE_VARIABLES)
    assert status == 200 and "errors" not in body, body
    return body


@pytest_asyncio.fixture(loop_scope="module")
async def healthy(stack: Gateway) -> AsyncIterator[Gateway]:
    await stack.clear_faults()
    yield stack
    await stack.clear_faults()


@pytest.mark.parametrize("agency", AGENCIES)
@pytest.mark.parametrize("fault", list(FAULTS))
async def test_fault_stays_with_its_agency(
    healthy: Gateway, baseline: dict[str, Any], fault: str, agency: str
) -> None:
    faults, codes = FAULTS[fault]
    await healthy.set_faults(agency, faults)

    started = time.monotonic()
    status, body = await healthy.post(PROFILE, PROFILE_VARIABLES)
    elapsed = time.monotonic() - started

    assert status == 200
    assert body["data"]["debtor"] is not None
    assert_only_agency_failed(body, baseline, agency.upper(), codes, FIELDS[agency])
    assert elapsed < DEADLINE_S + SLACK_S, f"{elapsed:.2f}s for a {DEADLINE_S}s deadline"
    assert await healthy.mock_requests(agency) > 0  # it was asked, and it failed


async def test_retry_after_is_reported_when_not_waited_out(healthy: Gateway) -> None:
    # The storm's Retry-After (1 s) does not fit in the 1 s deadline: not waited, reported.
    await healthy.set_faults("civil_affairs", {"status_storm_429": True})
    _, body = await healthy.post(PROFILE, PROFILE_VARIABLES)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "AGENCY_REJECTED"
    assert error["extensions"]["retryAfter"] == 1
