"""Fixtures for the mock agency tests: one shared world, the four servers per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from mocks.runner import RunningMocks, start_mocks
from mocks.world import World


@pytest.fixture(scope="session")
def world() -> World:
    """The demo world; these tests only read it, so one per session."""
    return World(seed=7, people=1000)


@pytest.fixture
async def mocks(world: World) -> AsyncIterator[RunningMocks]:
    running = await start_mocks(world)
    try:
        yield running
    finally:
        await running.aclose()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session
