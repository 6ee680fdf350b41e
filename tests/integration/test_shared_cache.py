"""Two gateway instances sharing one Redis: facts fetched by one are served by the other."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from connectors.domain import Facet, Fetched, Identity
from gateway.web.services import Services
from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from resolvers.cache_redis import TieredFactCache
from resolvers.fact_codec import encode_fact
from tests.harness import PROFILE, Stack, StackFactory
from tests.servers.postgres import free_port

PS_PERSONS = "POST /ps/v1/persons/query"
WAIT_S = 10.0  # an upper bound for pub/sub delivery, never an expectation


@dataclass
class Instance:
    gateway: Stack

    @property
    def services(self) -> Services:
        return self.gateway.require_services()

    @property
    def cache(self) -> TieredFactCache:
        assert isinstance(self.services.cache, TieredFactCache)
        return self.services.cache


async def eventually(check: Callable[[], bool], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while not check():
        assert loop.time() < deadline, f"gave up waiting: {what}"
        await asyncio.sleep(0.01)


@pytest.fixture
async def pair(
    tmp_path: Path,
    mocks: RunningMocks,
    cases: list[CaseRecord],
    redis_url: str,
    make_stack: StackFactory,
) -> tuple[Instance, Instance]:
    """Instances A and B: one store, one Redis, their own data dirs (audit logs)."""
    database = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    started: list[Instance] = []
    for name in ("a", "b"):
        # A generous Redis timeout: on a loaded two-core machine a read once took longer
        # than the default 0.5 s, and a slow read counts as a miss, which is not what
        # these tests are about (tests of the timeout itself set their own).
        cache = {"redis_url": redis_url, "redis_timeout_s": 5.0}
        gw = await make_stack(
            cases if not started else (),  # one store: the cases are registered once
            mocks=mocks,
            data_dir=tmp_path / name,
            database_url=database,
            services=True,
            court=cases[0].court,
            cache=cache,
        )
        started.append(Instance(gw))
    a, b = started
    assert a.cache.listening and b.cache.listening
    return a, b


def profile_of(case: CaseRecord) -> dict[str, str]:
    return {"id": case.debtor_ids[0], "caseNumber": case.number}


async def test_a_lookup_cached_via_a_is_served_from_redis_via_b(
    pair: tuple[Instance, Instance], cases: list[CaseRecord]
) -> None:
    a, b = pair
    status, first = await a.gateway.post(PROFILE, profile_of(cases[0]))
    assert status == 200 and "errors" not in first, first.get("errors")
    assert await a.gateway.total_requests() > 0
    await a.gateway.reset_stats()

    status, second = await b.gateway.post(PROFILE, profile_of(cases[0]))
    assert status == 200 and "errors" not in second, second.get("errors")
    assert await b.gateway.total_requests() == 0  # not one upstream call
    assert b.cache.shared_hits > 0 and b.cache.shared_errors == 0
    debtor_a, debtor_b = first["data"]["debtor"], second["data"]["debtor"]
    assert debtor_b["identity"]["provenance"]["cached"] is True
    assert (
        debtor_b["identity"]["provenance"]["fetchedAt"]
        == debtor_a["identity"]["provenance"]["fetchedAt"]
    )
    assert debtor_b["identity"] == {
        **debtor_a["identity"],
        "provenance": debtor_b["identity"]["provenance"],
    }


async def test_invalidation_on_a_drops_the_copies_on_b(
    pair: tuple[Instance, Instance], cases: list[CaseRecord]
) -> None:
    a, b = pair
    variables = profile_of(cases[0])
    for instance in (a, b):
        status, body = await instance.gateway.post(PROFILE, variables)
        assert status == 200 and "errors" not in body, body.get("errors")
    await a.gateway.reset_stats()

    a.cache.invalidate([variables["id"]], [Facet.ASSETS])  # as a control action does
    await eventually(lambda: b.cache.invalidations_received >= 1, "B hears of it")

    status, body = await b.gateway.post(PROFILE, variables)
    assert status == 200 and "errors" not in body, body.get("errors")
    assert (await b.gateway.stats("land_registry"))["requests"]  # assets asked for again
    ps = await b.gateway.stats("public_security")
    assert ps["requests"].get(PS_PERSONS, 0) == 0  # the identity was not invalidated
    assert body["data"]["debtor"]["identity"]["provenance"]["cached"] is True


async def test_without_redis_lookups_still_work(
    mocks: RunningMocks, cases: list[CaseRecord], make_stack: StackFactory
) -> None:
    # A Redis URL nobody answers: every shared read and write is a logged miss.
    instance = Instance(
        await make_stack(
            cases[:1],
            mocks=mocks,
            services=True,
            cache={"redis_url": f"redis://127.0.0.1:{free_port()}/0"},
            # The response cache off: the second look-up must reach the fact cache.
            response_cache={"enabled": False},
        )
    )
    assert not instance.cache.listening
    for _ in range(2):
        status, body = await instance.gateway.post(PROFILE, profile_of(cases[0]))
        assert status == 200 and "errors" not in body, body.get("errors")
    assert instance.cache.shared_errors > 0
    assert instance.cache.hits > 0  # the local level still works on its own


@pytest.fixture
async def tiered(redis_url: str) -> AsyncIterator[TieredFactCache]:
    cache = TieredFactCache(
        redis_url=redis_url,
        agencies=["public_security"],
        max_entries=100,
        ttl_s={"identity": 60},
    )
    await cache.start()
    try:
        yield cache
    finally:
        await cache.aclose()


KEY = ("public_security", Facet.IDENTITY, "11010119900307803X")


def identity_fact(age_s: float) -> Fetched:
    value = Identity(KEY[2], "李四", "M", datetime(1990, 3, 7).date(), "北京", "NORMAL")
    return Fetched(value, "public_security", datetime.now(UTC) - timedelta(seconds=age_s))


async def with_client(url: str, action: Callable[[aioredis.Redis], Awaitable[Any]]) -> Any:
    client = aioredis.Redis.from_url(url)
    try:
        return await action(client)
    finally:
        await client.aclose()


async def test_garbage_and_expired_entries_are_misses(
    tiered: TieredFactCache, redis_url: str
) -> None:
    key = tiered.redis_key(KEY)
    await with_client(redis_url, lambda r: r.set(key, b'{"value": {"$t": "Popen"}}'))
    assert await tiered.recall([KEY]) == [None]
    assert tiered.shared_errors == 1

    # Older than the facet's TTL (Redis would have expired it; clocks differ a little).
    await with_client(redis_url, lambda r: r.set(key, encode_fact(identity_fact(61))))
    assert await tiered.recall([KEY]) == [None]
    assert tiered.get(KEY) is None

    await with_client(redis_url, lambda r: r.set(key, encode_fact(identity_fact(1))))
    [found] = await tiered.recall([KEY])
    assert found is not None and found.cached
    assert tiered.get(KEY) is not None  # kept locally too


async def test_writes_carry_the_facet_ttl_and_invalidation_deletes(
    tiered: TieredFactCache, redis_url: str
) -> None:
    await tiered.share([(KEY, identity_fact(0))])
    key = tiered.redis_key(KEY)
    ttl_ms = await with_client(redis_url, lambda r: r.pttl(key))
    assert 0 < ttl_ms <= 60_000
    tiered.invalidate([KEY[2]])
    assert await tiered.recall([KEY]) == [None]  # waits for its own deletion first
    assert await with_client(redis_url, lambda r: r.exists(key)) == 0
