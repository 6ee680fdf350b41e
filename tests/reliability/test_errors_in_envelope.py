"""Market regulation reports being busy inside an HTTP 200 (code 50000 in its envelope).

Such an answer is the agency failing, not refusing: it is retried like a 503 would be, and
it counts towards the circuit breaker, which then stops calling. Proven by the mock's own
request counter, not by time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from mocks.records import CaseRecord
from mocks.world import World
from tests.harness import PROFILE_VARIABLES, Gateway, open_stack

pytestmark = pytest.mark.asyncio(loop_scope="module")

RETRIES = 2
THRESHOLD = RETRIES + 1  # one look-up's three failed attempts open the circuit
COMPANIES = """query($id: ID!, $caseNumber: String!) {
  debtor(id: $id, caseNumber: $caseNumber) { companies { role } } }"""


@pytest_asyncio.fixture(loop_scope="module")
async def gw(
    tmp_path_factory: pytest.TempPathFactory, world: World, cases: list[CaseRecord]
) -> AsyncIterator[Gateway]:
    async with open_stack(
        tmp_path_factory.mktemp("envelope"),
        cases,
        world=world,
        cache={"enabled": False},
        agencies={
            "market_regulation": {
                "max_retries": RETRIES,
                "backoff_base_s": 0.01,
                "breaker_threshold": THRESHOLD,
                "breaker_cooldown_s": 600,  # stays open for the rest of the test
            }
        },
    ) as running:
        yield running


async def companies_error(gw: Gateway) -> str | None:
    status, body = await gw.post(COMPANIES, PROFILE_VARIABLES)
    assert status == 200
    errors = body.get("errors") or []
    if not errors:
        return None
    assert errors[0]["extensions"]["agency"] == "MARKET_REGULATION"
    assert errors[0]["path"] == ["debtor", "companies"]
    code: str = errors[0]["extensions"]["code"]
    return code


async def test_busy_in_the_envelope_is_retried_then_opens_the_circuit(gw: Gateway) -> None:
    assert await companies_error(gw) is None
    await gw.clear_faults()
    await gw.reset_stats()
    await gw.set_faults("market_regulation", {"outage": True, "errors_in_body": True})

    assert await companies_error(gw) == "AGENCY_UNAVAILABLE"
    assert await gw.mock_requests("market_regulation") == 1 + RETRIES

    # Those attempts were failures to the breaker: now nothing is sent.
    assert await companies_error(gw) == "CIRCUIT_OPEN"
    assert await gw.mock_requests("market_regulation") == 1 + RETRIES
