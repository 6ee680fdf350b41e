"""Fixtures shared by the integration suites: the world, the mocks, a gateway over them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from mocks.civil_affairs import CivilAffairsSettings
from mocks.records import CaseRecord
from mocks.runner import RunningMocks, start_mocks
from mocks.world import World

# The one fixture a test asks a stack from (tests.harness; open_stack is the same factory).
from tests.harness import Stack, StackFactory, make_stack

__all__ = ["make_stack"]

# Real PostgreSQL / Redis servers and the per-backend database_url (tests/servers/).
# Every audit record the session wrote is searched for clear ids at its end (audit_sweep).
pytest_plugins = ["tests.audit_sweep", "tests.servers.fixtures"]

SEED = 7
PEOPLE = 1000


@pytest.fixture(scope="session")
def world() -> World:
    return World(seed=SEED, people=PEOPLE)


@pytest.fixture(scope="session")
def cases(world: World) -> list[CaseRecord]:
    return world.cases(20)


@pytest.fixture
async def mocks(world: World) -> AsyncIterator[RunningMocks]:
    running = await start_mocks(world)
    try:
        yield running
    finally:
        await running.aclose()


@pytest.fixture
async def roomy_mocks(world: World) -> AsyncIterator[RunningMocks]:
    """The mocks with civil affairs' rate limit out of the way (200 look-ups/s by default),
    for tests about something else: batching, bulk look-ups, load."""
    roomy = CivilAffairsSettings(rate=100_000.0, burst=10_000)
    running = await start_mocks(world, civil_affairs_settings=roomy)
    try:
        yield running
    finally:
        await running.aclose()


@pytest.fixture
async def gateway(
    mocks: RunningMocks, cases: list[CaseRecord], database_url: str, make_stack: StackFactory
) -> Stack:
    # make_stack last: fixtures are torn down in reverse, so the gateway stops before its mocks.
    # Parametrised through database_url: every test using it runs on SQLite and PostgreSQL.
    return await make_stack(cases, mocks=mocks, database_url=database_url)
