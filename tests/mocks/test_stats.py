"""/_stats: counts per route, requests in flight, and the per-request log."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web

from mocks.runner import RunningMocks
from mocks.stats import install_stats, note_execution
from mocks.world import World
from tests.mocks.helpers import ps_post, set_faults, stats, wait_in_flight


async def test_counts_per_route(
    http: aiohttp.ClientSession, mocks: RunningMocks, world: World
) -> None:
    base = mocks.urls["civil_affairs"]
    pids = world.person_ids()[:3]
    for pid in pids:
        async with http.get(f"{base}/ca/v2/marriage/{pid}") as resp:
            assert resp.status == 200
    async with http.get(f"{base}/no/such/route") as resp:
        assert resp.status == 404
    await set_faults(http, base, latency_ms=0)  # control routes are not counted
    figures = await stats(http, base)
    assert figures["requests"] == {"GET /ca/v2/marriage/{id}": 3, "GET <unmatched>": 1}
    assert figures["executions"] == {}
    assert figures["in_flight"] == 0
    assert figures["max_in_flight"] == 1
    assert [e["keys"] for e in figures["log"]] == [1, 1, 1, 0]
    assert all(e["route"] == "GET /ca/v2/marriage/{id}" for e in figures["log"][:3])
    assert all(e["start"] <= e["end"] for e in figures["log"])
    assert mocks.stats("civil_affairs").requests["GET /ca/v2/marriage/{id}"] == 3

    async with http.post(f"{base}/_stats/reset") as resp:
        assert resp.status == 200
    figures = await stats(http, base)
    assert figures == {
        "requests": {},
        "executions": {},
        "max_in_flight": 0,
        "in_flight": 0,
        "log": [],
    }


async def test_max_in_flight_proves_overlap(
    http: aiohttp.ClientSession, mocks: RunningMocks, world: World
) -> None:
    # Hold every request with `hang`, see all five in flight at once, then release them.
    base = mocks.urls["public_security"]
    await set_faults(http, base, hang=True)
    ids = world.person_ids()[:5]

    async def one(pid: str) -> int:
        async with await ps_post(http, mocks, "/ps/v1/persons/query", {"ids": [pid]}) as resp:
            return resp.status

    tasks = [asyncio.create_task(one(pid)) for pid in ids]
    await wait_in_flight(http, base, 5)
    async with http.delete(base + "/_faults") as resp:
        assert resp.status == 200
    assert await asyncio.gather(*tasks) == [200] * 5
    figures = await stats(http, base)
    assert figures["max_in_flight"] == 5
    assert figures["in_flight"] == 0
    assert figures["requests"] == {"POST /ps/v1/persons/query": 5}
    # Overlap as the log shows it: every request started before any of them ended.
    log = figures["log"]
    assert max(e["start"] for e in log) <= min(e["end"] for e in log)


async def test_note_execution_counts_control_actions(http: aiohttp.ClientSession) -> None:
    app = web.Application()
    install_stats(app)

    async def seize(request: web.Request) -> web.Response:
        note_execution(request, "SEIZE_REAL_ESTATE")
        return web.json_response({})

    app.router.add_post("/seize", seize)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        base = f"http://{host}:{port}"
        for _ in range(2):
            async with http.post(base + "/seize") as resp:
                assert resp.status == 200
        assert (await stats(http, base))["executions"] == {"SEIZE_REAL_ESTATE": 2}
    finally:
        await runner.cleanup()
