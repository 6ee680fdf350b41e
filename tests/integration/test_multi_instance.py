"""Pieces that let several gateway instances share one PostgreSQL and one Redis.

- Two lifecycle workers (each with its own engine) over one PostgreSQL database: every
  approved request is claimed once and carried out once.
- The Redis rate limiter: two limiters spend one budget per principal.
- A restriction written through one instance reaches the other's screening index.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from gateway.assistance.lifecycle_worker import LifecycleWorker
from gateway.domain.assistance_status import AssistanceStatus, EventKind
from gateway.domain.case_values import RestrictionKind
from gateway.events.redis_bus import LISTENER_NAME, RedisEventBus
from gateway.screening.index import ScreeningIndex
from gateway.screening.sync import ScreeningSync
from gateway.store.assistance import AssistanceStore
from gateway.store.cases import RestrictionIn, Store
from gateway.web.ratelimit_redis import RedisRateLimiter
from mocks.land_registry import LandRegistrySettings
from mocks.records import CaseRecord
from tests.harness import open_stack
from tests.integration.assistance_requests import FAST_WORKER, AssistanceGateway
from tests.integration.bus_links import hold_listener
from tests.servers.postgres import PostgresServer

MIN_ORDERS = 2


@pytest.fixture
async def pg_gateway(
    tmp_path: Path, cases: list[CaseRecord], postgres_server: PostgresServer
) -> AsyncIterator[AssistanceGateway]:
    """A gateway on PostgreSQL whose own worker is off: the test runs the workers."""
    async with (
        postgres_server.database() as url,
        open_stack(
            tmp_path,
            cases,
            mock_options={"land_registry_settings": LandRegistrySettings(pending_polls=1)},
            database_url=url,
            services=True,
            assistance={**FAST_WORKER, "worker_enabled": False},
            agencies={"land_registry": {"max_retries": 1, "breaker_threshold": 1000}},
        ) as gw,
    ):
        yield AssistanceGateway(gw)


def _orders(ag: AssistanceGateway, cases: list[CaseRecord]) -> list[dict[str, Any]]:
    """One seizure per case of the judge's court (a debtor's first unseized property)."""
    orders: list[dict[str, Any]] = []
    for case in cases:
        if case.court != ag.gw.court:  # the test's judge sits in the first case's court
            continue
        free = [
            (debtor, p.certificate_no)
            for debtor in case.debtor_ids
            for p in ag.world.properties_of(debtor)
            if not p.seizures
        ]
        if free:
            debtor, cert = free[0]
            orders.append(
                {
                    "caseNumber": case.number,
                    "debtorId": debtor,
                    "action": "SEIZE_REAL_ESTATE",
                    "target": cert,
                    "documentNumber": f"DOC-TWO-WORKERS-{len(orders)}",
                }
            )
    assert len(orders) >= MIN_ORDERS, orders
    return orders


async def test_two_workers_on_one_postgres_submit_each_request_once(
    pg_gateway: AssistanceGateway, cases: list[CaseRecord]
) -> None:
    ag = pg_gateway
    assert ag.services.assistance is not None
    rt = ag.services.assistance
    orders = _orders(ag, cases)
    ids = [await ag.request_whole(order) for order in orders]
    for rid in ids:
        body = await ag.approve(rid)
        assert "errors" not in body, body
    other = await Store.open(ag.gw.settings.database_url)  # the second instance's engine
    try:
        workers = [
            LifecycleWorker(
                requests,
                connectors=ag.services.connectors,
                effects=rt.effects,
                settings=ag.gw.settings.assistance,
                clock=rt.clock,
                instance=name,
            )
            for name, requests in (
                ("worker-a", rt.requests),
                ("worker-b", AssistanceStore(other.engine)),
            )
        ]
        for _ in range(400):  # bounded by scans, not by a clock
            await asyncio.gather(*(w.run_once() for w in workers))
            rows = [await rt.requests.get(rid) for rid in ids]
            if all(r is not None and r.status is AssistanceStatus.COMPLETED for r in rows):
                break
            await asyncio.sleep(0.02)
    finally:
        await other.close()
    assert [r.status if r else None for r in rows] == [AssistanceStatus.COMPLETED] * len(ids)
    for rid in ids:
        kinds = [e.kind for e in await rt.requests.events(rid)]
        assert kinds.count(EventKind.SUBMITTED) == 1, kinds
    assert await ag.executions("land_registry") == {"SEIZE_REAL_ESTATE": len(ids)}


async def test_redis_rate_limiter_shares_one_budget(redis_url: str) -> None:
    a = RedisRateLimiter(redis_url, 10)
    b = RedisRateLimiter(redis_url, 10)
    try:
        waits = [await (a if i % 2 else b).acquire("officer-1") for i in range(14)]
        allowed = [w for w in waits if w == 0]
        assert len(allowed) == 10  # one bucket of 10 for both instances, not 10 each
        assert all(0 < w <= 6.1 for w in waits if w != 0)  # 10/min: one token per 6 s
        assert await a.acquire("officer-2") == 0  # buckets are per principal
        assert a.errors == 0 and b.errors == 0
    finally:
        await a.aclose()
        await b.aclose()


async def test_redis_rate_limiter_falls_back_to_memory() -> None:
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0", 2, timeout_s=0.2)
    try:
        waits = [await limiter.acquire("officer-1") for _ in range(3)]
        assert waits[:2] == [0.0, 0.0] and waits[2] > 0
        assert limiter.errors == 3
    finally:
        await limiter.aclose()


ScreeningPair = tuple[list[Store], list[RedisEventBus], list[ScreeningIndex], list[ScreeningSync]]


@pytest.fixture
async def screening_pair(tmp_path: Path, redis_url: str) -> AsyncIterator[ScreeningPair]:
    """Two instances' stores (one SQLite file), Redis buses, screening indexes and syncs."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    stores = [await Store.open(url), await Store.open(url)]
    buses = [RedisEventBus(redis_url), RedisEventBus(redis_url)]
    indexes = [ScreeningIndex(), ScreeningIndex()]
    syncs = [ScreeningSync(s, i, b) for s, i, b in zip(stores, indexes, buses, strict=True)]
    try:
        for store, index, bus, sync in zip(stores, indexes, buses, syncs, strict=True):
            store.add_restriction_listener(index)
            store.add_restriction_listener(sync)
            await bus.start()
            await sync.start()
        yield stores, buses, indexes, syncs
    finally:
        for store, bus, sync in zip(stores, buses, syncs, strict=True):
            await sync.aclose()
            await bus.aclose()
            await store.close()


