"""Fixtures shared by the integration suites: the world, the mocks, a gateway over them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.cli.demo import seed_cases
from gateway.store.cases import Store
from mocks.civil_affairs import CivilAffairsSettings
from mocks.records import CaseRecord
from mocks.runner import RunningMocks, start_mocks
from mocks.world import World
from tests.harness import JUDGE, OFFICER, Gateway, gateway_settings, start_gateway, stop_gateway

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
    tmp_path: Path, mocks: RunningMocks, cases: list[CaseRecord], database_url: str
) -> AsyncIterator[Gateway]:
    # Parametrised through database_url: every test using it runs on SQLite and PostgreSQL.
    settings = gateway_settings(tmp_path, mocks, database_url=database_url)
    store = await Store.open(settings.database_url)
    try:
        await seed_cases(store, cases, [OFFICER], [JUDGE])
    finally:
        await store.close()
    gw = await start_gateway(settings, mocks, court=cases[0].court)
    try:
        yield gw
    finally:
        await stop_gateway(gw)
