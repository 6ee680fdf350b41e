"""Two gateway instances sharing a store and an event bus (Redis, with the fact cache on it
too; or PostgreSQL's LISTEN/NOTIFY): a control or a restriction made through one makes the
next identical query rebuild its answer on both. Counts from each instance's ``/metrics`` and the answers themselves; waits
are bounded by polls, never timed."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis

from gateway.cli.demo import seed_cases
from gateway.events.postgres_bus import PgRelay, asyncpg_dsn
from gateway.events.redis_bus import LISTENER_NAME
from gateway.events.shared_bus import SharedEventBus
from gateway.store.cases import Store
from gateway.web.services import Services
from mocks.records import CaseRecord
from mocks.runner import RunningMocks, start_mocks
from mocks.world import World
from tests.assertions import nodes
from tests.harness import JUDGE, OFFICER, Gateway, gateway_settings, start_gateway, stop_gateway
from tests.integration.assistance_requests import APPROVE, FAST_WORKER, REQUEST_STATE
from tests.integration.bus_links import hold_listener
from tests.integration.response_cache_support import cache_figures
from tests.integration.test_restrictions import IMPOSE, SIGN
from tests.servers.postgres import PostgresServer
from tests.servers.redis import RedisServer

LOOKUP = """query Look($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) {
  id identity { name provenance { agency fetchedAt cached } }
  restrictions(first: 100) { edges { node { id kind caseNumber status } } } } }"""


@contextlib.asynccontextmanager
async def shared_state(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """The store's URL and the cache settings both instances share, for one relay."""
    if request.param in ("redis", "redis+postgres"):
        # The fact cache and the event bus over Redis; the store one SQLite file, or
        # PostgreSQL (whose store signals nothing: only the bus tells of a change).
        redis: RedisServer = request.getfixturevalue("redis_server")
        redis_url = redis.url(0)
        client = aioredis.Redis.from_url(redis_url)
        try:
            await client.flushdb()  # nothing of an earlier test's facts
        finally:
            await client.aclose()
        cache = {"redis_url": redis_url, "redis_timeout_s": 5.0}
        if request.param == "redis":
            yield f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}", cache
            return
        postgres_: PostgresServer = request.getfixturevalue("postgres_server")
        async with postgres_.database() as url:
            yield url, cache
        return
    # The event bus over PostgreSQL's LISTEN/NOTIFY; each fact cache in its own process.
    postgres: PostgresServer = request.getfixturevalue("postgres_server")
    async with postgres.database() as url:
        yield url, {}


@pytest.fixture
async def own_mocks() -> AsyncIterator[RunningMocks]:
    """Mocks over a world of their own: a control action changes the world it acts on."""
    running = await start_mocks(World(seed=7, people=1000))
    try:
        yield running
    finally:
        await running.aclose()


@pytest.fixture(params=["redis", "redis+postgres", "postgres"])
async def pair(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    own_mocks: RunningMocks,
    cases: list[CaseRecord],
) -> AsyncIterator[tuple[Gateway, Gateway]]:
    mocks = own_mocks
    async with shared_state(request, tmp_path) as (database, cache):
        store = await Store.open(database)
        try:
            await seed_cases(store, cases, [OFFICER], [JUDGE])
        finally:
            await store.close()
        async with contextlib.AsyncExitStack() as exits:
            started: list[Gateway] = []
            for name in ("a", "b"):
                settings = gateway_settings(
                    tmp_path / name,
                    mocks,
                    database_url=database,
                    cache=cache,
                    assistance=FAST_WORKER,
                )
                # Built here, so that a test can reach the instance's event bus.
                services = await Services.start(settings)
                exits.push_async_callback(services.aclose)
                gw = await start_gateway(settings, mocks, court=cases[0].court, services=services)
                exits.push_async_callback(stop_gateway, gw)
                started.append(gw)
            yield started[0], started[1]


async def until(read: Callable[[], Awaitable[Any]], done: Callable[[Any], bool]) -> Any:
    """Poll ``read`` until ``done`` holds; fails after 600 polls."""
    for _ in range(600):
        value = await read()
        if done(value):
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition never held; last value: {value!r}")


async def look(gw: Gateway, debtor: str, number: str) -> dict[str, Any]:
    status, body = await gw.post(LOOKUP, {"id": debtor, "c": number})
    assert status == 200 and "errors" not in body, body
    found: dict[str, Any] = body["data"]["debtor"]
    return found


async def warm(gateways: tuple[Gateway, Gateway], debtor: str, number: str) -> None:
    """Each instance builds the answer, then serves it from its response cache."""
    for gw in gateways:
        await look(gw, debtor, number)
        before = await cache_figures(gw)
        await look(gw, debtor, number)
        assert (await cache_figures(gw))["hits"] == before["hits"] + 1


async def rebuilt_on_both(gateways: tuple[Gateway, Gateway], debtor: str, number: str) -> None:
    """Once each instance has let the kept answer go, the next query builds it again."""
    for gw in gateways:
        await until(functools.partial(cache_figures, gw), lambda f: f["entries"] == 0)
        before = await cache_figures(gw)
        await look(gw, debtor, number)
        after = await cache_figures(gw)
        assert after["hits"] == before["hits"] and after["stored"] == before["stored"] + 1