async def test_restriction_written_on_one_instance_reaches_the_others_index(
    screening_pair: ScreeningPair,
) -> None:
    stores, _, indexes, syncs = screening_pair
    debtor = "110101199003074477"
    row = await stores[0].add_restriction(
        RestrictionIn(
            debtor_id=debtor,
            kind=RestrictionKind.HIGH_CONSUMPTION_BAN,
            case_number="（2025）苏0311执1号",
            court="江苏省徐州市泉山区人民法院",
            since=date(2025, 1, 1),
        )
    )
    assert indexes[0].lookup(debtor)  # the writer's own index: at once
    for _ in range(500):  # bounded by polls, not by a clock
        if indexes[1].lookup(debtor):
            break
        await asyncio.sleep(0.01)
    assert [m.measure for m in indexes[1].lookup(debtor)] == [RestrictionKind.HIGH_CONSUMPTION_BAN]
    await stores[1].lift_restriction(row.id, "paid in full")
    for _ in range(500):
        if not indexes[0].lookup(debtor):
            break
        await asyncio.sleep(0.01)
    assert indexes[0].lookup(debtor) == ()
    assert syncs[0].applied >= 1 and syncs[1].applied >= 1


async def test_a_restriction_announced_while_a_listener_is_away_reaches_its_index(
    screening_pair: ScreeningPair, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stores, buses, indexes, syncs = screening_pair
    b = buses[1]
    reopen = hold_listener(b, monkeypatch)
    links = b.subscriptions
    client = aioredis.Redis.from_url(redis_url)
    try:  # both instances' bus listeners: the first links again at once, the second waits
        for found in await client.client_list():
            if found["name"] == LISTENER_NAME:
                await client.client_kill_filter(_id=found["id"])
    finally:
        await client.aclose()
    for _ in range(500):
        if not b.listening:
            break
        await asyncio.sleep(0.01)
    assert not b.listening
    debtor = "110101199003074477"
    await stores[0].add_restriction(
        RestrictionIn(
            debtor_id=debtor,
            kind=RestrictionKind.EXIT_BAN,
            case_number="（2025）苏0311执2号",
            court="江苏省徐州市泉山区人民法院",
            since=date(2025, 1, 1),
        )
    )
    assert indexes[1].lookup(debtor) == ()  # the notice went while B was away
    reopen.set()
    for _ in range(500):
        if syncs[1].reloads and b.subscriptions > links:
            break
        await asyncio.sleep(0.01)
    assert [m.measure for m in indexes[1].lookup(debtor)] == [RestrictionKind.EXIT_BAN]
    assert syncs[1].reloads == 1 and syncs[0].reloads == 1  # one each, for its new link
