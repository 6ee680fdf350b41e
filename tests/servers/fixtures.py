"""Session-scoped real servers and the per-test databases made on them.

``postgres_server`` / ``redis_server`` start on first use and stop at the end of the
session. ``database_url`` is parametrised over the store's backends: a test (or fixture)
that takes it runs once on SQLite and once on PostgreSQL, each time with an empty database
of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from tests.servers.postgres import PostgresServer, start_postgres
from tests.servers.redis import RedisServer, start_redis

__all__ = [
    "BACKENDS",
    "DbBackend",
    "database_url",
    "db_backend",
    "postgres_server",
    "redis_server",
    "redis_url",
]

BACKENDS = ("sqlite", "postgresql")


@dataclass(frozen=True, slots=True)
class DbBackend:
    """Which database a parametrised test runs on (and its server, for PostgreSQL)."""

    name: str
    server: PostgresServer | None = None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = start_redis()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def redis_url(redis_server: RedisServer) -> AsyncIterator[str]:
    """Database 0 of the session's Redis, emptied for this test."""
    url = redis_server.url(0)
    client = aioredis.Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()
    yield url


@pytest.fixture(params=BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> DbBackend:
    # Only a PostgreSQL run asks for the server, so a SQLite-only selection never starts it.
    if request.param == "postgresql":
        return DbBackend("postgresql", request.getfixturevalue("postgres_server"))
    return DbBackend("sqlite")


@pytest.fixture
async def database_url(db_backend: DbBackend, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of this test's backend: a SQLite file, or a fresh PG database."""
    if db_backend.server is None:
        yield f"sqlite+aiosqlite:///{tmp_path / 'db' / 'liandong.db'}"
        return
    async with db_backend.server.database() as url:
        yield url