async def sign_a_listing(a: Gateway, number: str, debtor: str) -> None:
    """A judge lists ``debtor`` as dishonest in ``number`` through ``a``; the president signs."""
    judge = a.token(officer=JUDGE, roles=["judge"])
    listing = {
        "caseNumber": number,
        "debtorId": debtor,
        "kind": "DISHONEST_LIST",
        "documentNumber": "（2026）苏0311执1号之一",
        "ground": "EVADES_ENFORCEMENT",
    }
    _, body = await a.post(IMPOSE, {"input": listing}, token=judge)
    decision = body["data"]["imposeRestriction"]["decision"]["id"]
    president = a.token(officer="president-1", roles=["judge", "president"])
    _, body = await a.post(SIGN, {"id": decision}, token=president)
    assert "errors" not in body, body


async def cut_listener(request: pytest.FixtureRequest, gw: Gateway) -> None:
    """Drop the connection ``gw``'s bus listens on, from the server's side."""
    services = gw.require_services()
    bus = services.assistance.bus  # type: ignore[union-attr]
    assert isinstance(bus, SharedEventBus)
    if request.node.callspec.params["pair"] != "postgres":
        redis: RedisServer = request.getfixturevalue("redis_server")
        client = aioredis.Redis.from_url(redis.url(0))
        try:  # every instance's bus listener (not the fact cache's): B alone is held back
            listeners = [c for c in await client.client_list() if c["name"] == LISTENER_NAME]
            assert listeners
            for found in listeners:
                await client.client_kill_filter(_id=found["id"])
        finally:
            await client.aclose()
        return
    assert isinstance(bus.relay, PgRelay) and bus.relay.listener_pid is not None
    killer = await asyncpg.connect(asyncpg_dsn(services.settings.database_url))
    try:
        assert await killer.fetchval("SELECT pg_terminate_backend($1)", bus.relay.listener_pid)
    finally:
        await killer.close()


async def test_a_control_through_one_instance_rebuilds_the_answer_on_both(
    pair: tuple[Gateway, Gateway], cases: list[CaseRecord], request: pytest.FixtureRequest
) -> None:
    a = pair[0]
    number, debtor = cases[0].number, cases[0].debtor_ids[0]
    await warm(pair, debtor, number)
    assert all(
        r["caseNumber"] != number for r in nodes((await look(a, debtor, number))["restrictions"])
    )
    ban = {"caseNumber": number, "debtorId": debtor, "kind": "EXIT_BAN", "documentNumber": "限出-9"}
    _, body = await a.post(IMPOSE, {"input": ban})
    rid = body["data"]["imposeRestriction"]["assistanceRequest"]["id"]
    _, body = await a.post(APPROVE, {"id": rid, "reason": None}, token=a.token(JUDGE, ["judge"]))
    assert "errors" not in body, body

    async def state() -> dict[str, Any]:
        _, found = await a.post(REQUEST_STATE, {"id": rid})
        return dict(found["data"]["assistanceRequest"])

    await until(state, lambda s: s["status"] == "COMPLETED")
    await rebuilt_on_both(pair, debtor, number)
    if request.node.callspec.params["pair"] != "postgres":
        # Only a shared fact cache is told of the other instance's invalidation: without
        # Redis each instance's fact cache keeps the exit bans it fetched until their TTL.
        for gw in pair:
            shown = nodes((await look(gw, debtor, number))["restrictions"])
            assert any(r["kind"] == "EXIT_BAN" and r["caseNumber"] == number for r in shown)


async def test_a_restriction_through_one_instance_rebuilds_the_answer_on_both(
    pair: tuple[Gateway, Gateway], cases: list[CaseRecord]
) -> None:
    a = pair[0]
    number, debtor = cases[0].number, cases[0].debtor_ids[0]
    await warm(pair, debtor, number)
    await sign_a_listing(a, number, debtor)
    await rebuilt_on_both(pair, debtor, number)
    for gw in pair:
        kinds = {r["kind"] for r in nodes((await look(gw, debtor, number))["restrictions"])}
        assert "DISHONEST_LIST" in kinds


async def test_a_restriction_made_while_b_reconnects_still_rebuilds_b_answer(
    pair: tuple[Gateway, Gateway],
    cases: list[CaseRecord],
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = pair
    number, debtor = cases[0].number, cases[0].debtor_ids[0]
    await warm(pair, debtor, number)
    bus = b.services.assistance.bus  # type: ignore[union-attr]
    assert isinstance(bus, SharedEventBus)
    # B's listener stays away until the test lets it back: the restriction happens meanwhile.
    reopen = hold_listener(bus, monkeypatch)
    subscriptions, received = bus.subscriptions, bus.received
    await cut_listener(request, b)

    async def listening() -> bool:
        return bus.listening

    await until(listening, lambda up: not up)
    await sign_a_listing(a, number, debtor)
    assert bus.received == received  # B missed the notice
    reopen.set()

    async def linked() -> tuple[bool, int]:
        return bus.listening, bus.subscriptions

    await until(linked, lambda s: s[0] and s[1] > subscriptions)
    # At once, not after a wait: a kept answer would be served until its facts' TTL.
    before = await cache_figures(b)
    kinds = {r["kind"] for r in nodes((await look(b, debtor, number))["restrictions"])}
    assert "DISHONEST_LIST" in kinds
    assert (await cache_figures(b))["hits"] == before["hits"]
    kinds = {r["kind"] for r in nodes((await look(b, debtor, number))["restrictions"])}
    assert "DISHONEST_LIST" in kinds
