"""The event bus shared by several instances, over each relay: Redis pub/sub and
PostgreSQL's LISTEN/NOTIFY, against real servers.

- A change published on one bus reaches the other's subscribers, and the publisher's own
  subscribers once (directly, not back through the relay).
- With the relay unreachable, a bus still serves its own instance's subscribers.
- A listener whose connection is cut reconnects and hears later changes.
- Which bus the settings choose.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest

from gateway.events.bus import Change, LocalEventBus
from gateway.events.postgres_bus import PgEventBus, asyncpg_dsn
from gateway.events.redis_bus import RedisEventBus
from gateway.events.shared_bus import SharedEventBus
from gateway.runtime.assistance import _bus
from gateway.settings import SettingsError, load_settings
from tests.servers.postgres import PostgresServer
from tests.servers.redis import RedisServer

MakeBus = Callable[[], SharedEventBus]


@pytest.fixture(params=["redis", "postgres"])
async def make_bus(request: pytest.FixtureRequest) -> AsyncIterator[MakeBus]:
    if request.param == "redis":
        redis: RedisServer = request.getfixturevalue("redis_server")
        url = redis.url(0)
        yield lambda: RedisEventBus(url)
        return
    postgres: PostgresServer = request.getfixturevalue("postgres_server")
    async with postgres.database() as url:
        yield lambda: PgEventBus(url)


async def next_change(changes: AsyncIterator[Change]) -> Change:
    return await asyncio.wait_for(anext(changes), 10)


async def test_a_change_reaches_the_other_instance(make_bus: MakeBus) -> None:
    a, b = make_bus(), make_bus()
    await a.start()
    await b.start()
    try:
        assert a.listening and b.listening
        async with b.subscribe("case:X") as on_b, a.subscribe("case:X") as on_a:
            await a.publish("case:X", Change("r1", 3))
            assert await next_change(on_b) == Change("r1", 3)
            assert await next_change(on_a) == Change("r1", 3)
            await b.publish("case:X", Change("r2", 1))
            assert await next_change(on_a) == Change("r2", 1)
            assert await next_change(on_b) == Change("r2", 1)
        assert a.received == 1 and b.received == 1
    finally:
        await a.aclose()
        await b.aclose()


@pytest.mark.parametrize(
    "make_unreachable",
    [
        lambda: RedisEventBus("redis://127.0.0.1:1/0", timeout_s=0.2),
        lambda: PgEventBus("postgresql+asyncpg://nobody@127.0.0.1:1/none", timeout_s=0.2),
    ],
    ids=["redis", "postgres"],
)
async def test_without_its_relay_a_bus_still_serves_this_instance(
    make_unreachable: MakeBus,
) -> None:
    bus = make_unreachable()
    await bus.start()
    try:
        async with bus.subscribe("case:Y") as changes:
            await bus.publish("case:Y", Change("r1", 1))
            assert await next_change(changes) == Change("r1", 1)
        assert bus.errors >= 1 and not bus.listening
    finally:
        await bus.aclose()


async def wait_listening(bus: SharedEventBus, listening: bool) -> None:
    for _ in range(400):  # bounded by polls (about 20 s), not a timing assertion
        if bus.listening == listening:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the bus never became listening={listening}")


async def test_a_postgres_listener_cut_off_reconnects(postgres_server: PostgresServer) -> None:
    async with postgres_server.database() as url:
        a, b = PgEventBus(url), PgEventBus(url)
        await a.start()
        await b.start()
        admin = await asyncpg.connect(asyncpg_dsn(url))
        try:
            async with b.subscribe("case:Z") as on_b:
                # Cut every LISTEN connection of this database from the server's side.
                cut = await admin.fetch(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND query ILIKE 'LISTEN%'"
                )
                assert len(cut) == 2
                await wait_listening(b, False)
                await wait_listening(b, True)
                await wait_listening(a, True)
                await a.publish("case:Z", Change("r9", 2))
                assert await next_change(on_b) == Change("r9", 2)
            assert b.errors >= 1
        finally:
            await admin.close()
            await a.aclose()
            await b.aclose()


def test_the_settings_choose_the_bus(tmp_path: Path) -> None:
    pg = "postgresql+asyncpg://liandong@127.0.0.1:5432/liandong"
    assert isinstance(_bus(load_settings(data_dir=tmp_path)), LocalEventBus)
    assert isinstance(_bus(load_settings(data_dir=tmp_path, database_url=pg)), PgEventBus)
    with_redis = load_settings(
        data_dir=tmp_path, database_url=pg, cache={"redis_url": "redis://127.0.0.1:6379/0"}
    )
    assert isinstance(_bus(with_redis), RedisEventBus)
    with pytest.raises(SettingsError):
        _bus(load_settings(data_dir=tmp_path, events={"backend": "postgres"}))
